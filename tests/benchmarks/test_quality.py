"""The quality benchmark runs end to end at a tiny size and prints its three tables."""

import json

from tests.scripts import load_script


def test_quality_benchmark_runs_at_a_tiny_size_and_writes_every_row(tmp_path, capsys):
    quality = load_script("benchmarks/quality.py")
    results = quality.main("tiny", tmp_path / "quality.json")
    assert json.loads((tmp_path / "quality.json").read_text()) == results
    assert len(results["mnist"]) == 2 * 2 * 3  # budgets x centering x (RBM, DBM pretrained or not)
    assert {r["dataset"] for r in results["multimodal"]} == {
        "mnist_tags",
        "digits_tags",
        "multifeature pix + fou",
        "multifeature fac + kar",
    }
    assert [r["centered"] for r in results["flip"]] == [True, False]
    output = capsys.readouterr().out
    assert "MNIST" in output and "multimodal robustness" in output and "flip invariance" in output
