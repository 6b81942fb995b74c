"""The topic-model benchmark runs at a tiny size and reports every model on both corpora."""

import math

import jax
import pytest

from tests.scripts import load_script


@pytest.mark.filterwarnings("ignore::mmdbm.AISWarning")  # 8 chains x 50 betas
def test_the_benchmark_scores_every_model_on_the_same_documents(tmp_path, capsys):
    topic_models = load_script("benchmarks/topic_models.py")
    with jax.numpy_dtype_promotion("standard"):  # optax.adam raises floats to int powers
        results = topic_models.main("tiny", tmp_path / "topic_models.json")
    assert list(results) == ["reuters", "lee"]
    for corpus in results.values():
        names = [row["model"] for row in corpus["rows"]]
        assert names == [
            "unigram",
            "LDA, 3 topics",
            *(f"Replicated Softmax, {recipe}" for recipe in topic_models.RECIPES),
        ]
        for row in corpus["rows"]:
            scores = [v for k, v in row.items() if k.startswith(("perplexity", "completion"))]
            assert all(math.isfinite(v) and v > 1 for v in scores)
        assert corpus["completion"] == topic_models.SIZES["tiny"]["completion_documents"]
    output = capsys.readouterr().out
    assert "| unigram |" in output and "document completion" in output
