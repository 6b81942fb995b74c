"""The default optimiser: the recipe of the DBM papers, as an Optax transformation."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import optax

from mmdbm.graph import Model
from mmdbm.params import Params, edge_key
from mmdbm.units import Gaussian
from mmdbm.validation import check_count, check_non_negative


def weights_only(params: Params) -> Params:
    """Weight-decay mask: the weights, not the biases or log-sigmas."""
    return params.replace(
        weights=jax.tree.map(lambda _: True, params.weights),
        biases=jax.tree.map(lambda _: False, params.biases),
        log_sigma=jax.tree.map(lambda _: False, params.log_sigma),
    )


FIT_UNIT_RATES = {"Bernoulli": 1.0, "Gaussian": 0.2, "ReplicatedSoftmax": 0.2}
PRETRAIN_UNIT_RATES = {"Bernoulli": 1.0, "Gaussian": 1.0, "ReplicatedSoftmax": 5.0}
WEIGHT_DECAY = 2e-4  # the papers' L2 weight decay (benchmarks/recipe.py: none changes nothing)


def unit_rate_factors(model: Model, rates: Mapping[str, float]) -> Params:
    """A ``Params``-shaped tree of learning-rate factors by unit type: each layer's bias takes
    its unit's factor (a Bernoulli layer next to a Replicated Softmax layer, whose bias is
    multiplied by M, that layer's), each weight matrix the product of its two layers'."""

    def of(name: str) -> float:
        return float(rates[type(model.layers[name]).__name__])

    return Params(
        weights={edge_key(a, b): of(a) * of(b) for a, b in model.edges},
        biases={name: of(model.count_layer_of.get(name, name)) for name in model.layers},
        log_sigma={
            name: of(name) for name, unit in model.layers.items() if isinstance(unit, Gaussian)
        },
    )


def scale_by_unit_rates(model: Model, rates: Mapping[str, float]) -> optax.GradientTransformation:
    """Multiply each update by ``unit_rate_factors``."""
    factors = unit_rate_factors(model, rates)

    def update(updates, state, params=None):
        scaled = jax.tree.map(lambda g, f: g * f, updates, factors.replace(lengths=updates.lengths))
        return scaled, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def default_optimizer(
    num_steps: int,
    *,
    learning_rate: float = 0.005,
    final_learning_rate: float = 0.0,
    weight_decay: float = WEIGHT_DECAY,
    initial_momentum: float = 0.5,
    final_momentum: float = 0.9,
    momentum_switch_step: int | None = None,
    model: Model | None = None,
    unit_rates: Mapping[str, float] = FIT_UNIT_RATES,
) -> optax.GradientTransformation:
    """SGD with momentum 0.5 -> 0.9, L2 weight decay and a learning rate decayed to the end.

    The recipe of Salakhutdinov & Hinton (2009) and Srivastava & Salakhutdinov (2012): the
    learning rate falls linearly from ``learning_rate`` to ``final_learning_rate`` over
    ``num_steps``; the momentum is ``initial_momentum`` until ``momentum_switch_step`` (default:
    5% of the steps) and ``final_momentum`` after; ``weight_decay * W`` is added to the gradient
    of every weight matrix (not to biases). Given the ``model``, each parameter's rate is
    scaled by ``unit_rates`` (``scale_by_unit_rates``): by default a fifth for the parameters
    of Gaussian and Replicated Softmax layers, whose joint training collapses the layers above
    them at the rate that suits binary layers (``benchmarks/quality.py``).
    """
    check_count("num_steps", num_steps)
    check_non_negative("learning_rate", learning_rate, positive=True)
    for name, value in (
        ("final_learning_rate", final_learning_rate),
        ("weight_decay", weight_decay),
        ("initial_momentum", initial_momentum),
        ("final_momentum", final_momentum),
    ):
        check_non_negative(name, value)
    switch = num_steps // 20 if momentum_switch_step is None else momentum_switch_step
    learning_rates = optax.linear_schedule(learning_rate, final_learning_rate, num_steps)
    momenta = optax.join_schedules(
        [optax.constant_schedule(initial_momentum), optax.constant_schedule(final_momentum)],
        [switch],
    )
    steps = [
        optax.add_decayed_weights(weight_decay, mask=weights_only),
        optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rates, momentum=momenta),
    ]
    if model is not None:
        steps.append(scale_by_unit_rates(model, unit_rates))
    return optax.chain(*steps)
