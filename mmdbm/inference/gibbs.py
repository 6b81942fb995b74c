"""Block Gibbs sampling: the two colour classes are drawn in turn, observed layers stay clamped.

The layers of one colour class are conditionally independent given the other class, so a sweep
that draws every free layer of one class, then every free layer of the other, is an exact
Gibbs step whose stationary distribution is ``p(free layers | observed layers)``.

``gibbs(model)`` returns a ``Sampler(init, step)`` of pure functions for one chain, in the style
of BlackJAX: nothing is jitted or vmapped for the caller. ``sample`` runs many chains for the
common case: jit-compiled, vmapped over chains and scanned over steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct
from jax.sharding import Mesh

from mmdbm import distributed
from mmdbm.energy import bias_only_args, conditional_args, count_totals, layer_mean
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.validation import (
    check_count,
    check_layers,
    check_lengths,
    check_params,
    sampled_count_layers,
)

Array = jax.Array


@struct.dataclass
class GibbsState:
    """One chain: the value of every layer, and which layers are clamped (static)."""

    layers: dict[str, Array]
    clamped: tuple[str, ...] = struct.field(pytree_node=False, default=())


class Sampler(NamedTuple):
    """``init(rng_key, params, observed, lengths) -> GibbsState``;
    ``step(rng_key, state, params) -> GibbsState``."""

    init: Callable[..., GibbsState]
    step: Callable[[Array, GibbsState, Params], GibbsState]


def init(
    rng_key: Array,
    model: Model,
    params: Params,
    observed: Mapping[str, Array],
    lengths: Mapping[str, Array],
) -> GibbsState:
    """A chain with ``observed`` clamped and every other layer drawn from its biases alone.

    ``lengths`` must give the total count M of every Replicated Softmax layer not observed.
    """
    totals = count_totals(model, observed, lengths)
    layers = dict(observed)
    free = [name for name in model.layers if name not in observed]
    for key, name in zip(jax.random.split(rng_key, len(free)), free, strict=True):
        layers[name] = model.layers[name].sample(key, *bias_only_args(model, params, name, totals))
    return GibbsState(layers, tuple(name for name in model.layers if name in observed))


ClassOrder = tuple[tuple[str, ...], tuple[str, ...]]
ConditionalArgs = tuple[Array, Array, Array | None, Array | None]


def sweep(
    rng_key: Array,
    model: Model,
    params: Params,
    layers: Mapping[str, Array],
    order: ClassOrder,
    clamped: tuple[str, ...],
) -> tuple[dict[str, Array], dict[str, ConditionalArgs]]:
    """One block Gibbs step of one chain: the free layers of the colour class ``order[0]``
    drawn given the rest, then those of ``order[1]``.

    Returns the new layers and, for each free layer of ``order[1]``, the ``conditional_args``
    it was drawn from (its field given the new ``order[0]``), so that callers needing the
    conditional means of that class reuse them instead of computing the fields again.
    """
    layers = dict(layers)
    totals = count_totals(model, layers, {})
    drawn_from = {}
    for colour, key in zip(order, jax.random.split(rng_key, 2), strict=True):
        free = [name for name in colour if name not in clamped]
        for layer_key, name in zip(jax.random.split(key, len(free)), free, strict=True):
            drawn_from[name] = conditional_args(model, params, layers, name, totals)
            layers[name] = model.layers[name].sample(layer_key, *drawn_from[name])
    return layers, {name: drawn_from[name] for name in order[1] if name not in clamped}


def default_order(model: Model) -> ClassOrder:
    """The odd colour class first, then the even one (for an RBM: ``h``, then ``v``)."""
    odd, even = reversed(model.colour_classes)
    return odd, even


def build_kernel(model: Model) -> Callable[[Array, GibbsState, Params], GibbsState]:
    """The Gibbs step for ``model``: draw the free layers of the odd class, then the even one."""
    order = default_order(model)

    def step(rng_key: Array, state: GibbsState, params: Params) -> GibbsState:
        layers, _ = sweep(rng_key, model, params, state.layers, order, state.clamped)
        return state.replace(layers=layers)

    return step


def gibbs(model: Model) -> Sampler:
    """Block Gibbs sampling for ``model``, as a ``Sampler(init, step)`` for one chain."""

    def init_fn(
        rng_key: Array,
        params: Params,
        observed: Mapping[str, Array] | None = None,
        lengths: Mapping[str, Array] | None = None,
    ) -> GibbsState:
        return init(rng_key, model, params, observed or {}, lengths or {})

    return Sampler(init=init_fn, step=build_kernel(model))


def advance(
    model: Model,
    rng_key: Array,
    chains: GibbsState,
    params: Params,
    num_steps: int,
    order: ClassOrder | None = None,
) -> tuple[GibbsState, dict[str, ConditionalArgs]]:
    """``num_steps`` Gibbs steps (``sweep`` in ``order``, default ``default_order``) of every
    chain of ``chains`` (leading axis: chains).

    Returns the chains and the ``conditional_args`` of the free layers of ``order[1]`` given
    the chains' final ``order[0]``: those the last step drew from, or, without steps, computed.
    """
    order = default_order(model) if order is None else order
    step = jax.vmap(
        lambda key, layers: sweep(key, model, params, layers, order, chains.clamped),
        in_axes=(0, 0),
    )
    num_chains = jax.tree.leaves(chains.layers)[0].shape[0]
    if num_steps == 0:
        free = [name for name in order[1] if name not in chains.clamped]

        def args_of(layers: dict[str, Array]) -> dict[str, ConditionalArgs]:
            totals = count_totals(model, layers, {})
            return {name: conditional_args(model, params, layers, name, totals) for name in free}

        return chains, jax.vmap(args_of)(chains.layers)

    def one_step(layers: dict[str, Array], key: Array) -> tuple[dict[str, Array], None]:
        return step(jax.random.split(key, num_chains), layers)[0], None

    keys = jax.random.split(rng_key, num_steps)
    layers, _ = jax.lax.scan(one_step, chains.layers, keys[:-1])
    layers, drawn_from = step(jax.random.split(keys[-1], num_chains), layers)
    return chains.replace(layers=layers), drawn_from


def second_half_mean(step: Callable[[Any, Array], tuple[Any, Any]], state: Any, keys: Array) -> Any:
    """Run ``step(state, key) -> (state, values)`` once per key and return the mean of
    ``values`` over the second half of the steps (the first half is burn-in)."""
    burn_in = keys.shape[0] // 2
    state, _ = jax.lax.scan(lambda state, key: (step(state, key)[0], None), state, keys[:burn_in])

    def add(carry, key: Array):
        state, sums = carry
        state, values = step(state, key)
        return (state, jax.tree.map(jnp.add, sums, values)), None

    shapes = jax.eval_shape(step, state, keys[0])[1]
    zeros = jax.tree.map(lambda shape: jnp.zeros(shape.shape, shape.dtype), shapes)
    (_, sums), _ = jax.lax.scan(add, (state, zeros), keys[burn_in:])
    return jax.tree.map(lambda total: total / (keys.shape[0] - burn_in), sums)


def averaged_means(
    rng_key: Array,
    model: Model,
    params: Params,
    state: GibbsState,
    names: tuple[str, ...],
    num_steps: int,
) -> dict[str, Array]:
    """One chain's conditional means of the layers ``names``, averaged over the second half
    of ``num_steps`` Gibbs steps from ``state`` (a Rao-Blackwellised estimate of their means
    under the chain's distribution)."""
    kernel = build_kernel(model)

    def step(state: GibbsState, key: Array) -> tuple[GibbsState, dict[str, Array]]:
        state = kernel(key, state, params)
        totals = count_totals(model, state.layers, {})
        return state, {
            name: layer_mean(model, params, state.layers, name, totals) for name in names
        }

    return second_half_mean(step, state, jax.random.split(rng_key, num_steps))


def sample(
    rng_key: Array,
    model: Model,
    params: Params,
    *,
    num_chains: int,
    num_steps: int,
    observed: Mapping[str, Array] | None = None,
    lengths: Mapping[str, int] | None = None,
    mesh: Mesh | None = None,
) -> dict[str, Array]:
    """Run ``num_chains`` independent Gibbs chains for ``num_steps`` steps each.

    Args:
      rng_key: a JAX PRNG key.
      model: the model.
      params: its parameters.
      num_chains: number of chains.
      num_steps: Gibbs steps per chain (each step updates both colour classes).
      observed: ``{layer: Array[n] or Array[num_chains, n]}`` clamped in every chain (one value
        shared by all chains, or one per chain). The chains then sample the conditional
        distribution of the other layers.
      lengths: total count M of each Replicated Softmax layer that is sampled (default: the
        ones stored by ``Model.init``).
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``) to split the chains over;
        ``num_chains`` must be a multiple of its size.

    Returns:
      The final state of every chain: ``{layer: Array[num_chains, n]}``, observed layers included.
    """
    num_chains, num_steps = (
        check_count("num_chains", num_chains),
        check_count("num_steps", num_steps),
    )
    check_params(model, params)
    observed = check_layers(model, observed or {}, what="observed", batched=None)
    for name, values in observed.items():
        if values.ndim == 2 and values.shape[0] != num_chains:
            raise ValueError(
                f"observed: layer '{name}' has {values.shape[0]} rows but num_chains={num_chains}"
            )
    observed = {
        name: jnp.broadcast_to(values, (num_chains, values.shape[-1]))
        for name, values in observed.items()
    }
    lengths = check_lengths(model, params, lengths, sampled_count_layers(model, observed))
    sharding = None
    if mesh is not None:
        distributed.check_divisible("num_chains", num_chains, mesh)
        sharding = distributed.sharded(mesh)
    return run_chains(rng_key, model, params, observed, lengths, num_chains, num_steps, sharding)


@partial(jax.jit, static_argnames=("model", "num_chains", "num_steps", "sharding"))
def run_chains(
    rng_key: Array,
    model: Model,
    params: Params,
    observed: dict[str, Array],
    lengths: dict[str, Array],
    num_chains: int,
    num_steps: int,
    sharding: jax.sharding.Sharding | None,
) -> dict[str, Array]:
    """``sample`` without the checks: ``num_chains`` chains with ``observed`` (one row per
    chain) clamped, drawn from the biases and advanced by ``num_steps`` Gibbs steps."""
    init_key, run_key = jax.random.split(rng_key)
    chains = jax.vmap(gibbs(model).init, in_axes=(0, None, 0, None))(
        jax.random.split(init_key, num_chains), params, observed, lengths
    )
    if sharding is not None:
        chains = jax.lax.with_sharding_constraint(chains, sharding)
    return advance(model, run_key, chains, params, num_steps)[0].layers


def shard_chains(tree: object, mesh: Mesh) -> object:
    """``tree`` (an estimator's state) on the mesh: the layers of every ``GibbsState`` in it
    split along their chain axis, everything else (centering offsets) replicated."""

    def place(node: object) -> object:
        if isinstance(node, GibbsState):
            return distributed.shard(node, mesh)
        return distributed.replicate(node, mesh)

    return jax.tree.map(place, tree, is_leaf=lambda node: isinstance(node, GibbsState))
