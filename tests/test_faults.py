"""The faults the library survives: nothing a user saved is lost, nothing wrong passes silently.

Each test is one reproduction, in the order of the list of faults it answers: two runs on one
work directory, a divergence the guard used to miss, damaged checkpoints, settings checked late,
resumes with other settings, colliding layer names, AIS edge cases, non-finite numbers, and the
smaller mistakes that gave tracebacks or unclear messages.
"""

import json
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import jax
import numpy as np
import optax
import pytest

import mmdbm as mm
from experiments import cli
from mmdbm.checkpoint import Checkpoints, CorruptCheckpointError
from mmdbm.workdir_lock import WorkdirBusyError, owned

TINY_RUN = [
    "--config",
    "mnist_rbm",
    "--config.data.limit=200",
    "--config.pretrain.num_epochs=1",
    "--config.train.num_epochs=1",
    "--config.train.num_chains=20",
    "--no-report",
]


def mmdbm(*argv) -> int:
    return cli.main([str(a) for a in argv])


def binary_data(rows: int = 60, seed: int = 0) -> dict:
    return {"v": (np.random.default_rng(seed).random((rows, 6)) < 0.3).astype(np.float32)}


def fit_tiny(workdir: Path | None, **overrides):
    model = mm.rbm(mm.Bernoulli(6), 4)
    settings = {
        "num_epochs": 3,
        "batch_size": 10,
        "num_chains": 10,
        "workdir": workdir,
        "progress": False,
        "data": binary_data(),
    } | overrides
    key = settings.pop("key", jax.random.key(0))
    return mm.fit(key, model, settings.pop("data"), **settings)


class LockHolder:
    """Another process holding a work directory until it is closed."""

    def __init__(self, directory: Path):
        script = (
            "import sys\nfrom mmdbm.workdir_lock import owned\n"
            "with owned(sys.argv[1]):\n    print('held', flush=True)\n    sys.stdin.read()\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "held"

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


# 1. Two runs on one work directory.


def test_a_second_process_is_refused_a_held_workdir_naming_the_holder(tmp_path, capsys):
    holder = LockHolder(tmp_path / "run")
    try:
        with pytest.raises(WorkdirBusyError, match=rf"in use by process {holder.process.pid}"):
            fit_tiny(tmp_path / "run")
        assert mmdbm("train", *TINY_RUN, "--workdir", tmp_path / "run") == 2
        assert "in use by process" in capsys.readouterr().err
    finally:
        holder.close()
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock"]
    fit_tiny(tmp_path / "run")  # free again once the holder is gone


def test_a_second_thread_is_refused_and_the_owner_may_reenter(tmp_path):
    refused = []

    def second_fit():
        try:
            fit_tiny(tmp_path)
        except WorkdirBusyError as error:
            refused.append(error)

    with owned(tmp_path):
        thread = threading.Thread(target=second_fit)
        thread.start()
        thread.join()
        fit_tiny(tmp_path, num_epochs=1)  # the owning thread's own fit
    assert len(refused) == 1


# 2. The divergence guard sees more than non-finite parameters.


def test_garbage_from_unstandardised_data_with_learned_sigma_stops_training():
    model = mm.rbm(mm.Gaussian(4, learn_sigma=True), 3)
    data = {"v": np.random.default_rng(0).normal(1e7, 1e6, (40, 4)).astype(np.float32)}
    with pytest.raises(mm.TrainingDivergedError, match=r"diverged at step 1 .*not finite"):
        mm.fit(
            jax.random.key(0),
            model,
            data,
            params=model.init(jax.random.key(1)),
            num_epochs=3,
            batch_size=10,
            num_chains=10,
            progress=False,
        )


@pytest.mark.filterwarnings("ignore::mmdbm.CollapseWarning")
def test_weights_past_the_bound_stop_training_and_pretraining():
    model = mm.dbm(mm.Bernoulli(20), [10, 5])
    data = {"v": (np.random.default_rng(0).random((200, 20)) < 0.3).astype(np.float32)}
    with pytest.raises(mm.TrainingDivergedError, match=r"weights of '.*' reach .*bound 1000"):
        mm.fit(
            jax.random.key(0),
            model,
            data,
            optimizer=optax.sgd(1000.0),
            num_epochs=5,
            batch_size=20,
            num_chains=20,
            progress=False,
        )
    with pytest.raises(mm.TrainingDivergedError, match=r"pretraining diverged.*bound 1000"):
        mm.pretrain(
            jax.random.key(0),
            model,
            data,
            learning_rate=1e4,
            num_epochs=2,
            batch_size=10,
            progress=False,
        )


# 3. Damaged checkpoints.


def damage(checkpoint: Path, how: str) -> None:
    largest = max((p for p in checkpoint.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if how == "truncated":
        largest.write_bytes(largest.read_bytes()[:100])
    else:
        data = bytearray(largest.read_bytes())
        for i in range(len(data) // 2, len(data) // 2 + 8):
            data[i] ^= 0xFF
        largest.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "bytes flipped"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(tmp_path, how):
    uninterrupted, _ = fit_tiny(tmp_path)
    damage(tmp_path / "checkpoints" / "3", how)
    with pytest.warns(UserWarning, match="checkpoint of epoch 3 .*trying an older checkpoint"):
        resumed, history = fit_tiny(tmp_path, num_epochs=3, resume=True)
    assert [entry["epoch"] for entry in history] == [1, 2, 3]
    for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(uninterrupted), strict=True):
        np.testing.assert_array_equal(a, b)


def test_arrays_that_fail_their_checksum_are_refused_and_none_intact_is_one_error(tmp_path):
    tree = {"w": np.arange(12.0, dtype=np.float32)}
    with Checkpoints(tmp_path) as checkpoints:
        checkpoints.save(1, tree)
    stored = tmp_path / "1" / "checksum" / "metadata"
    record = json.loads(stored.read_text())
    record["sha256"] = "0" * 64
    stored.write_text(json.dumps(record))
    with Checkpoints(tmp_path) as checkpoints:
        with pytest.raises(ValueError, match=r"another state: \['w'\] is float32\[12\] there"):
            checkpoints.restore(1, {"w": np.zeros(13, np.float32)})
        with pytest.raises(CorruptCheckpointError, match="fail their checksum"):
            checkpoints.restore(1, tree)
        with pytest.warns(UserWarning), pytest.raises(CorruptCheckpointError, match="none of"):
            checkpoints.restore_newest(tree)


# 4. The command line checks its settings before it writes anything.


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("--config.train.num_epochs=0", "'train.num_epochs' must be a positive int, got 0"),
        ("--config.train.batch_size=0", "'train.batch_size' must be a positive int, got 0"),
        ("--config.data.limit=10", "'pretrain.batch_size' is 100, more than the"),
        ("--config.seed=-1", "'seed' must be an int >= 0, got -1"),
        ("--config.train.learning_rate=-0.01", "must be a positive finite rate, got -0.01"),
        ("--config.train.learning_rate=1e999", "must be a positive finite rate, got inf"),
    ],
)
def test_bad_settings_are_refused_before_the_run_directory_exists(
    tmp_path, capsys, override, message
):
    assert mmdbm("train", *TINY_RUN, override, "--workdir", tmp_path / "run") == 2
    error = capsys.readouterr().err
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "run").exists()


# 5 and 6. A resume continues the same run or is refused.


def test_a_cli_resume_extends_the_run_and_refuses_other_settings(tmp_path, capsys):
    run = tmp_path / "run"
    assert mmdbm("train", *TINY_RUN, "--workdir", run) == 0
    assert mmdbm("train", *TINY_RUN, "--workdir", run, "--config.train.batch_size=50") == 2
    assert "already holds a run" in capsys.readouterr().err
    changed = [*TINY_RUN, "--config.train.batch_size=50"]
    assert mmdbm("train", *changed, "--workdir", run, "--resume") == 2
    assert "train.batch_size=100 (now 50)" in capsys.readouterr().err
    other = ["--config", "mnist_dbm", *TINY_RUN[2:]]
    assert mmdbm("train", *other, "--workdir", run, "--resume") == 2
    assert "cannot resume the run" in capsys.readouterr().err
    longer = [*TINY_RUN, "--config.train.num_epochs=2"]
    assert mmdbm("train", *longer, "--workdir", run, "--resume") == 0
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert json.loads((run / "config.json").read_text())["train"]["num_epochs"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": 20}, "batch_size was 10, now 20"),
        ({"num_chains": 20}, "num_chains was 10, now 20"),
        ({"data": binary_data(seed=1)}, "data differs"),
        ({"key": jax.random.key(1)}, "rng_key differs"),
        ({"optimizer": optax.adam(1e-3)}, "optimizer differs"),
        ({"num_epochs": 1}, "has trained 2 epochs, more than num_epochs=1"),
    ],
)
def test_a_fit_resume_with_other_settings_is_refused(tmp_path, change, message):
    fit_tiny(tmp_path, num_epochs=2)
    with pytest.raises(ValueError, match=message):
        fit_tiny(tmp_path, resume=True, **change)


# 7. Generated layer names.


@pytest.mark.parametrize(
    ("pathways", "message"),
    [
        (
            {"x": (mm.Gaussian(4), [3]), "x_h1": (mm.Bernoulli(5), [2, 2])},
            r"pathway 'x': its layer names \['x_h1'\] collide",
        ),
        ({"joint": (mm.Gaussian(4), [3])}, "'joint': the name is reserved"),
    ],
)
def test_multimodal_layer_names_that_collide_or_are_reserved_are_refused(pathways, message):
    with pytest.raises(ValueError, match=message):
        mm.multimodal_dbm(pathways, joint=2)


# 8. AIS edge cases.


def test_ais_with_three_inverse_temperatures_runs_to_beta_one():
    model = mm.rbm(mm.Bernoulli(4), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.AISWarning)
        result = mm.ais(jax.random.key(0), model, model.init(jax.random.key(0)), num_betas=3)
    assert np.isfinite(float(result.log_z))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_chains": 1}, "num_chains must be an int >= 2"),
        ({"schedule": np.array([0.0, np.nan, 1.0])}, "array of numbers from 0 to 1"),
    ],
)
def test_ais_settings_without_a_meaningful_estimate_are_refused(kwargs, message):
    model = mm.rbm(mm.Bernoulli(4), 3)
    with pytest.raises(ValueError, match=message):
        mm.ais(jax.random.key(0), model, model.init(jax.random.key(0)), **kwargs)


def test_the_ais_result_itself_is_refused_as_log_z():
    model = mm.rbm(mm.Bernoulli(4), 3)
    params = model.init(jax.random.key(0))
    result = mm.ais(jax.random.key(0), model, params, num_chains=10, num_betas=10)
    with pytest.raises(ValueError, match=r"pass the estimate itself \(result.log_z"):
        mm.log_likelihood(model, params, {"v": np.zeros((2, 4))}, result)


# 9. Non-finite and nonsensical numbers.


def test_params_holding_nan_are_refused_everywhere():
    model = mm.rbm(mm.Bernoulli(4), 3)
    params = model.init(jax.random.key(0))
    params = params.replace(weights={"v->h": params.weights["v->h"] * np.nan})
    message = r"params.weights\['v->h'\] holds non-finite values"
    with pytest.raises(ValueError, match=message):
        mm.sample(jax.random.key(0), model, params, num_chains=2, num_steps=2)
    with pytest.raises(ValueError, match=message):
        mm.mean_field(model, params, {"v": np.zeros((2, 4))})
    with pytest.raises(ValueError, match=message):
        mm.fit(
            jax.random.key(0),
            model,
            {"v": np.zeros((4, 4))},
            params=params,
            num_epochs=1,
            batch_size=2,
            progress=False,
        )


def test_init_refuses_empty_data_and_the_optimizer_refuses_bad_rates():
    with pytest.raises(ValueError, match="layer 'v' has no rows"):
        mm.rbm(mm.Bernoulli(4), 3).init(jax.random.key(0), {"v": np.zeros((0, 4))})
    for rate in (-0.01, float("nan"), 0.0):
        with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
            mm.default_optimizer(10, learning_rate=rate)


# 10. Other raw tracebacks and unclear messages.


def test_a_config_file_with_a_syntax_error_names_the_file_and_line(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("def get_config(:\n")
    assert mmdbm("train", "--config", broken, "--workdir", tmp_path / "run") == 2
    assert f"config file {broken}: line 1" in capsys.readouterr().err


def test_a_workdir_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    assert mmdbm("train", *TINY_RUN, "--workdir", tmp_path / "file") == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "mine"


def test_a_checkpoint_directory_replaced_by_a_file_is_one_error_and_the_file_is_kept(tmp_path):
    fit_tiny(tmp_path, num_epochs=1)
    shutil.rmtree(tmp_path / "checkpoints")
    (tmp_path / "checkpoints").write_text("mine")
    with pytest.raises(ValueError, match="checkpoints is a file; move it away"):
        fit_tiny(tmp_path, num_epochs=2, resume=True)
    assert (tmp_path / "checkpoints").read_text() == "mine"


def test_a_corrupt_saved_config_names_the_file(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{not json")
    assert mmdbm("evaluate", "--workdir", tmp_path) == 2
    assert f"{tmp_path / 'config.json'} is not a readable config" in capsys.readouterr().err


def test_the_history_survives_a_deleted_metrics_file(tmp_path):
    _, history = fit_tiny(tmp_path, num_epochs=2)
    (tmp_path / "metrics.jsonl").unlink()
    _, resumed = fit_tiny(tmp_path, num_epochs=3, resume=True)
    assert resumed[:2] == history and [entry["epoch"] for entry in resumed] == [1, 2, 3]
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3


def test_a_workdir_that_cannot_be_created_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match=r"cannot use .* as a workdir: Not a directory"):
        fit_tiny(tmp_path / "file" / "run")


def test_resuming_nothing_is_refused_and_lost_checkpoints_are_said(tmp_path, capsys):
    assert mmdbm("train", *TINY_RUN, "--workdir", tmp_path / "run", "--resume") == 2
    assert "holds no run to resume" in capsys.readouterr().err
    fit_tiny(tmp_path, num_epochs=1)
    shutil.rmtree(tmp_path / "checkpoints")
    with pytest.warns(UserWarning, match="no checkpoints left; it starts again from epoch 1"):
        fit_tiny(tmp_path, num_epochs=1, resume=True)


def test_an_empty_tag_query_is_refused(tmp_path, capsys):
    assert mmdbm("generate", "--workdir", tmp_path, "--tags", "") == 2
    assert "each bag of words needs at least one word" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("layers", "edges", "message"),
    [
        ([mm.Bernoulli(3), mm.Bernoulli(2)], [("v", "h")], "layers must be a dict"),
        ({"v": mm.Bernoulli(3), "h": mm.Bernoulli(2)}, None, "edges must be a list"),
        ({"v": mm.Bernoulli(3), "h": mm.Bernoulli(2)}, ["v->h"], "must be a .lower, upper. pair"),
    ],
)
def test_a_model_built_from_the_wrong_kinds_of_arguments_says_so(layers, edges, message):
    with pytest.raises(ValueError, match=message):
        mm.Model(layers, edges)


def test_ctrl_c_during_training_is_one_line_saying_how_to_resume(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.pipeline, "train", interrupted)
    assert mmdbm("train", *TINY_RUN, "--workdir", tmp_path / "run") == 130
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "same command and --resume" in error
