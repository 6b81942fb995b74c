"""The topic-model benchmark runs at a tiny size and reports every model."""

import math

from tests.scripts import load_script


def test_the_benchmark_scores_every_model_on_the_same_documents(tmp_path, capsys):
    topic_models = load_script("benchmarks/topic_models.py")
    table = topic_models.main("tiny", tmp_path / "topic_models.json")
    names = [row["model"] for row in table]
    assert names[:2] == ["unigram", "LDA, 3 topics"]
    assert names[2].startswith("Replicated Softmax, forward AIS")
    assert names[3].startswith("Replicated Softmax, reverse AIS")
    assert all(math.isfinite(row["perplexity"]) and row["perplexity"] > 1 for row in table)
    assert "| unigram |" in capsys.readouterr().out
