"""Exact partition functions and log-probabilities of tiny models, by enumeration.

One colour class is enumerated state by state and the other is summed out analytically through
its layers' log-partitions, so for a model with classes A and B

    log Z = logsumexp_{x_A} [ -F(x_A) + log mu(x_A) ],
    F(x_A) = E_A(x_A) - sum_{l in B} log Z_l(phi_l(x_A)),

where ``mu`` is the base measure (multinomial coefficients of Replicated Softmax count vectors).
The enumerated class must hold no free Gaussian layer; of the eligible classes the one with fewer
states is taken. A Replicated Softmax layer of n words with total M has ``C(M + n - 1, n - 1)``
states. These are the oracles that samplers and estimators are tested against.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mmdbm.energy import layer_free_energy
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.units import Bernoulli, Gaussian, ReplicatedSoftmax, Unit
from mmdbm.validation import check_layers, check_lengths, check_params, sampled_count_layers

Array = jax.Array

DEFAULT_MAX_STATES = 2**20


def num_layer_states(unit: Unit, total: int | None = None) -> int:
    """Number of configurations of one layer (``total``: M of a Replicated Softmax layer)."""
    if isinstance(unit, Bernoulli):
        return 2**unit.n
    if isinstance(unit, ReplicatedSoftmax):
        return math.comb(total + unit.n - 1, unit.n - 1)
    raise ValueError(f"{unit} has a continuum of states and cannot be enumerated")


def layer_states(unit: Unit, total: int | None = None) -> np.ndarray:
    """Every configuration of one layer, ``[num_states, n]``.

    Binary vectors in counting order for Bernoulli layers; for Replicated Softmax layers every
    count vector with sum ``total`` (stars and bars: each choice of ``n - 1`` bar positions among
    ``total + n - 1`` slots is one vector).
    """
    if isinstance(unit, Bernoulli):
        return (np.arange(2**unit.n)[:, None] >> np.arange(unit.n)) & 1
    if isinstance(unit, ReplicatedSoftmax):
        slots = total + unit.n - 1
        combinations = list(itertools.combinations(range(slots), unit.n - 1))
        bars = np.array(combinations, int).reshape(len(combinations), unit.n - 1)
        edges = np.concatenate(
            [np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), slots)], 1
        )
        return np.diff(edges, axis=1) - 1
    raise ValueError(f"{unit} has a continuum of states and cannot be enumerated")


def _enumerated_layers(
    model: Model, clamped: Mapping[str, Array], totals: Mapping[str, int], max_states: int
) -> tuple[str, ...]:
    """The free layers of the colour class to enumerate: no Gaussian, fewest states."""
    candidates = []
    for colour in model.colour_classes:
        free = tuple(name for name in colour if name not in clamped)
        if not any(isinstance(model.layers[name], Gaussian) for name in free):
            count = math.prod(num_layer_states(model.layers[n], totals.get(n)) for n in free)
            candidates.append((count, free))
    if not candidates:
        raise ValueError(
            "exact enumeration needs a colour class without free Gaussian layers; classes are "
            f"{model.colour_classes}"
        )
    count, free = min(candidates)
    if count > max_states:
        raise ValueError(
            f"exact enumeration of layers {list(free)} needs {count:,} states, more than "
            f"max_states={max_states:,}; this model is too large for the oracle"
        )
    return free


def _joint_states(model: Model, layers: tuple[str, ...], totals: Mapping[str, int]) -> dict:
    """Every joint configuration of ``layers``: ``{layer: Array[num_states, n]}``."""
    if not layers:
        return {}
    per_layer = [layer_states(model.layers[name], totals.get(name)) for name in layers]
    index = np.indices([len(states) for states in per_layer]).reshape(len(layers), -1)
    return {
        name: jnp.asarray(states[i], jnp.float32)
        for name, states, i in zip(layers, per_layer, index, strict=True)
    }


def _log_base_measure(model: Model, state: Mapping[str, Array]) -> Array:
    return sum(model.layers[name].log_base_measure(x) for name, x in state.items())


@partial(jax.jit, static_argnames="model")
def _log_marginal(
    model: Model,
    params: Params,
    enumerated: dict[str, Array],
    clamped: dict[str, Array],
    lengths: dict[str, Array],
) -> Array:
    """``log sum_{enumerated states} p*(enumerated, clamped)``, the rest summed analytically."""

    def log_weight(enumerated_one: dict[str, Array]) -> Array:
        given = {**clamped, **enumerated_one}
        return _log_base_measure(model, given) - layer_free_energy(model, params, given, lengths)

    if not enumerated:
        return log_weight({})
    return jax.nn.logsumexp(jax.vmap(log_weight)(enumerated))


def _resolved_totals(lengths: Mapping[str, Array]) -> dict[str, int]:
    return {name: round(float(total)) for name, total in lengths.items()}


def exact_log_partition(
    model: Model,
    params: Params,
    lengths: Mapping[str, int] | None = None,
    *,
    max_states: int = DEFAULT_MAX_STATES,
) -> float:
    """``log Z`` by enumeration of one colour class ``A``, the other summed out analytically:

        log Z = logsumexp_{x_A} [ -F(x_A) + log mu(x_A) ],
        F(x_A) = E_A(x_A) - sum_{l in B} log Z_l(phi_l(x_A)).

    Args:
      model: a tiny model (small enough to enumerate).
      params: its parameters.
      lengths: total count M of each Replicated Softmax layer (default: those stored by
        ``Model.init``); Z is the normaliser over count vectors with these totals.
      max_states: the largest number of enumerated states accepted.

    Raises:
      ValueError: when the enumeration would need more than ``max_states`` states.
    """
    check_params(model, params)
    lengths = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    layers = _enumerated_layers(model, {}, _resolved_totals(lengths), max_states)
    enumerated = _joint_states(model, layers, _resolved_totals(lengths))
    return float(_log_marginal(model, params, enumerated, {}, lengths))


def exact_log_prob(
    model: Model,
    params: Params,
    visible: Mapping[str, Array],
    lengths: Mapping[str, int] | None = None,
    *,
    max_states: int = DEFAULT_MAX_STATES,
) -> Array:
    """Exact ``log p(visible)`` of each example, every other layer marginalised.

    Probabilities of Replicated Softmax layers are those of count vectors (multinomial
    coefficients included), under the model whose M is each document's own length; all
    documents of a layer in one call must share that length. Densities for Gaussian layers.

    Args:
      model: a tiny model (small enough to enumerate).
      params: its parameters.
      visible: ``{layer: Array[b, n]}`` for any layers (usually the visible ones).
      lengths: total count M of each Replicated Softmax layer not in ``visible``.
      max_states: the largest number of enumerated states accepted.

    Returns:
      ``Array[b]`` of log-probabilities (log-densities where Gaussian layers are given).
    """
    check_params(model, params)
    visible = check_layers(model, visible, what="visible", batched=True)
    if not visible:
        raise ValueError("visible: give at least one layer (as {layer: Array[b, n]})")
    observed_totals = {}
    for name in visible:
        if isinstance(model.layers[name], ReplicatedSoftmax):
            totals = np.unique(np.asarray(visible[name]).sum(axis=1))
            if len(totals) != 1:
                raise ValueError(
                    f"visible: layer '{name}' mixes documents of lengths {totals.tolist()}; "
                    "exact_log_prob needs one length per call"
                )
            observed_totals[name] = int(totals[0])
    lengths = {
        **check_lengths(model, params, lengths, sampled_count_layers(model, visible)),
        **check_lengths(model, params, observed_totals, tuple(observed_totals)),
    }
    totals = _resolved_totals(lengths)
    layers = _enumerated_layers(model, visible, totals, max_states)
    log_z_layers = _enumerated_layers(model, {}, totals, max_states)
    log_z = _log_marginal(model, params, _joint_states(model, log_z_layers, totals), {}, lengths)
    enumerated = _joint_states(model, layers, totals)
    log_marginals = jax.lax.map(
        lambda example: _log_marginal(model, params, enumerated, example, lengths), visible
    )
    return log_marginals - log_z
