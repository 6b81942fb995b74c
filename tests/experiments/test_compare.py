"""The comparison table's arithmetic: one row per model and input, mean and standard
deviation over the seeds."""

import numpy as np
import pytest

from experiments.compare import markdown, summarise


def test_summary_is_the_mean_and_std_over_seeds_of_each_row():
    tables = [
        [
            {"model": "A", "input": "both", "accuracy": a, "map": m},
            {"model": "B", "input": "image", "accuracy": b, "map": 0.5},
        ]
        for a, m, b in ((0.9, 0.8, 0.1), (0.7, 0.6, 0.3), (0.8, 1.0, 0.2))
    ]
    tables[1].reverse()  # rows are matched by model and input, not by position
    summary = summarise(tables)
    assert [(r["model"], r["input"]) for r in summary] == [("A", "both"), ("B", "image")]
    assert summary[0]["accuracy"] == pytest.approx(0.8)
    assert summary[0]["accuracy_std"] == pytest.approx(np.std([0.9, 0.7, 0.8]))
    assert summary[0]["map_std"] == pytest.approx(np.std([0.8, 0.6, 1.0]))
    assert summary[1]["map_std"] == 0.0
    assert "| A | both | 0.800 +- 0.082 | 0.800 +- 0.163 |" in markdown(summary, 3)
