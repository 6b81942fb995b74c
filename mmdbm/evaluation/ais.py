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
``Z / Z_0`` is estimated by the mean importance weight, so ``log Z`` is underestimated on
average (Jensen): a stochastic lower bound, and log-likelihoods from it are optimistic.

The default base model is the product of independent layers whose marginals match the
model's, estimated by a short Gibbs run (``marginal_base``). That makes the path between the
two independent of how the model is parameterised: a base with the model's own biases can sit
far from the model when large biases and weights cancel (centered models), and the estimate
then falls far below ``log Z`` with a tight interval.

``reverse_ais`` runs the same transitions from ``beta = 1`` down to 0, from chains started at
the data, and estimates ``Z_0 / Z``: from exact model samples it is a stochastic upper bound
on ``log Z`` (Burda, Grosse & Salakhutdinov 2015), so the log-likelihood it gives is
conservative. Reported together, the two bracket ``log Z``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from mmdbm import distributed
from mmdbm.energy import (
    bias_only_args,
    count_totals,
    layer_free_energy,
    layer_mean,
    layer_sample,
    summed_class,
)
from mmdbm.graph import Model
from mmdbm.inference.gibbs import gibbs, sample
from mmdbm.params import Params
from mmdbm.units import Gaussian, ReplicatedSoftmax
from mmdbm.validation import (
    check_count,
    check_layers,
    check_lengths,
    check_params,
    sampled_count_layers,
)

Array = jax.Array

PROGRESS_PIECES = 20
MIN_EFFECTIVE_CHAINS = 5
MIN_EFFECTIVE_FRACTION = 0.1
MIN_BASE_GIBBS_STEPS = 50


class AISWarning(UserWarning):
    """AIS's importance weights are dominated by a few chains: its interval means little."""


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
            np.linspace(0.9, 1.0, third) if third > 1 else np.ones(1),
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


def marginal_base(
    rng_key: Array,
    model: Model,
    params: Params,
    *,
    num_chains: int = 100,
    num_steps: int = 1000,
    lengths: Mapping[str, int] | None = None,
) -> Params:
    """The product model whose layers have the model's marginal means: zero weights and each
    layer's bias set so that its mean under the bias alone is the layer's mean under the model
    (``data_bias`` of the unit, divided by M for a Bernoulli layer next to a count layer);
    sigmas are the model's. The means are the conditional means of every layer averaged over
    ``num_chains`` Gibbs chains and the second half of ``num_steps`` steps from a neutral start.

    As an AIS base it depends on the distribution only, not on how it is parameterised: the
    base-rate model of Salakhutdinov & Murray (2008) for every layer, hidden ones included."""
    check_params(model, params)
    num_chains = check_count("num_chains", num_chains)
    num_steps = check_count("num_steps", num_steps, minimum=2)
    totals = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    means = _marginal_means(rng_key, model, params, totals, num_chains, num_steps)
    biases = {}
    for name, unit in model.layers.items():
        bias = unit.data_bias(np.asarray(means[name], np.float64)[None])
        count_layer = model.count_layer_of.get(name)
        if count_layer is not None:
            bias = bias / float(totals[count_layer])
        biases[name] = jnp.asarray(bias, params.biases[name].dtype)
    return params.replace(weights=jax.tree.map(jnp.zeros_like, params.weights), biases=biases)


@partial(jax.jit, static_argnames=("model", "num_chains", "num_steps"))
def _marginal_means(
    rng_key: Array,
    model: Model,
    params: Params,
    totals: dict[str, Array],
    num_chains: int,
    num_steps: int,
) -> dict[str, Array]:
    """Every layer's conditional means averaged over the chains and the second half of the
    steps of a Gibbs run started without preference: discrete layers uniform, Gaussian
    layers at their biases (a start at all the biases can sit in a mode the weights hold the
    chains in, where large biases and weights cancel)."""
    sampler = gibbs(model)
    neutral = params.replace(
        biases={
            name: bias if isinstance(model.layers[name], Gaussian) else jnp.zeros_like(bias)
            for name, bias in params.biases.items()
        }
    )
    init_key, run_key = jax.random.split(rng_key)
    chains = jax.vmap(sampler.init, in_axes=(0, None, None, None))(
        jax.random.split(init_key, num_chains), neutral, {}, totals
    )
    burn_in = num_steps // 2

    def means_of(layers: dict[str, Array]) -> dict[str, Array]:
        layer_totals = count_totals(model, layers, {})
        return {name: layer_mean(model, params, layers, name, layer_totals) for name in layers}

    def step(carry, inputs):
        state, sums = carry
        key, index = inputs
        keys = jax.random.split(key, num_chains)
        state = jax.vmap(sampler.step, in_axes=(0, 0, None))(keys, state, params)
        weight = (index >= burn_in).astype(jnp.float32)
        means = jax.tree.map(lambda m: jnp.mean(m, axis=0), jax.vmap(means_of)(state.layers))
        return (state, jax.tree.map(lambda total, m: total + weight * m, sums, means)), None

    sums = {name: jnp.zeros(unit.n) for name, unit in model.layers.items()}
    steps = (jax.random.split(run_key, num_steps), jnp.arange(num_steps))
    (_, sums), _ = jax.lax.scan(step, (chains, sums), steps)
    return jax.tree.map(lambda total: total / (num_steps - burn_in), sums)


def _checked_schedule(num_betas: int, schedule: Array | None) -> np.ndarray:
    """The inverse temperatures: ``schedule`` if given (checked), else ``default_schedule``."""
    if schedule is None:
        return default_schedule(num_betas)
    betas = np.asarray(schedule, np.float64)
    if (
        betas.ndim != 1
        or len(betas) < 2
        or not np.all(np.isfinite(betas))
        or betas[0] != 0
        or betas[-1] != 1
        or np.any(np.diff(betas) < 0)
    ):
        raise ValueError("schedule must be a non-decreasing 1-D array of numbers from 0 to 1")
    return betas


def _base_model(
    rng_key: Array,
    model: Model,
    params: Params,
    base: Params | None,
    num_chains: int,
    num_betas: int,
    lengths: Mapping[str, int] | None,
) -> Params:
    """``base`` with zero weights, or ``marginal_base`` with a tenth of the annealing's steps."""
    if base is None:
        steps = max(MIN_BASE_GIBBS_STEPS, num_betas // 10)
        base = marginal_base(
            rng_key, model, params, num_chains=num_chains, num_steps=steps, lengths=lengths
        )
    check_params(model, base)
    return base.replace(weights=jax.tree.map(jnp.zeros_like, base.weights), lengths=params.lengths)


def _anneal(
    rng_key: Array,
    model: Model,
    params: Params,
    base: Params,
    betas: np.ndarray,
    totals: dict[str, Array],
    chains: dict[str, Array],
    progress: bool,
    mesh: Mesh | None,
    description: str,
) -> Array:
    """The chains' log importance weights along ``betas`` (increasing or decreasing)."""
    log_weights = jnp.zeros(jax.tree.leaves(chains)[0].shape[0])
    if mesh is not None:
        distributed.check_divisible("num_chains", log_weights.shape[0], mesh)
        chains, log_weights = distributed.shard((chains, log_weights), mesh)
    betas = jnp.asarray(betas, jnp.float32)
    keys = jax.random.split(rng_key, len(betas) - 1)
    pieces = min(PROGRESS_PIECES, len(betas) - 1) if progress else 1
    bounds = np.linspace(0, len(betas) - 1, pieces + 1).round().astype(int)
    with tqdm(total=len(betas) - 1, desc=description, unit="beta", disable=not progress) as bar:
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
    return log_weights


def _warn_if_degenerate(result: AISResult, num_betas: int) -> None:
    """``AISWarning`` when the effective sample size is below ``MIN_EFFECTIVE_FRACTION`` of
    the chains (and below ``MIN_EFFECTIVE_CHAINS``)."""
    num_chains = result.log_weights.shape[0]
    effective = float(result.effective_sample_size)
    if effective < max(MIN_EFFECTIVE_CHAINS, MIN_EFFECTIVE_FRACTION * num_chains):
        warnings.warn(
            f"AIS: the effective sample size is {effective:.1f} of {num_chains} chains, so the "
            f"weights are dominated by a few and the interval [{float(result.log_z_low):.2f}, "
            f"{float(result.log_z_high):.2f}] need not hold log Z; raise num_betas (now "
            f"{num_betas})",
            AISWarning,
            stacklevel=3,
        )


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
      num_chains: independent AIS runs (at least 2).
      num_betas: number of inverse temperatures (ignored when ``schedule`` is given).
      schedule: increasing inverse temperatures from 0 to 1 (default: ``default_schedule``).
      base: parameters whose biases and sigmas define the base model (its weights are not
        used); default: ``marginal_base``, from a Gibbs run a tenth as long as the schedule.
        ``params`` itself gives the base of the model's own biases.
      lengths: total count M of each Replicated Softmax layer (default: those stored by
        ``Model.init``); Z is the normaliser over count vectors of these totals.
      progress: show a progress bar (the schedule then runs in pieces, each compiled scan
        reporting when done; the result is the same).
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``) to split the chains over;
        ``num_chains`` must be a multiple of its size.

    Returns:
      An ``AISResult``, a stochastic lower bound on ``log Z``; an ``AISWarning`` says when its
      effective sample size is too small for its interval to mean anything.
    """
    num_chains = check_count("num_chains", num_chains, minimum=2)
    check_params(model, params)
    betas = _checked_schedule(num_betas, schedule)
    totals = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    base_key, start_key, run_key = jax.random.split(rng_key, 3)
    base = _base_model(base_key, model, params, base, num_chains, len(betas), lengths)
    chains = _ais_start(start_key, model, base, totals, num_chains)
    log_weights = _anneal(
        run_key, model, params, base, betas, totals, chains, progress, mesh, "AIS"
    )
    result = summarise(log_weights, base_log_partition(model, base, totals))
    _warn_if_degenerate(result, len(betas))
    return result


def reverse_ais(
    rng_key: Array,
    model: Model,
    params: Params,
    data: Mapping[str, Array],
    *,
    num_chains: int = 100,
    num_betas: int = 10_000,
    schedule: Array | None = None,
    base: Params | None = None,
    lengths: Mapping[str, int] | None = None,
    num_posterior_steps: int = 100,
    progress: bool = False,
    mesh: Mesh | None = None,
) -> AISResult:
    """Estimate ``log Z`` by reverse AIS, from the data side: a stochastic upper bound.

    Each chain starts at a state of the model drawn from the data: an example of ``data``
    (documents of the evaluated length M only, for Replicated Softmax layers) with the hidden
    layers drawn by ``num_posterior_steps`` Gibbs steps with the visible layers clamped. It
    then runs the transitions of ``ais`` backwards, from ``beta = 1`` to 0, adding
    ``F_{beta_k}(x) - F_{beta_{k-1}}(x)`` to its log-weight before each move at
    ``beta_{k-1}``; the mean weight estimates ``Z_0 / Z`` and
    ``log Z = log Z_0 - log mean_chains exp(log-weight)``. From exact samples of the model the
    estimate exceeds ``log Z`` on average (Jensen), as forward AIS falls short of it, so the two
    bracket ``log Z`` and the log-likelihood this one gives is conservative (Burda, Grosse &
    Salakhutdinov 2015, who derive it as the likelihood of the annealed model, RAISE).

    Its bias holds when the starting states are samples of the model. The data stand in for
    them, which is exact as far as the model fits the data: for an RBM the hidden layer is
    drawn exactly given each example (one step suffices), for deeper models the clamped Gibbs
    run approximates the posterior. The estimate can fall below ``log Z`` when the model puts
    little mass where the data are; a forward estimate above it says so.

    Args:
      rng_key: a JAX PRNG key.
      model: the model.
      params: its parameters.
      data: ``{visible layer: Array[b, n]}`` for every visible layer, the starting points.
      num_chains: chains (at least 2); the examples are taken in a random order, again and
        again if there are fewer.
      num_betas, schedule, base, lengths, progress, mesh: as for ``ais`` (the same default
        base, the same schedule run backwards).
      num_posterior_steps: Gibbs steps with the visible layers clamped that draw the hidden
        layers of each starting state.

    Returns:
      An ``AISResult`` whose ``log_weights`` are those of ``Z_0 / Z``, with the interval of
      ``log Z`` they give (``+inf`` above when their spread exceeds their mean).
    """
    num_chains = check_count("num_chains", num_chains, minimum=2)
    num_posterior_steps = check_count("num_posterior_steps", num_posterior_steps)
    check_params(model, params)
    data = check_layers(model, data, what="data", batched=True)
    missing = [name for name in model.visible if name not in data]
    if missing:
        raise ValueError(f"data: layers {missing} are missing; every visible layer is needed")
    betas = _checked_schedule(num_betas, schedule)
    totals = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    starts = _examples_of_length(model, data, totals)
    base_key, rows_key, start_key, run_key = jax.random.split(rng_key, 4)
    base = _base_model(base_key, model, params, base, num_chains, len(betas), lengths)
    num_examples = next(iter(starts.values())).shape[0]
    order = np.asarray(jax.random.permutation(rows_key, num_examples))
    rows = order[np.arange(num_chains) % num_examples]
    state = sample(
        start_key,
        model,
        params,
        num_chains=num_chains,
        num_steps=num_posterior_steps,
        observed={name: values[rows] for name, values in starts.items()},
    )
    _, sampled = _classes(model)
    chains = {name: state[name] for name in sampled}
    log_weights = _anneal(
        run_key, model, params, base, betas[::-1], totals, chains, progress, mesh, "reverse AIS"
    )
    result = summarise_reverse(log_weights, base_log_partition(model, base, totals))
    _warn_if_degenerate(result, len(betas))
    return result


def _examples_of_length(
    model: Model, data: dict[str, Array], totals: Mapping[str, Array]
) -> dict[str, Array]:
    """The examples whose documents have the evaluated lengths M of every count layer."""
    keep = np.ones(next(iter(data.values())).shape[0], bool)
    for name, values in data.items():
        if isinstance(model.layers[name], ReplicatedSoftmax):
            keep &= np.asarray(values).sum(axis=1) == float(totals[name])
            if not keep.any():
                raise ValueError(
                    f"data: layer '{name}' has no document of the evaluated length "
                    f"{float(totals[name]):g}; pass documents of that length or lengths="
                    f"{{'{name}': M}} for a length they have"
                )
    return {name: jnp.asarray(values)[keep] for name, values in data.items()}


def summarise_reverse(log_weights: Array, log_z_base: Array) -> AISResult:
    """``AISResult`` of ``log Z`` from reverse AIS log-weights (of ``Z_0 / Z``) and
    ``log Z_0``: the estimate and interval of ``log(Z_0 / Z)`` turned around."""
    ratio = summarise(log_weights, jnp.zeros(()))
    return AISResult(
        log_z=log_z_base - ratio.log_z,
        log_z_std=ratio.log_z_std,
        log_z_low=log_z_base - ratio.log_z_high,
        log_z_high=log_z_base - ratio.log_z_low,
        log_weights=log_weights,
    )


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
