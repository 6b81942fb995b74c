"""The ``mmdbm`` command line: every config trains at a tiny size, the reports and sweeps are
written, and mistakes end in one line and exit status 2."""

import json
import math

import pytest

from experiments import cli
from experiments.config import available
from tests.datasets.mirflickr_files import write_mirflickr

TINY = [
    "--config.data.limit=200",
    "--config.pretrain.num_epochs=1",
    "--config.train.num_epochs=1",
    "--config.train.num_chains=20",
    "--config.evaluate.num_inference_steps=5",
    "--config.evaluate.num_ais_chains=10",
    "--config.evaluate.num_ais_betas=50",
    "--config.evaluate.num_documents=3",
    "--config.evaluate.num_topics=5",
]


def mmdbm(*argv) -> int:
    return cli.main([str(a) for a in argv])


def test_the_bundled_configs_are_the_documented_six():
    assert available() == [
        "mirflickr",
        "mnist_dbm",
        "mnist_rbm",
        "mnist_tags",
        "multifeature",
        "reuters_rsm",
    ]


@pytest.mark.parametrize("name", ["mnist_rbm", "mnist_dbm", "reuters_rsm", "multifeature"])
def test_every_config_trains_at_a_tiny_size(name, tmp_path):
    workdir = tmp_path / name
    assert mmdbm("train", "--config", name, "--workdir", workdir, "--no-report", *TINY) == 0
    assert json.loads((workdir / "config.json").read_text())["train"]["num_epochs"] == 1
    assert len((workdir / "metrics.jsonl").read_text().splitlines()) == 1
    assert (workdir / "checkpoints").is_dir() and (workdir / "model").is_dir()


def test_the_paper_config_trains_on_files_in_the_released_layout(tmp_path):
    write_mirflickr(tmp_path / "flickr")
    small = [
        f"--config.data.directory={tmp_path / 'flickr'}",
        "--config.modalities.image.hidden=(8, 8)",
        "--config.modalities.text.hidden=(8, 8)",
        "--config.joint=8",
        "--config.pretrain.batch_size=4",
        "--config.train.batch_size=4",
    ]
    workdir = tmp_path / "run"
    assert mmdbm("train", "--config", "mirflickr", "--workdir", workdir, *TINY, *small) == 0
    results = json.loads((workdir / "results.json").read_text())
    assert {"map", "precision_at_50"} <= set(results["classification"][0])


def test_demo_config_writes_the_report_and_generates(tmp_path, capsys):
    workdir = tmp_path / "tags"
    assert mmdbm("train", "--config", "mnist_tags", "--workdir", workdir, *TINY) == 0
    report = (workdir / "report.md").read_text()
    for heading in ("Classification", "two claims", "Retrieval", "Tag generation"):
        assert heading in report
    for figure in ("classification.png", "tags.png", "retrieval.png"):
        assert (workdir / figure).stat().st_size > 1000
    table = json.loads((workdir / "results.json").read_text())["classification"]
    assert [row["model"] for row in table[:4]] == ["Multimodal DBM"] * 2 + ["Image DBM"] + [
        "Multimodal DBM"
    ]
    assert len(table) == 9 and all(0 <= row["accuracy"] <= 1 for row in table)
    capsys.readouterr()
    assert mmdbm("generate", "--workdir", workdir, "--images", 0, 1, "--tags", "seven odd") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("test image 0: ") and len(lines[0].split(": ")[1].split()) == 5
    assert lines[2].startswith("'seven odd': test image rows ")


def test_a_sweep_of_two_seeds_and_two_learning_rates(tmp_path):
    workdir = tmp_path / "sweep"
    argv = ["sweep", "--config", "mnist_rbm", "--workdir", workdir, "--seeds", 0, 1]
    assert mmdbm(*argv, "--grid", "train.learning_rate=0.01,0.001", *TINY) == 0
    records = json.loads((workdir / "sweep.json").read_text())
    assert sorted((r["seed"], r["settings"]["train.learning_rate"]) for r in records) == [
        (0, 0.001),
        (0, 0.01),
        (1, 0.001),
        (1, 0.01),
    ]
    table = (workdir / "sweep.md").read_text().splitlines()
    assert len(table) == 4 and "+-" in table[2] and "test_log_likelihood" in table[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--config", "nope"], "unknown config 'nope'; the configs are"),
        (["train", "--config", "mnist_rbm", "--config.train.epochs=3"], "unknown config key"),
        (["train", "--config", "mnist_rbm", "--config.train.num_epochs=many"], "holds a int"),
        (["train", "--config", "mnist_rbm", "--config.train=3"], "is a group"),
        (["train", "--config", "mnist_rbm", "--config.data.limit"], "must look like"),
        (["train", "--config", "mnist_rbm", "--epochs=3"], "unrecognised arguments"),
        (["train", "--config", "mirflickr"], "flickr_data.tar.gz"),
        (["evaluate", "--workdir", "absent"], "holds no run"),
        (["sweep", "--config", "mnist_rbm", "--grid", "train.learning_rate"], "KEY=VALUE1"),
    ],
)
def test_mistakes_end_in_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert mmdbm(*argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("mmdbm: error: ") and message in error
    assert error.count("\n") == 1


def test_a_run_is_never_overwritten(tmp_path, capsys):
    workdir = tmp_path / "run"
    argv = ["train", "--config", "mnist_rbm", "--workdir", workdir, "--no-report", *TINY]
    assert mmdbm(*argv) == 0
    saved = (workdir / "config.json").read_text()
    assert mmdbm(*argv) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (workdir / "config.json").read_text() == saved


def test_compare_writes_one_table_of_every_model(tmp_path):
    workdir = tmp_path / "compare"
    argv = ["compare", "--config", "mnist_tags", "--seeds", 3, "--workdir", workdir, *TINY]
    assert mmdbm(*argv, "--config.baselines.num_epochs=1") == 0
    results = json.loads((workdir / "compare.json").read_text())
    models = {row["model"] for row in results["summary"]}
    assert {
        "Multimodal DBM",
        "Image DBM",
        "Multimodal DBN",
        "Multimodal autoencoder",
        "Dual encoder (contrastive)",
        "Dual encoder, zero-shot",
        "Logistic regression",
        "Linear SVM",
        "LDA (5 topics)",
    } <= models
    for row in results["summary"]:
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["map"] <= 1 and row["accuracy_std"] == 0
    table = (workdir / "compare.md").read_text()
    assert table.count("\n| ") == len(results["summary"]) + 1  # a header and every row
    assert (workdir / "compare.png").stat().st_size > 0
    assert mmdbm(*argv) == 2  # never overwritten


@pytest.mark.filterwarnings("ignore::mmdbm.AISWarning")  # 10 chains x 50 inverse temperatures
@pytest.mark.parametrize(
    ("name", "figures"),
    [
        ("mnist_rbm", ("reverse AIS from the training rows", "conservative")),
        ("reuters_rsm", ("Replicated Softmax, forward AIS", "Replicated Softmax, reverse AIS")),
    ],
)
def test_density_reports_give_forward_and_reverse_estimates(name, figures, tmp_path):
    workdir = tmp_path / name
    assert mmdbm("train", "--config", name, "--workdir", workdir, *TINY) == 0
    report = (workdir / "report.md").read_text()
    assert all(figure in report for figure in figures), report
    results = json.loads((workdir / "results.json").read_text())
    key = "reverse_test_log_likelihood" if name == "mnist_rbm" else "reverse_perplexity"
    assert math.isfinite(results[key])
