"""The DBN-pretraining benchmark scores a row at a tiny size and prints it."""

import math

from tests.scripts import load_script


def test_a_row_trains_the_dbn_and_reports_every_figure(capsys):
    benchmark = load_script("benchmarks/dbn_pretraining.py")
    quality = load_script("benchmarks/quality.py")
    digits = quality.paired_datasets(quality.SIZES["tiny"])[1]
    row = benchmark.dbn_row(digits, epochs=1)
    assert (row["dataset"], row["epochs"]) == ("digits_tags", 1)
    assert all(
        math.isfinite(row[key])
        for key in ("joint_probe", "query_only_probe", "query_only_spread", "generated")
    )
    assert 0 <= row["floor"] <= 1 and 0 <= row["generated"] <= 1
    benchmark.print_table([row])
    assert "| digits_tags | 1 |" in capsys.readouterr().out
