"""The layer-probe benchmark runs at a tiny size and reports every figure of every budget."""

import json
import math

from tests.scripts import load_script


def test_layer_probes_score_every_layer_and_the_tags_at_every_budget(tmp_path, capsys):
    probes = load_script("benchmarks/layer_probes.py")
    rows = probes.main("tiny", tmp_path / "probes.json")
    assert json.loads((tmp_path / "probes.json").read_text()) == rows
    budgets = list(probes.SIZES["tiny"]["budgets"])
    assert [(row["dataset"], row["epochs"]) for row in rows] == [
        (name, epochs) for name in ("mnist_tags", "digits_tags") for epochs in budgets
    ]
    columns = [*probes.PROBES, *(f"unimodal {layer}" for layer in probes.UNIMODAL_PROBES)]
    for row in rows:
        assert all(0.0 <= row[column] <= 1.0 for column in columns)
        assert math.isfinite(row["tags gap closed"])
    assert "| digits_tags | 0 |" in capsys.readouterr().out
