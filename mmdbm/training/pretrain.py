"""Greedy layer-wise pretraining of DBMs and multimodal DBMs with weight doubling.

Each hidden layer ``u`` is trained, bottom-up, as the hidden layer of an RBM whose visible
layers are the layers just below it (the data, or the means of the layer below under the RBM
trained before). In the finished DBM a layer hears from both sides, in the RBM from one, so
the missing side is stood in for by doubling (Salakhutdinov & Hinton 2009, section 3.1; 2012,
"An Efficient Learning Procedure for Deep Boltzmann Machines"; the ``up_factor`` /
``down_factor`` of deepnet's multimodal DBM):

    p(u | below)  uses 2 W^T s(below)  if u has layers above it, else W^T s(below),
    p(below | u)  uses 2 W s(u)        if the layers below have layers below them, else W s(u).

So the bottom RBM of each pathway doubles its bottom-up input, the top RBM (the joint layer
over the pathway tops) its top-down input, and middle RBMs both. Each RBM is trained by CD-1
on these conditionals; the composed DBM takes the weights as trained (the doubling is then
carried by the two neighbours) and, for a layer that served in two RBMs, the mean of the two
biases it had in them (``composed_bias``). Gaussian sigmas stay at their initial values.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from tqdm.auto import tqdm

from mmdbm.compilation import static_partial
from mmdbm.energy import conditional_args, count_totals, layer_free_energy
from mmdbm.graph import Model
from mmdbm.params import Params, edge_key
from mmdbm.training.estimators import (
    EstimatorInfo,
    GradientEstimator,
    centered,
    data_phase_summary,
)
from mmdbm.training.optimizer import PRETRAIN_UNIT_RATES, scale_by_unit_rates, weights_only
from mmdbm.training.state import TrainingDivergedError, TrainState, train_epoch, unsoundness
from mmdbm.validation import check_count, check_training_data

Array = jax.Array


def _doubled_cd_estimate(
    block: Model,
    upper: str,
    up_factor: float,
    down_factor: float,
    rng_key: Array,
    params: Params,
    chains: None,
    batch: Mapping[str, Array],
) -> tuple[Params, None, EstimatorInfo]:
    lowers = tuple(name for name in block.layers if name != upper)
    upper_unit = block.layers[upper]

    def statistics(key: Array, data: dict[str, Array]):
        totals = count_totals(block, data, {})
        args = conditional_args(block, params, data, upper, totals, up_factor)
        positive = {**data, upper: upper_unit.mean(*args)}
        hidden = upper_unit.sample(key, *args)
        recon = {
            name: block.layers[name].mean(
                *conditional_args(block, params, {upper: hidden}, name, totals, down_factor)
            )
            for name in lowers
        }
        args = conditional_args(block, params, recon, upper, totals, up_factor)
        negative = {**recon, upper: upper_unit.mean(*args)}
        error = jnp.mean(jnp.stack([jnp.mean(jnp.square(recon[n] - data[n])) for n in lowers]))
        return positive, negative, totals, error

    keys = jax.random.split(rng_key, jax.tree.leaves(batch)[0].shape[0])
    positive, negative, totals, errors = jax.vmap(statistics)(keys, dict(batch))
    positive, negative = jax.lax.stop_gradient((positive, negative))

    def contrast(p: Params) -> Array:
        energy = jax.vmap(lambda state, t: layer_free_energy(block, p, state, t))
        return jnp.mean(energy(positive, totals) - energy(negative, totals))

    grads = jax.grad(contrast)(params)
    grads = grads.replace(log_sigma=jax.tree.map(jnp.zeros_like, grads.log_sigma))
    layer_means, layer_spread = data_phase_summary(block, params, positive)
    info = EstimatorInfo(
        reconstruction_error=jnp.mean(errors),
        mean_field_change=jnp.zeros(()),
        layer_means=layer_means,
        layer_spread=layer_spread,
    )
    return grads, None, info


def _no_chains(*args: object, **kwargs: object) -> None:
    return None


def doubled_cd(block: Model, upper: str, up_factor: float, down_factor: float) -> GradientEstimator:
    """CD-1 for an RBM block whose conditionals scale the field by ``up_factor`` (into the
    hidden layer ``upper``) and ``down_factor`` (into the layers below)."""
    return GradientEstimator(
        init=static_partial(_no_chains),
        estimate=static_partial(_doubled_cd_estimate, block, upper, up_factor, down_factor),
    )


def _blocks(model: Model) -> list[tuple[str, tuple[str, ...]]]:
    """``(upper, lowers)`` for every hidden layer, each after the layers below it."""
    below = {name: tuple(a for a, b in model.edges if b == name) for name in model.layers}
    order, done = [], set(model.visible)
    while len(done) < len(model.layers):
        ready = [n for n in model.layers if n not in done and all(m in done for m in below[n])]
        if not ready:
            raise ValueError("pretrain needs a layered model: every edge runs from lower to upper")
        order += [(name, below[name]) for name in ready]
        done.update(ready)
    return order


def doubling_factors(model: Model, upper: str, lowers: tuple[str, ...]) -> tuple[float, float]:
    """``(up, down)``: 2 where the finished model gives that side a second source of input."""
    has_above = {lower for lower, _ in model.edges}
    up = 2.0 if upper in has_above else 1.0
    down = 2.0 if any(name not in model.visible for name in lowers) else 1.0
    return up, down


def _sub_params(params: Params, block: Model) -> Params:
    return Params(
        weights={edge_key(a, b): params.weights[edge_key(a, b)] for a, b in block.edges},
        biases={name: params.biases[name] for name in block.layers},
        log_sigma={n: s for n, s in params.log_sigma.items() if n in block.layers},
        lengths=tuple((n, m) for n, m in params.lengths if n in block.layers),
    )


def _learning_rates(
    learning_rate: float | Mapping[str, float], uppers: list[str]
) -> dict[str, float]:
    """``{upper layer: rate}`` for every RBM, checked."""
    if not isinstance(learning_rate, Mapping):
        learning_rate = dict.fromkeys(uppers, learning_rate)
    missing = [u for u in uppers if u not in learning_rate]
    unknown = [u for u in learning_rate if u not in uppers]
    if missing or unknown:
        raise ValueError(
            f"learning_rate: give a rate for the RBM below each of {uppers}; missing "
            f"{missing}, unknown {unknown}"
        )
    bad = {u: r for u, r in learning_rate.items() if not (isinstance(r, int | float) and r > 0)}
    if bad:
        raise ValueError(f"learning_rate: rates must be positive numbers, got {bad}")
    return {u: float(learning_rate[u]) for u in uppers}


class TrainedRBM(NamedTuple):
    """One RBM of a greedily trained stack: its hidden layer ``upper``, the layers ``lowers``
    below it, the RBM as a model, its trained parameters and the factor on its bottom-up
    field (2 where doubling stands in for the input from above, else 1)."""

    upper: str
    lowers: tuple[str, ...]
    block: Model
    params: Params
    up_factor: float


def train_stack(
    rng_key: Array,
    model: Model,
    data: Mapping[str, Array],
    *,
    doubling: bool,
    num_epochs: int,
    batch_size: int,
    learning_rate: float | Mapping[str, float],
    momentum: float,
    weight_decay: float,
    params: Params,
    centering: bool,
    unit_rates: Mapping[str, float],
    progress: bool,
) -> list[TrainedRBM]:
    """Train one RBM for every hidden layer of ``model``, bottom up, each on the means of the
    layers below it under the RBMs before; with ``doubling``, by the factors of
    ``doubling_factors`` (for a DBM), without, as plain RBMs (for a deep belief net)."""
    blocks = _blocks(model)
    rates = _learning_rates(learning_rate, [upper for upper, _ in blocks])
    inputs, trained = dict(data), []
    for (upper, lowers), key in tqdm(
        list(zip(blocks, jax.random.split(rng_key, len(blocks)), strict=True)),
        desc="pretraining",
        unit="rbm",
        disable=not progress,
    ):
        block = Model(
            {**{n: model.layers[n] for n in lowers}, upper: model.layers[upper]},
            [(n, upper) for n in lowers],
        )
        up, down = doubling_factors(model, upper, lowers) if doubling else (1.0, 1.0)
        estimator = doubled_cd(block, upper, up, down)
        estimator = centered(block, estimator) if centering else estimator
        optimizer = optax.chain(
            optax.add_decayed_weights(weight_decay, mask=weights_only),
            optax.sgd(rates[upper], momentum=momentum),
            scale_by_unit_rates(block, unit_rates),
        )
        block_data = {n: inputs[n] for n in lowers}
        state = TrainState.create(key, _sub_params(params, block), optimizer, estimator)
        for epoch in range(1, num_epochs + 1):
            state, infos, sound = train_epoch(
                state, block_data, estimator=estimator, optimizer=optimizer, batch_size=batch_size
            )
            if not bool(jnp.all(sound)):
                raise TrainingDivergedError(
                    f"pretraining diverged: the RBM of layer '{upper}' over {list(lowers)} in "
                    f"epoch {epoch}: {unsoundness(state, infos)}. Lower the learning rate "
                    "(and give Gaussian layers standardised data)"
                )
        trained.append(TrainedRBM(upper, lowers, block, state.params, up))
        inputs[upper] = upper_means(trained[-1], block_data)
    return trained


def pretrain(
    rng_key: Array,
    model: Model,
    data: Mapping[str, Array],
    *,
    num_epochs: int = 50,
    batch_size: int = 100,
    learning_rate: float | Mapping[str, float] = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 2e-4,
    params: Params | None = None,
    centering: bool = True,
    unit_rates: Mapping[str, float] = PRETRAIN_UNIT_RATES,
    progress: bool = True,
) -> Params:
    """Greedy layer-wise RBM pretraining with weight doubling (see the module doc).

    Args:
      rng_key: a JAX PRNG key.
      model: a DBM or multimodal DBM (an RBM is trained as one plain RBM).
      data: ``{visible layer: Array[num_examples, n]}`` for every visible layer.
      num_epochs: epochs of CD-1 for each RBM. With 10, the upper RBMs of a multimodal DBM on
        a few thousand examples barely learn (their inputs hardly vary), and joint training
        starts from a joint layer that gives every input one representation
        (``benchmarks/collapse.py``).
      batch_size: examples per update.
      learning_rate: SGD learning rate of every RBM, or ``{upper layer: rate}`` naming the
        top layer of each RBM (pathways of different data often need different rates).
      momentum: SGD momentum of each RBM.
      weight_decay: L2 weight decay of each RBM's weights.
      params: starting parameters (default: ``model.init(key, data)``).
      centering: center each RBM's gradients (``mm.training.estimators.centered``; the
        offsets start afresh for each RBM).
      unit_rates: factors of the learning rate by unit type
        (``mm.training.optimizer.scale_by_unit_rates``); by default five times the rate for
        the weights of Replicated Softmax layers, whose sparse counts learn slowly.
      progress: show a progress bar over the RBMs.

    Returns:
      ``Params`` of the whole model, ready for joint training with ``fit``.
    """
    data = check_training_data(model, data, batch_size)
    check_count("num_epochs", num_epochs)
    init_key, rng_key = jax.random.split(rng_key)
    params = model.init(init_key, data) if params is None else params
    stack = train_stack(
        rng_key,
        model,
        data,
        doubling=True,
        num_epochs=num_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        momentum=momentum,
        weight_decay=weight_decay,
        params=params,
        centering=centering,
        unit_rates=unit_rates,
        progress=progress,
    )
    weights, bias_estimates = dict(params.weights), {name: [] for name in model.layers}
    for rbm in stack:
        weights.update(rbm.params.weights)
        for name, bias in rbm.params.biases.items():
            bias_estimates[name].append(composed_bias(model, params, rbm.block, name, bias))
    biases = {
        name: jnp.mean(jnp.stack(estimates), axis=0) if estimates else params.biases[name]
        for name, estimates in bias_estimates.items()
    }
    return params.replace(weights=weights, biases=biases)


def composed_bias(model: Model, params: Params, block: Model, name: str, bias: Array) -> Array:
    """A layer's bias from one RBM of the stack, in the finished model's terms.

    A Bernoulli layer next to a Replicated Softmax layer has its bias multiplied by the length
    M in the finished model; in an RBM without that count layer (the text pathway's first
    hidden layer as the visible layer of the RBM above it) its bias was learnt unscaled, so it
    is divided by the model's default length (``Params.lengths``) to mean the same."""
    count_layer = model.count_layer_of.get(name)
    if count_layer is None or block.count_layer_of.get(name) is not None:
        return bias
    return bias / dict(params.lengths)[count_layer]


def upper_means(rbm: TrainedRBM, data: Mapping[str, Array]) -> Array:
    """``E[upper | below]`` of every example under one trained RBM of a stack, with its
    bottom-up factor."""
    return _upper_means(rbm.block, rbm.upper, rbm.up_factor, rbm.params, dict(data))


@partial(jax.jit, static_argnames=("block", "upper", "up_factor"))
def _upper_means(
    block: Model, upper: str, up_factor: float, params: Params, data: dict[str, Array]
) -> Array:
    def mean(example: dict[str, Array]) -> Array:
        totals = count_totals(block, example, {})
        args = conditional_args(block, params, example, upper, totals, up_factor)
        return block.layers[upper].mean(*args)

    return jax.vmap(mean)(data)
