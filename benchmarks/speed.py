"""Speed benchmark: mmdbm against scikit-learn and against the hardware, in one process.

Every figure is the median of several timed repeats after a warm-up call, on the same data
(the 5,000 bundled MNIST digits, float32), and is printed in one table and written as JSON:

- roofline: float32 matmul GFLOP/s of this backend at a large size;
- RBM 784-500 PCD-1 epoch (batch 100, 100 chains) against scikit-learn's ``BernoulliRBM``
  (``n_iter=1, batch_size=100``), and its achieved GFLOP/s as a fraction of the roofline;
- DBM 784-500-1000 PCD epoch (10 mean-field sweeps, 5 Gibbs steps) and the demo's multimodal
  DBM training step, each with its fraction of the roofline;
- AIS on the RBM (100 chains x 10,000 inverse temperatures), and on a Replicated Softmax RBM
  for many document lengths at once against one length at a time, and for every length of the
  Reuters test split, against the time its matrix products alone take at the measured peak;
- the RBM and multimodal epochs with Philox keys against Threefry keys, timed in turn;
- compile time of each jitted step, and 8 RBMs trained as one vmapped program against the
  same 8 one after another; peak resident memory.

FLOPs are those of the algorithm, not of the implementation: a PCD step costs, for each weight
matrix of ``n_a x n_b`` units, ``2 n_a n_b`` per matrix product, used ``2 S`` times per example
for ``S`` mean-field sweeps (once for an RBM, whose posterior is exact), once for the data
statistics, ``2 K`` times per chain for ``K`` Gibbs steps and twice more per chain for the model
statistics (as scikit-learn's RBM step: positive pass, Gibbs step, negative pass, two outer
products). An AIS step on an RBM costs four matrix products per chain.

The RBM row also prints a floor: the same epoch's matrix products alone (three per step: the
chains' visible units from their hidden ones, then data and chains stacked through ``W`` and
through the outer product, which is the fewest an RBM step can do) plus its Threefry uniforms
(one per sampled unit). No implementation on this backend that draws exact samples can run the
epoch faster, so ``scikit-learn / floor`` is the largest speed-up any could show, and a sweep of
``n`` RBMs cannot beat ``n`` floors, however it batches them: vmapping stacks the weights into a
batched product whose every member has the shapes of one RBM's. Beside the floor, the same
epoch written by hand for its shapes (sigmoids, a key per chain, momentum, a finiteness check
each step) shows what a specialised program doing mmdbm's work costs here, so that mmdbm's
ratio to it is the cost of the generic graph code, centering and monitoring.

Run: ``python benchmarks/speed.py`` (``--size gpu`` for accelerator sizes, ``--size tiny`` to
check that it runs).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.neural_network import BernoulliRBM

import mmdbm as mm
from mmdbm.inference.gibbs import advance
from mmdbm.inference.mean_field import mean_field_batch
from mmdbm.training.state import train_epoch

SIZES = {
    "tiny": {
        "matmul": 256,
        "hidden": [32, 64],
        "chains": 20,
        "betas": 100,
        "examples": 400,
        "repeats": 2,
        "sweep": 3,
        "rsm_betas": 10,
        "rsm_lengths": 3,
        "length_betas": 30,
    },
    "cpu": {
        "matmul": 2048,
        "hidden": [500, 1000],
        "chains": 100,
        "betas": 10_000,
        "examples": 5000,
        "repeats": 5,
        "sweep": 8,
        "rsm_betas": 100,
        "rsm_lengths": 32,
        "length_betas": 10_000,
    },
    "gpu": {
        "matmul": 8192,
        "hidden": [4096, 4096],
        "chains": 10_000,
        "betas": 10_000,
        "examples": 5000,
        "repeats": 10,
        "sweep": 8,
        "rsm_betas": 1000,
        "rsm_lengths": 32,
        "length_betas": 10_000,
    },
}
BATCH = 100
PAUSE_SECONDS = 0.5
PRNGS = ("threefry2x32", "philox4x32")


def median_seconds(*runs: Callable[[], object], repeats: int) -> list[float]:
    """Median wall time of each ``run()`` (results blocked on) over ``repeats``, after a
    warm-up. The runs take turns, so that drifts in the machine's load hit them alike, and
    each timed call starts after a pause, so that the worker threads of whatever ran before
    (XLA's, or NumPy's BLAS threads) have stopped spinning and the cores are free.
    """
    for run in runs:
        jax.block_until_ready(run())
    times = [[] for _ in runs]
    for _ in range(repeats):
        for run, taken in zip(runs, times, strict=True):
            time.sleep(PAUSE_SECONDS)
            start = time.perf_counter()
            jax.block_until_ready(run())
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


def steady_seconds(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run()`` called ``10 * repeats`` times back to back after a
    warm-up: for jobs of milliseconds, which a pause before each call would slow down (the
    worker threads go to sleep)."""
    jax.block_until_ready(run())
    taken = []
    for _ in range(10 * repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        taken.append(time.perf_counter() - start)
    return statistics.median(taken)


def roofline(size: int, repeats: int) -> float:
    """Float32 GFLOP/s of one ``size x size`` matmul."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    matmul = jax.jit(jnp.matmul)
    (seconds,) = median_seconds(lambda: matmul(a, b), repeats=repeats)
    return 2 * size**3 / seconds / 1e9


def pcd_flops(model: mm.Model, batch: int, chains: int, sweeps: int, gibbs: int) -> float:
    """FLOPs of one PCD step by the count in the module doc."""
    data_uses = 1 if len(model.layers) == 2 else 2 * sweeps
    return sum(
        2
        * model.layers[a].n
        * model.layers[b].n
        * (batch * (data_uses + 1) + chains * (2 * gibbs + 2))
        for a, b in model.edges
    )


def first_call_seconds(run: Callable[[], object]) -> float:
    """Wall time of the first ``run()``: tracing and compiling included."""
    start = time.perf_counter()
    jax.block_until_ready(run())
    return time.perf_counter() - start


def pcd_epoch(
    model: mm.Model,
    data: dict,
    *,
    chains: int,
    sweeps: int,
    gibbs: int,
    centering: bool = True,
    prng: str | None = None,
) -> Callable[[], object]:
    """One PCD epoch of ``model`` on ``data`` from a fixed state, as a call to time; ``prng``
    names the random-number generator of its keys (default: JAX's, Threefry)."""
    estimator = mm.pcd(
        model, num_gibbs_steps=gibbs, num_mean_field_steps=sweeps, centering=centering
    )
    optimizer = optax.sgd(1e-3, momentum=0.9)
    params = model.init(jax.random.key(0), data)
    key = jax.random.key(1, impl=prng)
    state = mm.TrainState.create(key, params, optimizer, estimator, num_chains=chains)
    static = {"estimator": estimator, "optimizer": optimizer, "batch_size": BATCH}
    return lambda: train_epoch(state, data, **static)


def epoch_benchmark(
    model: mm.Model,
    data: dict,
    *,
    chains: int,
    sweeps: int,
    gibbs: int,
    repeats: int,
    peer: Callable[[], object] | None = None,
) -> dict:
    """Seconds per PCD epoch, its compile time and GFLOP/s; with ``peer``, the seconds of that
    peer's epoch too, timed in turn with ours."""
    epoch = pcd_epoch(model, data, chains=chains, sweeps=sweeps, gibbs=gibbs)
    first = first_call_seconds(epoch)
    runs = [epoch] + ([peer] if peer else [])
    seconds, *peer_seconds = median_seconds(*runs, repeats=repeats)
    compile_time = first - seconds
    steps = next(iter(data.values())).shape[0] // BATCH
    flops = steps * pcd_flops(model, BATCH, chains, sweeps, gibbs)
    results = {"seconds": seconds, "compile_seconds": compile_time, "gflops": flops / seconds / 1e9}
    return {**results, "peer_seconds": peer_seconds[0]} if peer else results


def rbm_floor(visible: int, hidden: int, *, chains: int, steps: int, repeats: int) -> dict:
    """Seconds of an RBM epoch's matrix products alone and of its random numbers alone (the
    floor), and of the whole PCD-1 epoch written by hand for these shapes only: what a
    specialised JAX program doing mmdbm's work (sigmoids, a key per chain, momentum, the
    finiteness check of every step) costs on this backend, without the generic graph code,
    the centering or the monitoring."""
    keys = jax.random.split(jax.random.key(0), 3)
    weights = 0.01 * jax.random.normal(keys[0], (visible, hidden), jnp.float32)
    data = (jax.random.uniform(keys[1], (steps, BATCH, visible)) < 0.2).astype(jnp.float32)

    @jax.jit
    def products(weights: jax.Array, data: jax.Array) -> jax.Array:
        def step(carry, batch):
            weights, chain_hidden = carry
            chain_visible = chain_hidden @ weights.T
            both = jnp.concatenate([batch, chain_visible])
            hidden_means = both @ weights
            return (weights + 1e-6 * (both.T @ hidden_means), hidden_means[BATCH:]), None

        start = (weights, jnp.zeros((chains, hidden), jnp.float32))
        return jax.lax.scan(step, start, data)[0][0]

    @jax.jit
    def uniforms(key: jax.Array) -> jax.Array:
        def step(total, key):
            return total + jnp.sum(jax.random.uniform(key, (chains, visible + hidden))), None

        return jax.lax.scan(step, jnp.zeros(()), jax.random.split(key, steps))[0]

    def draw(keys: jax.Array, means: jax.Array) -> jax.Array:
        return jax.vmap(lambda key, mean: jax.random.bernoulli(key, mean).astype(jnp.float32))(
            keys, means
        )

    @jax.jit
    def handwritten(weights: jax.Array, data: jax.Array, key: jax.Array) -> jax.Array:
        def step(carry, inputs):
            weights, velocity, chain_hidden = carry
            batch, key = inputs
            visible_keys, hidden_keys = jnp.unstack(jax.random.split(key, (2, chains)))
            chain_visible = draw(visible_keys, jax.nn.sigmoid(chain_hidden @ weights.T))
            both = jnp.concatenate([batch, chain_visible])
            hidden_means = jax.nn.sigmoid(both @ weights)
            signs = jnp.concatenate([jnp.full(BATCH, 1 / BATCH), jnp.full(chains, -1 / chains)])
            velocity = 0.9 * velocity + (both.T * signs[None, :]) @ hidden_means
            weights = weights + 1e-3 * velocity
            chain_hidden = draw(hidden_keys, hidden_means[BATCH:])
            return (weights, velocity, chain_hidden), jnp.all(jnp.isfinite(weights))

        start = (weights, jnp.zeros_like(weights), jnp.zeros((chains, hidden), jnp.float32))
        return jax.lax.scan(step, start, (data, jax.random.split(key, steps)))

    matmul_seconds, random_seconds, handwritten_seconds = median_seconds(
        lambda: products(weights, data),
        lambda: uniforms(keys[2]),
        lambda: handwritten(weights, data, keys[2]),
        repeats=repeats,
    )
    return {
        "matmul_seconds": matmul_seconds,
        "random_seconds": random_seconds,
        "handwritten_seconds": handwritten_seconds,
    }


def prng_benchmark(models: dict, *, chains: int, repeats: int) -> dict:
    """Seconds of a PCD epoch of each of ``models`` (``{name: (model, data, sweeps, gibbs)}``)
    with Philox keys and with Threefry keys (JAX's default), timed in turn. On XLA:CPU
    Threefry is lowered as a loop of five rounds whose every pass costs a few microseconds of
    dispatch, whatever the size of the draw, and a Gibbs step draws once per layer."""
    results = {}
    for name, (model, data, sweeps, gibbs) in models.items():
        epochs = [
            pcd_epoch(model, data, chains=chains, sweeps=sweeps, gibbs=gibbs, prng=prng)
            for prng in PRNGS
        ]
        results[name] = dict(zip(PRNGS, median_seconds(*epochs, repeats=repeats), strict=True))
    return results


def rsm_lengths_benchmark(*, chains: int, betas: int, num_lengths: int, length_betas: int) -> dict:
    """AIS of a Replicated Softmax RBM 2000-50 (initialised from the Reuters training split)
    at every distinct length of the Reuters test documents: the whole test split in one call
    of ``mm.ais`` (groups of similar lengths, one compiled program), timed on its second call;
    the ``num_lengths`` shortest lengths in one call against one call per length, one after
    the other; and what a step of the whole split must do: its chains, words drawn and FLOPs.
    Then the whole split in one call of ``mm.ais_over_lengths`` with ``length_betas`` points,
    timed once, compilation included."""
    reuters = mm.datasets.load("reuters")
    rsm = mm.rbm(mm.ReplicatedSoftmax(reuters["train"]["text"].shape[1]), 50)
    params = rsm.init(jax.random.key(0), {"v": reuters["train"]["text"]}, weight_scale=0.05)
    every = sorted(set(reuters["test"]["text"].sum(axis=1).astype(int).tolist()))
    shortest = every[:num_lengths]
    settings = {"num_chains": chains, "num_betas": betas}

    def all_of(lengths):
        return lambda: mm.ais(jax.random.key(1), rsm, params, lengths={"v": lengths}, **settings)

    def one_by_one():
        return [all_of(m)().log_z for m in shortest]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.AISWarning)
        (whole,) = median_seconds(lambda: all_of(every)().log_z, repeats=1)
        grouped, looped = median_seconds(lambda: all_of(shortest)().log_z, one_by_one, repeats=1)
        start = time.perf_counter()
        mm.ais_over_lengths(
            jax.random.key(1), rsm, params, {"v": every}, num_chains=chains, num_betas=length_betas
        ).log_z.block_until_ready()
        length_path = time.perf_counter() - start
    # a Gibbs transition per chain: the words' logits from the hidden units and the hidden
    # units' field from the words, two products of chains x 2000 x 50
    flops = 2 * 2 * chains * len(every) * rsm.layers["v"].n * rsm.layers["h"].n
    return {
        "lengths": len(shortest),
        "seconds": grouped,
        "one_by_one_seconds": looped,
        "all_lengths": len(every),
        "all_lengths_seconds": whole,
        "transitions": betas - 1 + mm.evaluation.ais.base_gibbs_steps(betas),
        "words_per_transition": chains * sum(every),
        "flops_per_transition": flops,
        "length_path_betas": length_betas,
        "length_path_seconds": length_path,
    }


def sklearn_rbm_epoch(images: np.ndarray, hidden: int) -> Callable[[], object]:
    """One epoch of scikit-learn's ``BernoulliRBM.fit`` at the benchmark's sizes."""

    def run():
        rbm = BernoulliRBM(n_components=hidden, n_iter=1, batch_size=BATCH, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rbm.fit(images)

    return run


def sweep_benchmark(model: mm.Model, data: dict, *, chains: int, count: int, repeats: int) -> dict:
    """``count`` RBMs trained one epoch: one after another (a call each), and as one program
    (``mm.train_epoch_many``) with the models vmapped and with them in turn (``lax.map``)."""
    estimator = mm.pcd(model, num_gibbs_steps=1, num_mean_field_steps=0)
    optimizer = optax.sgd(1e-3, momentum=0.9)
    states = [
        mm.TrainState.create(
            jax.random.key(i),
            model.init(jax.random.key(100 + i), data),
            optimizer,
            estimator,
            num_chains=chains,
        )
        for i in range(count)
    ]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)
    stacked_data = jax.tree.map(lambda x: jnp.stack([x] * count), data)
    static = {"estimator": estimator, "optimizer": optimizer, "batch_size": BATCH}

    def together(vectorize: bool):
        return lambda: mm.train_epoch_many(stacked, stacked_data, **static, vectorize=vectorize)

    one_by_one, vmapped, mapped = median_seconds(
        lambda: [train_epoch(s, data, **static) for s in states],
        together(True),
        together(False),
        repeats=repeats,
    )
    default = jax.default_backend() != "cpu"
    return {
        "sequential_seconds": one_by_one,
        "vmapped_seconds": vmapped,
        "mapped_seconds": mapped,
        "default": "vmapped" if default else "mapped",
        "speedup": one_by_one / (vmapped if default else mapped),
    }


def fit_loop_benchmark(
    model: mm.Model, images: np.ndarray, *, chains: int, seeds: int, epochs: int, repeats: int
) -> dict:
    """``mm.fit`` of the RBM for each of ``seeds`` seeds in a Python loop, ``epochs`` epochs
    each, with a fresh estimator and optimizer every time (as people write it), against
    scikit-learn's ``BernoulliRBM.fit`` in the same loop. The first loop (compiling) is timed
    on its own; the others reuse its programs."""
    hidden = model.layers["h"].n

    def ours():
        return [
            mm.fit(
                jax.random.key(seed),
                model,
                {"v": images},
                optimizer=optax.sgd(1e-3, momentum=0.9),
                estimator=mm.pcd(model, num_gibbs_steps=1, num_mean_field_steps=0),
                num_epochs=epochs,
                batch_size=BATCH,
                num_chains=chains,
                progress=False,
            )[0]
            for seed in range(seeds)
        ]

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [
                BernoulliRBM(
                    n_components=hidden, n_iter=epochs, batch_size=BATCH, random_state=seed
                ).fit(images)
                for seed in range(seeds)
            ]

    first = first_call_seconds(ours)
    seconds, sklearn_seconds = median_seconds(ours, theirs, repeats=repeats)
    return {"first_seconds": first, "seconds": seconds, "sklearn_seconds": sklearn_seconds}


def multimodal_breakdown(
    model: mm.Model, data: dict, *, chains: int, sweeps: int, gibbs: int, repeats: int
) -> dict:
    """Where a multimodal PCD step's time goes: its ``sweeps`` mean-field sweeps over a
    batch, its ``gibbs`` Gibbs steps of the chains and, within those, the Replicated Softmax
    draws, each compiled alone at the step's shapes; the rest of the step (gradient, update)
    is the step's time less these."""
    params = model.init(jax.random.key(0), data)
    batch = {name: values[:BATCH] for name, values in data.items()}
    estimator = mm.pcd(model, num_gibbs_steps=gibbs, num_mean_field_steps=sweeps, centering=False)
    chains = estimator.init(jax.random.key(1), params, chains)
    text = next(n for n, u in model.layers.items() if isinstance(u, mm.ReplicatedSoftmax))
    total = jnp.float32(dict(params.lengths)[text])
    fields = jax.random.normal(jax.random.key(2), (gibbs, chains.layers[text].shape[0], 100))

    @jax.jit
    def mean_field(params: mm.Params, batch: dict) -> dict:
        return mean_field_batch(model, params, batch, {}, sweeps, 0.0)

    @jax.jit
    def gibbs_steps(key: jax.Array, chains: mm.GibbsState, params: mm.Params) -> dict:
        return advance(model, key, chains, params, gibbs)[0].layers

    @jax.jit
    def draws(key: jax.Array) -> jax.Array:
        def one(key: jax.Array, field: jax.Array) -> jax.Array:
            return model.layers[text].sample(key, field, params.biases[text], None, total)

        return jax.vmap(jax.vmap(one))(jax.random.split(key, fields.shape[:2]), fields)

    return {
        "mean_field_seconds": steady_seconds(lambda: mean_field(params, batch), repeats),
        "gibbs_seconds": steady_seconds(
            lambda: gibbs_steps(jax.random.key(3), chains, params), repeats
        ),
        "multinomial_seconds": steady_seconds(lambda: draws(jax.random.key(4)), repeats),
    }


def ais_benchmark(model: mm.Model, params: mm.Params, *, chains: int, betas: int) -> dict:
    """Seconds of one AIS run (compile excluded) and its GFLOP/s."""
    run = partial(mm.ais, model=model, params=params, num_chains=chains, num_betas=betas)
    jax.block_until_ready(run(jax.random.key(0)).log_z)
    start = time.perf_counter()
    jax.block_until_ready(run(jax.random.key(1)).log_z)
    seconds = time.perf_counter() - start
    ((a, b),) = model.edges
    flops = (betas - 1) * chains * 4 * 2 * model.layers[a].n * model.layers[b].n
    return {"seconds": seconds, "gflops": flops / seconds / 1e9}


def main(size: str, output: Path) -> dict:
    s = SIZES[size]
    dataset = mm.datasets.load("mnist_tags")
    parts = ("train", "validation", "test")
    images = np.concatenate([dataset[p]["image"] for p in parts])[: s["examples"]]
    text = np.concatenate([dataset[p]["text"] for p in parts])[: s["examples"]]
    device = jax.devices()[0]
    backend = jax.default_backend()
    print(f"machine: {platform.machine()}, {jax.device_count()} x {device.device_kind} ({backend})")
    results = {
        "machine": platform.machine(),
        "backend": backend,
        "device": device.device_kind,
        "jax": jax.__version__,
        "size": size,
        "hidden": s["hidden"],
        "roofline_gflops": roofline(s["matmul"], s["repeats"]),
    }
    repeats, chains = s["repeats"], s["chains"]
    rbm = mm.rbm(mm.Bernoulli(784), s["hidden"][0])
    rbm_data = {"v": jnp.asarray(images)}
    results["rbm"] = epoch_benchmark(
        rbm,
        rbm_data,
        chains=chains,
        sweeps=0,
        gibbs=1,
        repeats=repeats,
        peer=sklearn_rbm_epoch(images, s["hidden"][0]),
    )
    results["rbm"]["sklearn_seconds"] = results["rbm"].pop("peer_seconds")
    results["rbm"]["floor"] = rbm_floor(
        784, s["hidden"][0], chains=chains, steps=s["examples"] // BATCH, repeats=repeats
    )
    results["fit_loop"] = fit_loop_benchmark(
        rbm, images, chains=chains, seeds=5, epochs=3, repeats=max(1, repeats // 2)
    )
    dbm = mm.dbm(mm.Bernoulli(784), s["hidden"])
    results["dbm"] = epoch_benchmark(
        dbm, rbm_data, chains=chains, sweeps=10, gibbs=5, repeats=repeats
    )
    multimodal = mm.multimodal_dbm(
        {"image": (mm.Gaussian(784), [256]), "text": (mm.ReplicatedSoftmax(100), [64])}, joint=128
    )
    tagged = text.sum(axis=1) > 0
    spread = np.where(images.std(axis=0) > 0, images.std(axis=0), 1.0)
    multimodal_data = {
        "image": jnp.asarray((images[tagged] - images.mean(axis=0)) / spread),
        "text": jnp.asarray(text[tagged]),
    }
    plain = pcd_epoch(
        multimodal, multimodal_data, chains=chains, sweeps=10, gibbs=5, centering=False
    )
    results["multimodal"] = epoch_benchmark(
        multimodal, multimodal_data, chains=chains, sweeps=10, gibbs=5, repeats=repeats, peer=plain
    )
    steps = int(tagged.sum()) // BATCH
    results["multimodal"]["seconds_per_step"] = results["multimodal"]["seconds"] / steps
    results["multimodal"]["parts"] = multimodal_breakdown(
        multimodal, multimodal_data, chains=chains, sweeps=10, gibbs=5, repeats=repeats
    )
    results["prng"] = prng_benchmark(
        {"rbm": (rbm, rbm_data, 0, 1), "multimodal": (multimodal, multimodal_data, 10, 5)},
        chains=chains,
        repeats=repeats,
    )
    rbm_params = rbm.init(jax.random.key(0), rbm_data)
    results["ais"] = ais_benchmark(rbm, rbm_params, chains=chains, betas=s["betas"])
    results["rsm_lengths"] = rsm_lengths_benchmark(
        chains=chains,
        betas=s["rsm_betas"],
        num_lengths=s["rsm_lengths"],
        length_betas=s["length_betas"],
    )
    results["sweep"] = sweep_benchmark(
        rbm, rbm_data, chains=chains, count=s["sweep"], repeats=max(1, repeats // 2)
    )
    results["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_table(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2))
    print(f"written: {output}")
    return results


def rsm_whole_split_line(lengths: dict, chains: int, betas: int, peak: float) -> str:
    """The whole Reuters test split's AIS time, measured and at 10,000 inverse temperatures
    (from the time per Gibbs transition: ``betas - 1`` annealing steps and the marginal base's
    run, which is a tenth as long as the schedule at 10,000), against its matrix products alone
    at the measured peak."""
    per_transition = lengths["all_lengths_seconds"] / lengths["transitions"]
    transitions = 10_000 - 1 + mm.evaluation.ais.base_gibbs_steps(10_000)
    products = lengths["flops_per_transition"] / (peak * 1e9)
    return (
        f"the whole test split by mm.ais ({lengths['all_lengths']} lengths, {chains} chains "
        f"each, {lengths['words_per_transition']:,} words drawn per transition) in one call, "
        f"{betas} inverse temperatures: {lengths['all_lengths_seconds']:.1f} s; at 10,000: "
        f"{per_transition * transitions / 60:.0f} min, against "
        f"{products * transitions / 60:.1f} min for its matrix products alone at the measured "
        f"peak ({per_transition / products:.1f}x)"
    )


def print_table(r: dict) -> None:
    """The results as a table, with the ratios the benchmark is about and their targets."""
    peak, hidden = r["roofline_gflops"], r["hidden"]
    print(f"\nroofline: float32 matmul {peak:.1f} GFLOP/s")
    print(f"{'job':<42}{'seconds':>9}{'GFLOP/s':>9}{'of peak':>9}{'compile s':>11}")
    rows = (
        (f"RBM 784-{hidden[0]} PCD-1 epoch", r["rbm"]),
        (f"DBM 784-{hidden[0]}-{hidden[1]} epoch (10 MF, 5 Gibbs)", r["dbm"]),
        ("multimodal DBM (demo) epoch", r["multimodal"]),
        ("AIS on the RBM", r["ais"]),
    )
    for label, x in rows:
        compile_time = f"{x['compile_seconds']:>11.1f}" if "compile_seconds" in x else ""
        share = x["gflops"] / peak
        print(f"{label:<42}{x['seconds']:>9.3f}{x['gflops']:>9.1f}{share:>9.0%}{compile_time}")
    rbm, sweep, loop = r["rbm"], r["sweep"], r["fit_loop"]
    floor_parts = rbm["floor"]
    floor = floor_parts["matmul_seconds"] + floor_parts["random_seconds"]
    print(
        f"\nRBM epoch: scikit-learn {rbm['sklearn_seconds']:.3f} s, mmdbm {rbm['seconds']:.3f} s: "
        f"mmdbm {rbm['sklearn_seconds'] / rbm['seconds']:.2f}x faster (target 2x)"
    )
    print(
        f"RBM epoch floor on this backend: matrix products {rbm['floor']['matmul_seconds']:.3f} s "
        f"+ random numbers {rbm['floor']['random_seconds']:.3f} s = {floor:.3f} s; "
        f"mmdbm is {rbm['seconds'] / floor:.2f}x the floor (target 1.05x), and no "
        f"implementation could be more than {rbm['sklearn_seconds'] / floor:.2f}x faster than "
        "scikit-learn"
    )
    print(
        f"the same epoch written by hand for these shapes: {floor_parts['handwritten_seconds']:.3f}"
        f" s = {floor_parts['handwritten_seconds'] / floor:.2f}x the floor; mmdbm is "
        f"{rbm['seconds'] / floor_parts['handwritten_seconds']:.2f}x that"
    )
    print(
        f"fit of the RBM, 5 seeds x 3 epochs in a Python loop, fresh estimator and optimizer "
        f"each time: mmdbm {loop['seconds']:.2f} s (the first loop, compiling: "
        f"{loop['first_seconds']:.2f} s), scikit-learn {loop['sklearn_seconds']:.2f} s: "
        f"{loop['sklearn_seconds'] / loop['seconds']:.2f}x (target 1.8x)"
    )
    parts, step = r["multimodal"]["parts"], r["multimodal"]["seconds_per_step"]
    rest = step - parts["mean_field_seconds"] - parts["gibbs_seconds"]
    print(
        f"multimodal DBM training step: {1e3 * step:.1f} ms (target: 50% of peak): 10 "
        f"mean-field sweeps {1e3 * parts['mean_field_seconds']:.1f} ms, 5 Gibbs steps of the "
        f"chains {1e3 * parts['gibbs_seconds']:.1f} ms (their word draws "
        f"{1e3 * parts['multinomial_seconds']:.1f} ms), gradient and update {1e3 * rest:.1f} ms"
    )
    print(
        f"the multimodal epoch centered (the default) and plain, timed in turn: "
        f"{r['multimodal']['seconds']:.3f} s and {r['multimodal']['peer_seconds']:.3f} s"
    )
    prng = r["prng"]
    multimodal_flop = r["multimodal"]["gflops"] * r["multimodal"]["seconds"]
    print(
        "with Philox keys (jax.random.key(seed, impl='philox4x32')) against Threefry keys (the "
        f"default), timed in turn: RBM epoch {prng['rbm']['philox4x32']:.3f} s against "
        f"{prng['rbm']['threefry2x32']:.3f} s ({prng['rbm']['philox4x32'] / floor:.2f}x the "
        f"Threefry floor), multimodal epoch {prng['multimodal']['philox4x32']:.3f} s against "
        f"{prng['multimodal']['threefry2x32']:.3f} s "
        f"({multimodal_flop / prng['multimodal']['philox4x32'] / peak:.0%} of peak)"
    )
    lengths, size = r["rsm_lengths"], SIZES[r["size"]]
    betas = size["rsm_betas"]
    print(
        f"AIS of a Replicated Softmax RBM 2000-50 for the {lengths['lengths']} shortest Reuters "
        f"test lengths, {size['chains']} chains x {betas} inverse temperatures: all in one call "
        f"{lengths['seconds']:.1f} s, one call per length {lengths['one_by_one_seconds']:.1f} s"
    )
    print(rsm_whole_split_line(lengths, size["chains"], betas, peak))
    print(
        f"the whole test split by mm.ais_over_lengths (the length as the inverse temperature, "
        f"no words drawn), {size['chains']} chains x {lengths['length_path_betas']:,} points in "
        f"one call: {lengths['length_path_seconds']:.0f} s, compilation included (target: a few "
        "minutes)"
    )
    count = SIZES[r["size"]]["sweep"]
    print(
        f"sweep of {count} RBMs, one epoch: one after another {sweep['sequential_seconds']:.2f} s,"
        f" one program vmapped {sweep['vmapped_seconds']:.2f} s, one program in turn (lax.map) "
        f"{sweep['mapped_seconds']:.2f} s; mm.train_epoch_many on {r['backend']} runs them "
        f"{sweep['default']}: {sweep['speedup']:.2f}x the sequential (target: >= 1 on a CPU, "
        "clearly more on an accelerator)"
    )
    print(
        f"sweep floor: {count} x the RBM floor = {count * floor:.2f} s; no sweep could be more "
        f"than {sweep['sequential_seconds'] / (count * floor):.2f}x the sequential one here"
    )
    print(f"peak resident memory: {r['peak_memory_mb']:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    main(args.size, args.output or Path("runs") / f"speed-{args.size}.json")
