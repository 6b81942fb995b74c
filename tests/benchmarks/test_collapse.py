"""The collapse benchmark finds the first collapsed epoch and scores a row at a tiny size."""

import math

from tests.scripts import load_script


def test_the_first_collapse_is_the_first_low_spread_after_a_high_one():
    collapse = load_script("benchmarks/collapse.py")
    assert collapse.first_collapse([0.001, 0.002, 0.3, 0.2, 0.004, 0.5]) == 5
    assert collapse.first_collapse([0.001, 0.002, 0.003]) is None
    assert collapse.first_collapse([0.3, 0.2, 0.1]) is None


def test_a_row_trains_one_setting_and_reports_every_figure(capsys):
    collapse = load_script("benchmarks/collapse.py")
    quality = load_script("benchmarks/quality.py")
    digits = quality.paired_datasets(quality.SIZES["tiny"])[1]
    row = collapse.collapse_row(
        digits, pretrain_epochs=1, gibbs_steps=2, epochs=2, learning_rate=0.005
    )
    assert (row["dataset"], row["pretrain_epochs"], row["gibbs_steps"]) == ("digits_tags", 1, 2)
    assert all(
        math.isfinite(row[key])
        for key in ("pretrained_joint_spread", "joint_spread", "lowest_spread", "joint_probe")
    )
    assert row["lowest_spread"] >= 0 and row["collapse_epoch"] in (None, 1, 2)
    collapse.print_table([row])
    assert "| digits_tags | 1 | 2 |" in capsys.readouterr().out
