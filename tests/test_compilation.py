"""Compile once: equal settings (fresh but equal estimators and optimizers, new keys, new data of
the same shapes) reuse the compiled programs of every entry point, counted through JAX's
compilation events; JAX's disk cache serves a second process."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import mmdbm as mm
from mmdbm import dbn
from mmdbm.compilation import StaticOptimizer, enable_persistent_cache, static_partial
from tests.synthetic import paired_classes
from tests.tracing import count_compilations, count_traces

RBM = mm.rbm(mm.Bernoulli(6), 4)
MULTIMODAL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(16), [8]), "text": (mm.ReplicatedSoftmax(12), [6])}, joint=5
)


def binary_data(seed: int, num: int = 120) -> dict:
    rng = np.random.default_rng(seed)
    return {"v": (rng.random((num, 6)) < 0.3).astype(np.float32)}


def paired(seed: int, num: int = 60) -> dict:
    data = paired_classes(num, seed=seed)
    return {"image": data["image"], "text": data["text"]}


def test_static_partials_compare_by_function_and_arguments():
    assert static_partial(max, 1, key=abs) == static_partial(max, 1, key=abs)
    assert hash(static_partial(max, 1)) == hash(static_partial(max, 1))
    assert static_partial(max, 1) != static_partial(max, 2)
    assert static_partial(max, 1) != static_partial(min, 1)
    assert static_partial(max, 3, 1)(2) == 3


def test_estimators_of_equal_settings_are_equal():
    assert mm.pcd(RBM) == mm.pcd(RBM)
    assert hash(mm.pcd(RBM, num_gibbs_steps=2)) == hash(mm.pcd(RBM, num_gibbs_steps=2))
    assert mm.pcd(RBM) != mm.pcd(RBM, num_gibbs_steps=2)
    assert mm.cd(RBM, k=3) == mm.cd(RBM, k=3) != mm.cd(RBM, k=1)
    assert mm.pcd(RBM) != mm.pcd(mm.rbm(mm.Bernoulli(6), 5))


def test_optimizers_are_keyed_by_what_they_compute():
    params = RBM.init(jax.random.key(0))

    def key(optimizer):
        return StaticOptimizer.of(optimizer, params)

    assert key(optax.sgd(0.01, momentum=0.9)) == key(optax.sgd(0.01, momentum=0.9))
    assert key(mm.default_optimizer(100)) == key(mm.default_optimizer(100))
    assert key(optax.sgd(0.01, momentum=0.9)) != key(optax.sgd(0.02, momentum=0.9))
    assert key(mm.default_optimizer(100)) != key(mm.default_optimizer(200))
    assert key(optax.sgd(0.01, momentum=0.9)) != key(optax.sgd(0.01, momentum=0.9, nesterov=True))
    scaled = [optax.scale(jnp.asarray(rate)) for rate in (0.1, 0.2)]
    assert key(scaled[0]) != key(scaled[1])  # constants captured as arrays count too
    bigger = mm.rbm(mm.Bernoulli(6), 5).init(jax.random.key(0))
    assert key(optax.sgd(0.01)) != StaticOptimizer.of(optax.sgd(0.01), bigger)


def test_an_optimizer_passed_again_is_traced_once():
    params = RBM.init(jax.random.key(0))
    traced = []

    def update(updates, state, params=None):
        traced.append(True)
        return updates, state

    optimizer = optax.GradientTransformation(lambda params: optax.EmptyState(), update)
    keys = {StaticOptimizer.of(optimizer, params).key for _ in range(3)}
    assert len(keys) == 1 and len(traced) == 1
    StaticOptimizer.of(optimizer, mm.rbm(mm.Bernoulli(6), 5).init(jax.random.key(0)))
    assert len(traced) == 2  # other shapes, another program


def test_a_loop_of_fits_with_fresh_equal_settings_compiles_once():
    def one_fit(seed: int) -> None:
        mm.fit(
            jax.random.key(seed),
            RBM,
            binary_data(seed),
            optimizer=optax.sgd(0.01, momentum=0.9),
            estimator=mm.pcd(RBM, num_gibbs_steps=1),
            num_epochs=2,
            batch_size=20,
            num_chains=10,
            progress=False,
        )

    one_fit(0)
    with count_traces() as traces, count_compilations() as compilations:
        for seed in (1, 2, 3):
            one_fit(seed)
    assert traces["_train_epoch"] == 0 and compilations["_train_epoch"] == 0
    assert sum(compilations.values()) == 0, compilations


def test_fits_with_the_default_optimizer_compile_once():
    with count_compilations() as compilations:
        for seed in (0, 1):
            mm.fit(
                jax.random.key(seed),
                RBM,
                binary_data(seed),
                num_epochs=2,
                batch_size=20,
                num_chains=10,
                progress=False,
            )
    assert compilations["_train_epoch"] == 1


def _second_call_compiles_nothing(call) -> None:
    call(0)
    with count_compilations() as compilations:
        call(1)
    assert sum(compilations.values()) == 0, compilations


def test_pretraining_again_compiles_nothing():
    _second_call_compiles_nothing(
        lambda seed: mm.pretrain(
            jax.random.key(seed),
            MULTIMODAL,
            paired(seed),
            num_epochs=2,
            batch_size=20,
            progress=False,
        )
    )


@pytest.fixture(scope="module")
def multimodal_params():
    return MULTIMODAL.init(jax.random.key(5), paired(5), weight_scale=0.3)


@pytest.mark.parametrize(
    "call",
    [
        lambda p, seed: mm.sample(jax.random.key(seed), MULTIMODAL, p, num_chains=7, num_steps=3),
        lambda p, seed: mm.mean_field(MULTIMODAL, p, {"image": paired(seed)["image"]}),
        lambda p, seed: mm.infer_missing(
            jax.random.key(seed), MULTIMODAL, p, {"image": paired(seed)["image"]}, num_steps=4
        ),
        lambda p, seed: mm.infer_missing(
            None, MULTIMODAL, p, {"image": paired(seed)["image"]}, method="mean_field"
        ),
        lambda p, seed: mm.represent(
            MULTIMODAL, p, {"image": paired(seed)["image"]}, key=jax.random.key(seed)
        ),
        lambda p, seed: mm.ais(jax.random.key(seed), MULTIMODAL, p, num_chains=8, num_betas=50),
        lambda p, seed: mm.metrics.logistic_probe(
            paired(seed)["image"], paired_classes(60, seed)["labels"], paired(seed)["image"]
        ),
    ],
    ids=["sample", "mean_field", "infer_gibbs", "infer_mean_field", "represent", "ais", "probe"],
)
def test_calling_again_with_new_keys_and_data_compiles_nothing(call, multimodal_params):
    _second_call_compiles_nothing(lambda seed: call(multimodal_params, seed))


def test_the_deep_belief_net_compiles_once():
    def train_and_infer(seed: int) -> None:
        net = dbn.train_dbn(
            jax.random.key(seed),
            MULTIMODAL,
            paired(seed),
            num_epochs=2,
            batch_size=20,
            progress=False,
        )
        dbn.infer_missing(jax.random.key(seed), net, {"image": paired(seed)["image"]})
        dbn.represent(jax.random.key(seed), net, {"text": paired(seed)["text"]})

    _second_call_compiles_nothing(train_and_infer)


def test_a_second_process_reads_the_compiled_programs_from_the_disk_cache(tmp_path):
    script = (
        "import jax, numpy as np, mmdbm as mm\n"
        "from mmdbm.compilation import enable_persistent_cache\n"
        f"enable_persistent_cache({str(tmp_path / 'cache')!r})\n"
        "m = mm.rbm(mm.Bernoulli(6), 4)\n"
        "x = (np.random.default_rng(0).random((40, 6)) < 0.3).astype(np.float32)\n"
        "mm.fit(jax.random.key(0), m, {'v': x}, num_epochs=1, batch_size=20, progress=False)\n"
    )

    def run_and_list() -> set:
        subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            env={"JAX_PLATFORMS": "cpu", **__import__("os").environ},
        )
        return {path.name for path in (tmp_path / "cache").iterdir()}

    first = run_and_list()
    assert any("train_epoch" in name for name in first), first
    assert run_and_list() == first  # nothing compiled anew, so nothing written


def test_the_disk_cache_is_switched_off_by_one_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MMDBM_COMPILATION_CACHE", "off")
    assert enable_persistent_cache() is None
    monkeypatch.setenv("MMDBM_COMPILATION_CACHE", str(tmp_path / "here"))
    previous = jax.config.jax_compilation_cache_dir
    try:
        assert enable_persistent_cache() == tmp_path / "here"
        assert (tmp_path / "here").is_dir()
    finally:
        jax.config.update("jax_compilation_cache_dir", previous)
