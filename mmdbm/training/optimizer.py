"""The default optimiser: the recipe of the DBM papers, as an Optax transformation."""

from __future__ import annotations

import jax
import optax

from mmdbm.params import Params
from mmdbm.validation import check_count


def weights_only(params: Params) -> Params:
    """Weight-decay mask: the weights, not the biases or log-sigmas."""
    return params.replace(
        weights=jax.tree.map(lambda _: True, params.weights),
        biases=jax.tree.map(lambda _: False, params.biases),
        log_sigma=jax.tree.map(lambda _: False, params.log_sigma),
    )


def default_optimizer(
    num_steps: int,
    *,
    learning_rate: float = 0.005,
    final_learning_rate: float = 0.0,
    weight_decay: float = 2e-4,
    initial_momentum: float = 0.5,
    final_momentum: float = 0.9,
    momentum_switch_step: int | None = None,
) -> optax.GradientTransformation:
    """SGD with momentum 0.5 -> 0.9, L2 weight decay and a learning rate decayed to the end.

    The recipe of Salakhutdinov & Hinton (2009) and Srivastava & Salakhutdinov (2012): the
    learning rate falls linearly from ``learning_rate`` to ``final_learning_rate`` over
    ``num_steps``; the momentum is ``initial_momentum`` until ``momentum_switch_step`` (default:
    5% of the steps) and ``final_momentum`` after; ``weight_decay * W`` is added to the gradient
    of every weight matrix (not to biases).
    """
    check_count("num_steps", num_steps)
    switch = num_steps // 20 if momentum_switch_step is None else momentum_switch_step
    learning_rates = optax.linear_schedule(learning_rate, final_learning_rate, num_steps)
    momenta = optax.join_schedules(
        [optax.constant_schedule(initial_momentum), optax.constant_schedule(final_momentum)],
        [switch],
    )
    return optax.chain(
        optax.add_decayed_weights(weight_decay, mask=weights_only),
        optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rates, momentum=momenta),
    )
