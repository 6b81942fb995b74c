"""fit: learning (exact KL divergence), one compilation, checkpoints, resume, divergence, checks."""

import json

import chex
import jax
import numpy as np
import optax
import pytest

import mmdbm as mm
from mmdbm.checkpoint import Checkpoints
from mmdbm.training.loop import FIT_GIBBS_STEPS, FIT_MEAN_FIELD_STEPS
from tests import brute_force
from tests.tracing import count_traces

RBM = mm.rbm(mm.Bernoulli(6), 4)
DBM = mm.dbm(mm.Bernoulli(6), [4, 3])


def teacher_data(model, num=2000):
    teacher = brute_force.random_params(model, 40, weight_scale=1.5)
    return {"v": mm.sample(jax.random.key(40), model, teacher, num_chains=num, num_steps=100)["v"]}


def kl_from_data(model, params, data):
    """KL(empirical data distribution || model), exact by enumeration."""
    rows, counts = np.unique(np.asarray(data["v"]), axis=0, return_counts=True)
    p = counts / counts.sum()
    log_q = np.asarray(mm.exact_log_prob(model, params, {"v": rows}), np.float64)
    return float(np.sum(p * (np.log(p) - log_q)))


@pytest.mark.parametrize("model", [RBM, DBM], ids=["rbm", "dbm"])
def test_fit_lowers_the_exact_kl_divergence_fourfold(model):
    data = teacher_data(model)
    before = kl_from_data(model, model.init(jax.random.key(41), data), data)
    params, history = mm.fit(
        jax.random.key(42),
        model,
        data,
        num_epochs=20,
        batch_size=50,
        optimizer=mm.default_optimizer(20 * 40, learning_rate=0.1),
        progress=False,
    )
    after = kl_from_data(model, params, data)
    assert after < before / 4, (before, after)
    assert [entry["epoch"] for entry in history] == list(range(1, 21))
    assert history[-1]["step"] == 20 * 40


def test_pretraining_a_dbm_lowers_the_kl_divergence_and_helps_fit():
    data = teacher_data(DBM)
    before = kl_from_data(DBM, DBM.init(jax.random.key(41), data), data)
    pretrained = mm.pretrain(
        jax.random.key(43),
        DBM,
        data,
        num_epochs=10,
        batch_size=50,
        learning_rate=0.05,
        progress=False,
    )
    assert kl_from_data(DBM, pretrained, data) < before / 1.5


def test_the_default_estimator_takes_20_gibbs_steps_and_5_mean_field_sweeps():
    data = teacher_data(DBM, num=200)
    start = brute_force.random_params(DBM, 41, weight_scale=2.0)  # mean-field needs many sweeps

    def trained(estimator=None):
        settings = {"num_epochs": 3, "batch_size": 20, "progress": False, "params": start}
        return mm.fit(jax.random.key(45), DBM, data, estimator=estimator, **settings)[0]

    def explicitly(sweeps):
        return trained(mm.pcd(DBM, num_gibbs_steps=20, num_mean_field_steps=sweeps))

    assert (FIT_GIBBS_STEPS, FIT_MEAN_FIELD_STEPS) == (20, 5)
    default = trained()
    chex.assert_trees_all_equal(default, explicitly(5))
    ten = explicitly(10)  # the papers' sweeps train another model
    assert not all(np.array_equal(default.weights[k], ten.weights[k]) for k in ten.weights)


@pytest.mark.parametrize("prng", ["threefry2x32", "philox4x32"])
def test_resuming_from_a_checkpoint_is_bit_identical(tmp_path, prng):
    data = teacher_data(DBM, num=200)
    key = jax.random.key(0, impl=prng)
    settings = {
        "batch_size": 20,
        "optimizer": optax.sgd(optax.exponential_decay(0.05, 10, 0.9), momentum=0.5),
        "num_chains": 10,
        "progress": False,
    }
    whole, _ = mm.fit(key, DBM, data, num_epochs=4, **settings)
    mm.fit(key, DBM, data, num_epochs=2, workdir=tmp_path, **settings)
    resumed, history = mm.fit(
        key, DBM, data, num_epochs=4, workdir=tmp_path, resume=True, **settings
    )
    chex.assert_trees_all_equal(resumed, whole)
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4]
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    assert Checkpoints(tmp_path / "checkpoints").epochs() == (2, 3, 4)


def test_a_workdir_with_checkpoints_is_never_overwritten(tmp_path):
    data = teacher_data(RBM, num=100)
    mm.fit(
        jax.random.key(0), RBM, data, num_epochs=1, batch_size=20, workdir=tmp_path, progress=False
    )
    with pytest.raises(ValueError, match="already holds checkpoints"):
        mm.fit(jax.random.key(0), RBM, data, num_epochs=1, batch_size=20, workdir=tmp_path)


def test_divergence_stops_with_the_step_and_keeps_a_restorable_checkpoint(tmp_path):
    model = mm.rbm(mm.Gaussian(6), 4)
    data = {"v": np.random.default_rng(0).normal(size=(100, 6))}
    optimizer = optax.sgd(10.0)
    with pytest.raises(
        mm.TrainingDivergedError,
        match=r"diverged at step \d+ \(epoch \d+\): the .*; the checkpoints of epochs \[\d",
    ):
        mm.fit(
            jax.random.key(0),
            model,
            data,
            num_epochs=20,
            batch_size=10,
            workdir=tmp_path,
            optimizer=optimizer,
            progress=False,
        )
    checkpoints = Checkpoints(tmp_path / "checkpoints")
    template = mm.TrainState.create(
        jax.random.key(0), model.init(jax.random.key(0)), optimizer, mm.pcd(model)
    )
    restored = checkpoints.restore(checkpoints.latest_epoch(), template)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(restored.params))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 500}, "batch_size=500 is larger than the 100 examples"),
        ({"data": {}}, r"visible layers \['v'\] are missing"),
        ({"data": {"v": np.zeros((100, 5))}}, "layer 'v' has 6 units"),
        ({"data": {"v": np.zeros((100, 6)), "h": np.zeros((100, 4))}}, "hidden layers"),
        ({"num_epochs": 0}, "num_epochs must be a positive int"),
        ({"resume": True}, "resume=True needs the workdir"),
        ({"chain_start": "zeros"}, "chain_start must be one of"),
        ({"lengths": {"v": 3}}, 'pass chain_start="biases" with lengths'),
    ],
)
def test_bad_arguments_raise_before_compiling(kwargs, message):
    arguments = {"data": {"v": np.zeros((100, 6))}, "num_epochs": 1, "batch_size": 10, **kwargs}
    data = arguments.pop("data")
    key = jax.random.key(0)
    with count_traces() as traces, pytest.raises(ValueError, match=message):
        mm.fit(key, RBM, data, **arguments)
    assert sum(traces.values()) == 0


def test_history_records_each_hidden_layers_activation_and_spread(tmp_path):
    data = teacher_data(DBM, num=200)
    _, history = mm.fit(
        jax.random.key(0),
        DBM,
        data,
        num_epochs=2,
        batch_size=20,
        workdir=tmp_path,
        progress=False,
    )
    for entry in history:
        assert set(entry["activation"]) == set(entry["spread"]) == {"h1", "h2"}
        assert all(0 <= value <= 1 for value in entry["activation"].values())
    written = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [entry["spread"] for entry in written] == [entry["spread"] for entry in history]


def test_a_layer_that_collapses_is_named_once_with_its_epoch():
    """Weight decay strong enough to empty the weights makes the hidden means the same for
    every input: the spread falls from well above the threshold to zero."""
    data = teacher_data(RBM, num=200)
    params = brute_force.random_params(RBM, 1, weight_scale=2.0)
    decaying = optax.chain(optax.add_decayed_weights(19.0), optax.sgd(0.05))
    with pytest.warns(mm.CollapseWarning, match=r"epoch \d+: hidden layers collapsed.*'h'") as seen:
        mm.fit(
            jax.random.key(0),
            RBM,
            data,
            params=params,
            optimizer=decaying,
            num_epochs=6,
            batch_size=20,
            progress=False,
        )
    assert len([w for w in seen if issubclass(w.category, mm.CollapseWarning)]) == 1


def test_a_healthy_layer_raises_no_collapse_warning():
    """Learning from small initial weights: the spread grows, and nothing is said (the suite
    turns warnings into errors)."""
    data = teacher_data(RBM, num=400)
    _, history = mm.fit(jax.random.key(0), RBM, data, num_epochs=5, batch_size=20, progress=False)
    assert history[-1]["spread"]["h"] > history[0]["spread"]["h"]
