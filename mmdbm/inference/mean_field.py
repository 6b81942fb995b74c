"""Mean-field variational inference with some layers clamped.

The approximate posterior is fully factorised, ``q(x) = prod_l q_l(x_l)``, each ``q_l`` of the
layer's own unit type. Maximising the variational lower bound on ``log p(observed)`` one layer at
a time gives the fixed-point equations (Salakhutdinov & Hinton 2009, "Deep Boltzmann Machines",
eq. 12; Srivastava & Salakhutdinov 2012 for Gaussian and Replicated Softmax layers)

    mu_l = E_l[x_l | phi_l(mu)],   phi_l(mu) = sum_{m in neighbours(l)} W_lm E[s_m(x_m)],

that is ``mu = sigmoid(phi + b)`` for Bernoulli, ``b + sigma phi`` for Gaussian and
``M softmax(b + phi)`` for Replicated Softmax layers. One sweep updates the free layers of one
colour class, then of the other (each class's layers depend only on the other class), so every
undamped sweep raises the bound. Missing visible layers are free layers like any hidden one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp

from mmdbm.energy import bias_only_args, count_totals, layer_mean
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.validation import check_count, check_observed

Array = jax.Array


def init_means(
    model: Model, params: Params, observed: Mapping[str, Array], lengths: Mapping[str, Array]
) -> dict[str, Array]:
    """Observed layers as given; every free layer at its mean under its biases alone."""
    totals = count_totals(model, observed, lengths)
    means = dict(observed)
    for name, unit in model.layers.items():
        if name not in observed:
            means[name] = unit.mean(*bias_only_args(model, params, name, totals))
    return means


def mean_field_sweep(
    model: Model,
    params: Params,
    means: Mapping[str, Array],
    clamped: tuple[str, ...],
    damping: float = 0.0,
) -> dict[str, Array]:
    """One sweep of the fixed-point equations: the odd colour class, then the even one.

    With ``damping`` d, each layer moves to ``d * mu_old + (1 - d) * mu_new``.
    """
    means = dict(means)
    totals = count_totals(model, means, {})
    for colour in reversed(model.colour_classes):
        for name in colour:
            if name not in clamped:
                new = layer_mean(model, params, means, name, totals)
                means[name] = damping * means[name] + (1 - damping) * new
    return means


def solve(
    model: Model,
    params: Params,
    observed: Mapping[str, Array],
    lengths: Mapping[str, Array],
    num_steps: int,
    damping: float = 0.0,
) -> tuple[dict[str, Array], Array]:
    """Mean-field means of one example after ``num_steps`` sweeps from ``init_means``, and the
    largest change of any mean in the last sweep (zero without sweeps)."""
    clamped = tuple(name for name in model.layers if name in observed)
    means = init_means(model, params, observed, lengths)
    if num_steps == 0:
        return means, jnp.zeros(())

    def sweep(means: dict[str, Array], _: None) -> tuple[dict[str, Array], Array]:
        new = mean_field_sweep(model, params, means, clamped, damping)
        change = jnp.max(jnp.stack([jnp.max(jnp.abs(new[k] - means[k])) for k in means]))
        return new, change

    means, changes = jax.lax.scan(sweep, means, None, length=num_steps)
    return means, changes[-1]


def mean_field(
    model: Model,
    params: Params,
    observed: Mapping[str, Array],
    *,
    num_steps: int = 10,
    damping: float = 0.0,
    lengths: Mapping[str, int] | None = None,
) -> dict[str, Array]:
    """Mean-field posterior means of every layer given the observed ones: sweeps of the
    fixed-point equations (Salakhutdinov & Hinton 2009, eq. 12)

        mu_l = E_l[x_l | phi_l(mu)],   phi_l(mu) = sum_{m in neighbours(l)} W_lm E[s_m(x_m)],

    over the free layers of one colour class, then of the other.

    Args:
      model: the model.
      params: its parameters.
      observed: ``{layer: Array[b, n]}``, clamped. Layers left out (hidden layers, and missing
        visible layers such as the text of an untagged image) are inferred.
      num_steps: number of sweeps (each updates both colour classes).
      damping: in ``[0, 1)``; the weight of the old means in each update.
      lengths: total count M of every Replicated Softmax layer that is not observed (default:
        the ones stored by ``Model.init``).

    Returns:
      ``{layer: Array[b, n]}`` for every layer: observed layers as given, the others at their
      mean-field means (conditional means under the factorised posterior).
    """
    num_steps = check_count("num_steps", num_steps, minimum=0)
    if not 0 <= damping < 1:
        raise ValueError(f"damping must lie in [0, 1), got {damping!r}")
    observed, lengths = check_observed(model, params, observed, lengths)
    return mean_field_batch(model, params, observed, lengths, num_steps, float(damping))


@partial(jax.jit, static_argnames=("model", "num_steps"))
def mean_field_batch(
    model: Model,
    params: Params,
    observed: dict[str, Array],
    lengths: dict[str, Array],
    num_steps: int,
    damping: float,
) -> dict[str, Array]:
    """``mean_field`` without the checks: jit-compiled and vmapped over the batch."""
    return jax.vmap(lambda one: solve(model, params, one, lengths, num_steps, damping)[0])(observed)
