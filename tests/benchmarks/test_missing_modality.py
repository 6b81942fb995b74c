"""The missing-modality benchmark runs end to end at a tiny size and prints its table."""

from tests.scripts import load_script


def test_the_missing_modality_benchmark_scores_every_model_and_setting(tmp_path, capsys):
    benchmark = load_script("benchmarks/missing_modality.py")
    rows = benchmark.main("tiny", tmp_path / "rows.json")
    settings = benchmark.SIZES["tiny"]["settings"]
    assert len(rows) == 1 + 2 * len(settings)  # mean-field, then the DBM and the DBN each
    assert {r["model"] for r in rows} == {"DBM", "DBN"}
    for row in rows:
        expected, observed = (float(x) for x in row["gap_closed"].split(" / "))
        assert abs(expected) < 50 and abs(observed) < 50
    assert "| digits_tags | DBN |" in capsys.readouterr().out
