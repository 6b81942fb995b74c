"""Annealed importance sampling of the partition function, for every unit type and graph.

One colour class ``B`` (the one with more units) is summed out analytically, so the chains live
on the other class ``A`` and the intermediate distributions are

    p_beta(x_A) ∝ mu(x_A) exp(-F_beta(x_A)),   F_beta = the free energy under theta_beta,
    theta_beta = (1 - beta) theta_0 + beta theta,

where the base model ``theta_0`` has zero weights (its biases and sigmas are the model's own,
or those of ``base``, e.g. fitted to data: the base-rate model of Salakhutdinov & Murray 2008),
so every layer is independent under it and ``log Z_0 = sum_l log Z_l(0)`` is exact. Each chain
starts with an exact draw from ``p_0``, and at every ``beta_k`` adds
``F_{beta_{k-1}}(x) - F_{beta_k}(x)`` to its log-weight before one block Gibbs transition
(``B ~ p(B | A)``, then ``A ~ p(A | B)``) that leaves ``p_{beta_k}`` invariant (Neal 2001).
``Z / Z_0`` is estimated by the mean importance weight.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from mmdbm import distributed
from mmdbm.energy import bias_only_args, layer_free_energy, layer_sample, summed_class
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.validation import check_count, check_lengths, check_params, sampled_count_layers

Array = jax.Array

PROGRESS_PIECES = 20


class AISResult(NamedTuple):
    """An AIS estimate of ``log Z``.

    Attributes:
      log_z: the estimate, ``log Z_0 + log mean_i w_i``.
      log_z_std: its standard error by the delta method, ``std(w) / (mean(w) sqrt(n))``.
      log_z_low, log_z_high: ``log Z_0 + log(mean(w) -/+ 3 std(w) / sqrt(n))``, the interval
        of Salakhutdinov & Murray (2008); ``-inf`` below when the spread exceeds the mean.
      log_weights: the log importance weight of every chain.
    """

    log_z: Array
    log_z_std: Array
    log_z_low: Array
    log_z_high: Array
    log_weights: Array

    @property
    def effective_sample_size(self) -> Array:
        """``(sum_i w_i)^2 / sum_i w_i^2``: how many chains the estimate is really worth; far
        below the number of chains, the weights are dominated by a few and the estimate (and
        its interval) is unreliable; then anneal more slowly."""
        return jnp.exp(
            2 * jax.nn.logsumexp(self.log_weights) - jax.nn.logsumexp(2 * self.log_weights)
        )


def default_schedule(num_betas: int) -> np.ndarray:
    """Inverse temperatures from 0 to 1, denser near 1: 5% of them on [0, 0.5], 40% on
    [0.5, 0.9] and the rest on [0.9, 1] (the spacing of Salakhutdinov & Murray 2008)."""
    num_betas = check_count("num_betas", num_betas)
    if num_betas < 3:
        raise ValueError(f"num_betas must be at least 3, got {num_betas}")
    first = max(1, round(0.05 * num_betas))
    second = max(1, round(0.40 * num_betas))
    third = num_betas - first - second
    return np.concatenate(
        [
            np.linspace(0.0, 0.5, first, endpoint=False),
            np.linspace(0.5, 0.9, second, endpoint=False),
            np.linspace(0.9, 1.0, third),
        ]
    )


def base_log_partition(model: Model, base: Params, totals: Mapping[str, Array]) -> Array:
    """``log Z_0 = sum_l log Z_l(0)``: with zero weights every layer is independent."""
    return sum(
        unit.log_partition(*bias_only_args(model, base, name, totals))
        for name, unit in model.layers.items()
    )


def _classes(model: Model) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The class summed out analytically, and the class the chains sample."""
    summed = summed_class(model, tuple(model.layers))
    return summed, tuple(name for name in model.layers if name not in summed)


@partial(jax.jit, static_argnames=("model", "num_chains"))
def _ais_start(
    rng_key: Array, model: Model, base: Params, totals: dict[str, Array], num_chains: int
) -> dict[str, Array]:
    """Exact draws of the sampled class from the base model, one per chain."""
    _, sampled = _classes(model)

    def initial(key: Array) -> dict[str, Array]:
        keys = jax.random.split(key, len(sampled))
        return {
            name: model.layers[name].sample(k, *bias_only_args(model, base, name, totals))
            for k, name in zip(keys, sampled, strict=True)
        }

    return jax.vmap(initial)(jax.random.split(rng_key, num_chains))


@partial(jax.jit, static_argnames=("model",))
def _ais_log_weights(
    model: Model,
    params: Params,
    base: Params,
    betas: Array,
    keys: Array,
    totals: dict[str, Array],
    chains: dict[str, Array],
    log_weights: Array,
) -> tuple[dict[str, Array], Array]:
    """Anneal the chains from ``betas[0]`` through ``betas[1:]`` (one key per step), adding
    to their log importance weights."""
    summed, sampled = _classes(model)
    num_chains = log_weights.shape[0]

    def interpolate(beta: Array) -> Params:
        return jax.tree.map(lambda b0, b: (1 - beta) * b0 + beta * b, base, params)

    def transition(key: Array, p: Params, x: dict[str, Array]) -> dict[str, Array]:
        summed_key, sampled_key = jax.random.split(key)
        other = {
            name: layer_sample(k, model, p, x, name, totals)
            for k, name in zip(jax.random.split(summed_key, len(summed)), summed, strict=True)
        }
        return {
            name: layer_sample(k, model, p, other, name, totals)
            for k, name in zip(jax.random.split(sampled_key, len(sampled)), sampled, strict=True)
        }

    def anneal(carry, inputs):
        x, log_w = carry
        beta_before, beta, key = inputs
        before, now = interpolate(beta_before), interpolate(beta)
        free_energy = jax.vmap(
            lambda p, state: layer_free_energy(model, p, state, totals), (None, 0)
        )
        log_w = log_w + free_energy(before, x) - free_energy(now, x)
        x = jax.vmap(transition, (0, None, 0))(jax.random.split(key, num_chains), now, x)
        return (x, log_w), None

    (chains, log_weights), _ = jax.lax.scan(
        anneal, (chains, log_weights), (betas[:-1], betas[1:], keys)
    )
    return chains, log_weights


def ais(
    rng_key: Array,
    model: Model,
    params: Params,
    *,
    num_chains: int = 100,
    num_betas: int = 10_000,
    schedule: Array | None = None,
    base: Params | None = None,
    lengths: Mapping[str, int] | None = None,
    progress: bool = False,
    mesh: Mesh | None = None,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling (Neal 2001; Salakhutdinov & Murray
    2008): from exact draws of the weightless base model, each chain adds
    ``F_{beta_{k-1}}(x) - F_{beta_k}(x)`` to its log-weight at every inverse temperature, with
    ``theta_beta = (1 - beta) theta_0 + beta theta``, and moves by one Gibbs transition that
    leaves ``p_{beta_k}`` invariant; ``log Z = log Z_0 + log mean_chains exp(log-weight)``.

    Args:
      rng_key: a JAX PRNG key.
      model: the model.
      params: its parameters.
      num_chains: independent AIS runs.
      num_betas: number of inverse temperatures (ignored when ``schedule`` is given).
      schedule: increasing inverse temperatures from 0 to 1 (default: ``default_schedule``).
      base: parameters whose biases and sigmas define the base model (its weights are not
        used); default: the model's own. ``model.init(key, data)`` gives the base-rate model.
      lengths: total count M of each Replicated Softmax layer (default: those stored by
        ``Model.init``); Z is the normaliser over count vectors of these totals.
      progress: show a progress bar (the schedule then runs in pieces, each compiled scan
        reporting when done; the result is the same).
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``) to split the chains over;
        ``num_chains`` must be a multiple of its size.

    Returns:
      An ``AISResult``.
    """
    num_chains = check_count("num_chains", num_chains)
    check_params(model, params)
    base = params if base is None else base
    check_params(model, base)
    base = base.replace(weights=jax.tree.map(jnp.zeros_like, base.weights), lengths=params.lengths)
    betas = default_schedule(num_betas) if schedule is None else np.asarray(schedule, np.float64)
    if (
        betas.ndim != 1
        or len(betas) < 2
        or betas[0] != 0
        or betas[-1] != 1
        or np.any(np.diff(betas) < 0)
    ):
        raise ValueError("schedule must be a non-decreasing 1-D array from 0 to 1")
    totals = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    start_key, run_key = jax.random.split(rng_key)
    chains = _ais_start(start_key, model, base, totals, num_chains)
    log_weights = jnp.zeros(num_chains)
    if mesh is not None:
        distributed.check_divisible("num_chains", num_chains, mesh)
        chains, log_weights = distributed.shard((chains, log_weights), mesh)
    betas = jnp.asarray(betas, jnp.float32)
    keys = jax.random.split(run_key, len(betas) - 1)
    pieces = min(PROGRESS_PIECES, len(betas) - 1) if progress else 1
    bounds = np.linspace(0, len(betas) - 1, pieces + 1).round().astype(int)
    with tqdm(total=len(betas) - 1, desc="AIS", unit="beta", disable=not progress) as bar:
        for first, last in itertools.pairwise(bounds):
            chains, log_weights = _ais_log_weights(
                model,
                params,
                base,
                betas[first : last + 1],
                keys[first:last],
                totals,
                chains,
                log_weights,
            )
            bar.update(last - first)
    return summarise(log_weights, base_log_partition(model, base, totals))


def summarise(log_weights: Array, log_z_base: Array) -> AISResult:
    """``AISResult`` from the chains' log importance weights and ``log Z_0``."""
    n = log_weights.shape[0]
    shift = jnp.max(log_weights)
    weights = jnp.exp(log_weights - shift)
    mean = jnp.mean(weights)
    standard_error = jnp.std(weights, ddof=1) / math.sqrt(n)
    offset = log_z_base + shift
    return AISResult(
        log_z=offset + jnp.log(mean),
        log_z_std=standard_error / mean,
        log_z_low=offset + jnp.log(jnp.maximum(mean - 3 * standard_error, 0.0)),
        log_z_high=offset + jnp.log(mean + 3 * standard_error),
        log_weights=log_weights,
    )
