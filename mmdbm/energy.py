"""Energies, fields, conditionals and free energies of one configuration.

A configuration (a "state") is ``{layer: Array[n]}``; vmap these functions over chains and
batches. The energy of a full state is

    E(x) = sum_l E_l(x_l)  -  sum_{(a, b) in edges} s_a(x_a)^T W_ab s_b(x_b),

where a Bernoulli layer next to a Replicated Softmax layer with total count M has its bias
scaled by M (Salakhutdinov & Hinton 2009; Srivastava & Salakhutdinov 2012, eq. 5).

``count_totals``, ``conditional_args``, ``bias_only_args``, ``summed_class``, ``given_energy``
and the functions whose name starts with ``layer_`` are the building blocks of samplers and
estimators: they take the total counts of the Replicated Softmax layers already resolved and
check nothing. The others are public and validate their input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from mmdbm.graph import Model
from mmdbm.params import Params, edge_key
from mmdbm.units import ReplicatedSoftmax, Unit
from mmdbm.validation import (
    check_complete,
    check_layers,
    check_lengths,
    check_params,
    sampled_count_layers,
)

Array = jax.Array


def count_totals(
    model: Model, state: Mapping[str, Array], lengths: Mapping[str, Array]
) -> dict[str, Array]:
    """Total count M of each Replicated Softmax layer: summed from ``state``, else ``lengths``."""
    return {
        name: jnp.sum(state[name]) if name in state else lengths[name]
        for name, unit in model.layers.items()
        if isinstance(unit, ReplicatedSoftmax) and (name in state or name in lengths)
    }


def layer_bias(model: Model, params: Params, name: str, totals: Mapping[str, Array]) -> Array:
    """The bias of a layer, times M if it is a Bernoulli layer next to a count layer."""
    count_layer = model.count_layer_of.get(name)
    bias = params.biases[name]
    return bias if count_layer is None else totals[count_layer] * bias


def layer_statistic(model: Model, params: Params, state: Mapping[str, Array], name: str) -> Array:
    """The coupling statistic ``s_l(x_l)`` of a layer."""
    return model.layers[name].statistic(state[name], params.log_sigma.get(name))


def layer_field(model: Model, params: Params, state: Mapping[str, Array], name: str) -> Array:
    """``phi_l = sum_{m in neighbours(l)} W_lm s_m(x_m)``, the input to layer ``l``."""
    phi = jnp.zeros(model.layers[name].n, params.biases[name].dtype)
    for lower, upper in model.edges:
        weights = params.weights[edge_key(lower, upper)]
        if lower == name:
            # s @ W^T rather than W @ s: vmapped over chains, the product then comes out
            # chain-major, the layout of everything that follows (twice as fast on a CPU)
            phi = phi + layer_statistic(model, params, state, upper) @ weights.T
        elif upper == name:
            phi = phi + layer_statistic(model, params, state, lower) @ weights
    return phi


def conditional_args(
    model: Model,
    params: Params,
    state: Mapping[str, Array],
    name: str,
    totals: Mapping[str, Array],
    field_scale: float = 1.0,
) -> tuple[Array, Array, Array | None, Array | None]:
    """``(field, bias, log_sigma, total)`` of layer ``name``: the arguments of its unit's
    conditional ``mean``, ``sample`` and ``log_partition``. ``field_scale`` multiplies the field
    (weight doubling in pretraining)."""
    return (
        field_scale * layer_field(model, params, state, name),
        layer_bias(model, params, name, totals),
        params.log_sigma.get(name),
        totals.get(name),
    )


def bias_only_args(
    model: Model, params: Params, name: str, totals: Mapping[str, Array]
) -> tuple[Array, Array, Array | None, Array | None]:
    """``conditional_args`` with a zero field: the layer under its biases alone, as in a
    model without weights (chain starts, mean-field starts, the AIS base model)."""
    return (
        jnp.zeros(model.layers[name].n, params.biases[name].dtype),
        layer_bias(model, params, name, totals),
        params.log_sigma.get(name),
        totals.get(name),
    )


def summed_class(
    model: Model, free: tuple[str, ...], must_sum: Callable[[Unit], bool] = lambda unit: False
) -> tuple[str, ...]:
    """The free layers of the colour class to sum out analytically.

    That is the class holding a free layer for which ``must_sum`` is true, else the one with
    more free units (fewer sampled units, less variance).
    """

    def priority(colour: tuple[str, ...]) -> tuple[bool, int]:
        members = [name for name in colour if name in free]
        return (
            any(must_sum(model.layers[name]) for name in members),
            sum(model.layers[name].n for name in members),
        )

    return tuple(name for name in max(model.colour_classes, key=priority) if name in free)


def layer_mean(
    model: Model,
    params: Params,
    state: Mapping[str, Array],
    name: str,
    totals: Mapping[str, Array],
) -> Array:
    """``E[x_l | neighbours]``: the layer's conditional mean given the rest of ``state``."""
    return model.layers[name].mean(*conditional_args(model, params, state, name, totals))


def layer_sample(
    rng_key: Array,
    model: Model,
    params: Params,
    state: Mapping[str, Array],
    name: str,
    totals: Mapping[str, Array],
) -> Array:
    """A draw of ``x_l`` from its conditional given the rest of ``state``."""
    args = conditional_args(model, params, state, name, totals)
    return model.layers[name].sample(rng_key, *args)


def layer_log_partition(
    model: Model,
    params: Params,
    state: Mapping[str, Array],
    name: str,
    totals: Mapping[str, Array],
) -> Array:
    """``log Z_l(phi_l)``: the layer summed out given its neighbours in ``state``."""
    return model.layers[name].log_partition(*conditional_args(model, params, state, name, totals))


def given_energy(
    model: Model, params: Params, state: Mapping[str, Array], totals: Mapping[str, Array]
) -> Array:
    """Self-energies of the layers in ``state`` minus the couplings among them."""
    value = sum(
        model.layers[name].energy(
            x, layer_bias(model, params, name, totals), params.log_sigma.get(name)
        )
        for name, x in state.items()
    )
    for lower, upper in model.edges:
        if lower in state and upper in state:
            value = value - layer_statistic(model, params, state, lower) @ (
                params.weights[edge_key(lower, upper)]
                @ layer_statistic(model, params, state, upper)
            )
    return value


def layer_free_energy(
    model: Model, params: Params, given: Mapping[str, Array], lengths: Mapping[str, Array]
) -> Array:
    """``F(x_S) = E_S(x_S) - sum_{l not in S} log Z_l(phi_l(x_S))``; checks nothing."""
    totals = count_totals(model, given, lengths)
    value = given_energy(model, params, given, totals)
    for name in model.layers:
        if name not in given:
            value = value - layer_log_partition(model, params, given, name, totals)
    return value


def energy(model: Model, params: Params, state: Mapping[str, Array]) -> Array:
    """The energy of a full configuration ``{layer: Array[n]}``,

        E(x) = sum_l E_l(x_l) - sum_{(a, b) in edges} s_a(x_a)^T W_ab s_b(x_b),

    each Bernoulli layer next to a Replicated Softmax layer of M words with its bias times M
    (Srivastava & Salakhutdinov 2012, eq. 5).
    """
    check_params(model, params)
    state = check_layers(model, state, what="state", batched=False)
    check_complete(model, state, what="state")
    return given_energy(model, params, state, count_totals(model, state, {}))


def free_energy(
    model: Model,
    params: Params,
    visible: Mapping[str, Array],
    lengths: Mapping[str, int] | None = None,
) -> Array:
    """Free energy of the given layers, the others summed out analytically.

        F(x_S) = -log sum_{x_R} exp(-E(x_S, x_R)) = E_S(x_S) - sum_{l in R} log Z_l(phi_l(x_S)),

    where ``E_S`` holds the self-energies of the given layers ``S`` and the couplings among
    them, and each layer ``l`` of the rest ``R`` is summed out through its log-partition given
    its neighbours. That needs every neighbour of every summed-out layer to be given: for an RBM
    ``visible = {"v": v}`` gives ``F(v) = -log p*(v)``; for deeper models give one whole colour
    class (and any layers of the other). Probabilities of Replicated Softmax layers exclude the
    multinomial coefficient here: ``log p(x) = -F(x) - log Z + log mu(x)``.

    Args:
      model: the model.
      params: its parameters.
      visible: ``{layer: Array[n]}`` for the given layers.
      lengths: total count M of each Replicated Softmax layer that is summed out (default: those
        stored by ``Model.init``).
    """
    check_params(model, params)
    visible = check_layers(model, visible, what="visible", batched=False)
    for name in model.layers:
        if name not in visible:
            absent = [other for other in model.neighbours(name) if other not in visible]
            if absent:
                raise ValueError(
                    f"free_energy: layer '{name}' cannot be summed out because its "
                    f"neighbours {absent} are not given"
                )
    resolved = check_lengths(model, params, lengths, sampled_count_layers(model, visible))
    return layer_free_energy(model, params, visible, resolved)


def _check_conditioning(
    model: Model, params: Params, state: Mapping[str, Array], layer: str
) -> dict[str, Array]:
    check_params(model, params)
    state = check_layers(model, state, what="state", batched=False)
    if layer not in model.layers:
        raise ValueError(f"unknown layer '{layer}'; the model's layers are {list(model.layers)}")
    absent = [name for name in model.neighbours(layer) if name not in state]
    if absent:
        raise ValueError(f"layer '{layer}' is conditioned on its neighbours {absent}: give them")
    return state


def field(model: Model, params: Params, state: Mapping[str, Array], layer: str) -> Array:
    """``phi_l = sum_{m in neighbours(l)} W_lm s_m(x_m)``; ``state`` must give the neighbours."""
    return layer_field(model, params, _check_conditioning(model, params, state, layer), layer)


def conditional_mean(
    model: Model,
    params: Params,
    state: Mapping[str, Array],
    layer: str,
    lengths: Mapping[str, int] | None = None,
) -> Array:
    """``E[x_l | neighbours]`` for the unit type of layer ``l`` (see ``mmdbm.units``).

    A Replicated Softmax layer's total M comes from its own entry in ``state`` when present,
    else from ``lengths``; so does the M that scales the bias of a Bernoulli layer next to one.
    """
    state = _check_conditioning(model, params, state, layer)
    counted = (layer, model.count_layer_of.get(layer))
    needed = tuple(name for name in sampled_count_layers(model, state) if name in counted)
    totals = count_totals(model, state, check_lengths(model, params, lengths, needed))
    return layer_mean(model, params, state, layer, totals)
