"""The quality benchmark runs end to end at a tiny size and prints its table."""

from tests.scripts import load_script


def test_quality_benchmark_runs_at_a_tiny_size(capsys):
    quality = load_script("benchmarks/quality.py")
    quality.main(hidden=[8, 6], num_epochs=1, num_betas=20, learning_rate=0.01)
    output = capsys.readouterr().out
    assert "RBM 64-8" in output and "DBM 64-8-6" in output
    assert "mean-field lower bounds" in output
