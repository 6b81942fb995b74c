"""The layer-probe benchmark runs at a tiny size and reports every probe of every budget."""

import json

from tests.scripts import load_script


def test_layer_probes_score_every_layer_at_every_budget(tmp_path, capsys):
    probes = load_script("benchmarks/layer_probes.py")
    rows = probes.main("tiny", tmp_path / "probes.json")
    assert json.loads((tmp_path / "probes.json").read_text()) == rows
    assert [row["epochs"] for row in rows] == list(probes.SIZES["tiny"]["budgets"])
    columns = [*probes.PROBES, *(f"unimodal {layer}" for layer in probes.UNIMODAL_PROBES)]
    for row in rows:
        assert all(0.0 <= row[column] <= 1.0 for column in columns)
    assert "| 0 |" in capsys.readouterr().out
