"""The speed benchmark runs end to end at a tiny size (that it works, not how fast)."""

import json

from tests.scripts import load_script


def test_speed_benchmark_runs_and_writes_every_figure(tmp_path, capsys):
    speed = load_script("benchmarks/speed.py")
    results = speed.main("tiny", tmp_path / "speed.json")
    assert json.loads((tmp_path / "speed.json").read_text()) == results
    assert results["roofline_gflops"] > 0
    for job in ("rbm", "dbm", "multimodal", "ais"):
        assert results[job]["seconds"] > 0 and results[job]["gflops"] > 0
    assert results["rbm"]["sklearn_seconds"] > 0 and results["sweep"]["speedup"] > 0
    assert min(results["rbm"]["floor"].values()) > 0
    assert results["rsm_lengths"]["all_lengths_seconds"] > 0
    assert results["rsm_lengths"]["length_path_seconds"] > 0
    assert "scikit-learn" in capsys.readouterr().out


def test_flop_count_of_an_rbm_step_is_scikit_learns():
    speed = load_script("benchmarks/speed.py")
    rbm = speed.mm.rbm(speed.mm.Bernoulli(784), 500)
    # positive pass and outer product per example; Gibbs step (two products), negative pass
    # and outer product per chain.
    assert speed.pcd_flops(rbm, 100, 100, sweeps=0, gibbs=1) == 2 * 784 * 500 * (2 * 100 + 4 * 100)
