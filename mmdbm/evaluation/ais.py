"""Annealed importance sampling of the partition function, for every unit type and graph.

One colour class ``B`` (the one with more units) is summed out analytically, so the chains live
on the other class ``A`` and the intermediate distributions are

    p_beta(x_A) ∝ mu(x_A) exp(-F_beta(x_A)),   F_beta = the free energy under theta_beta,
    theta_beta = (1 - beta) theta_0 + beta theta,

where the base model ``theta_0`` has zero weights (its biases and sigmas are those of
``base``, by default ``marginal_base``), so every layer is independent under it and
``log Z_0 = sum_l log Z_l(0)`` is exact. Each chain
starts with an exact draw from ``p_0``, and at every ``beta_k`` adds
``F_{beta_{k-1}}(x) - F_{beta_k}(x)`` to its log-weight before one block Gibbs transition
(``B ~ p(B | A)``, then ``A ~ p(A | B)``) that leaves ``p_{beta_k}`` invariant (Neal 2001).
``Z / Z_0`` is estimated by the mean importance weight, so ``log Z`` is underestimated on
average (Jensen): a stochastic lower bound, and log-likelihoods from it are optimistic.

The default base model is the product of independent layers whose marginals match the
model's, estimated by a short Gibbs run (``marginal_base``: the base-rate model of
Salakhutdinov & Murray 2008 for every layer). That makes the path between the
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
from collections.abc import Mapping, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from mmdbm import distributed
from mmdbm.energy import bias_only_args, layer_bias, layer_field, summed_class
from mmdbm.graph import Model
from mmdbm.inference.gibbs import averaged_means, gibbs, run_chains
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
LENGTHS_PER_PROGRAM = 8


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
            2 * jax.nn.logsumexp(self.log_weights, axis=-1)
            - jax.nn.logsumexp(2 * self.log_weights, axis=-1)
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
    (``bias_for_mean`` of the unit, divided by M for a Bernoulli layer next to a count layer);
    sigmas are the model's. The means are the conditional means of every layer averaged over
    ``num_chains`` Gibbs chains and the second half of ``num_steps`` steps from a neutral start.

    As an AIS base it depends on the distribution only, not on how it is parameterised: the
    base-rate model of Salakhutdinov & Murray (2008) for every layer, hidden ones included."""
    check_params(model, params)
    num_chains = check_count("num_chains", num_chains)
    num_steps = check_count("num_steps", num_steps, minimum=2)
    totals = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    return _marginal_base(rng_key, model, params, totals, num_chains, num_steps)


@partial(jax.jit, static_argnames=("model", "num_chains", "num_steps"))
def _marginal_base(
    rng_key: Array,
    model: Model,
    params: Params,
    totals: dict[str, Array],
    num_chains: int,
    num_steps: int,
) -> Params:
    means = _marginal_means(rng_key, model, params, totals, num_chains, num_steps)
    biases = {}
    for name, unit in model.layers.items():
        bias = unit.bias_for_mean(means[name])
        count_layer = model.count_layer_of.get(name)
        biases[name] = bias if count_layer is None else bias / totals[count_layer]
    return params.replace(weights=jax.tree.map(jnp.zeros_like, params.weights), biases=biases)


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

    def one_chain(key: Array) -> dict[str, Array]:
        init_key, run_key = jax.random.split(key)
        state = sampler.init(init_key, neutral, {}, totals)
        return averaged_means(run_key, model, params, state, tuple(model.layers), num_steps)

    means = jax.vmap(one_chain)(jax.random.split(rng_key, num_chains))
    return jax.tree.map(lambda m: jnp.mean(m, axis=0), means)


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


def length_table(
    model: Model, params: Params, lengths: Mapping[str, object] | None
) -> tuple[dict[str, np.ndarray], bool]:
    """The total counts M of the Replicated Softmax layers, one row per evaluated length
    (``{layer: Array[L]}``), and whether ``lengths`` asked for several (1-D values)."""
    lengths = dict(lengths or {})
    sizes = {len(value) for value in lengths.values() if np.ndim(value) == 1}
    if len(sizes) > 1 or any(np.ndim(value) > 1 for value in lengths.values()):
        raise ValueError(
            "lengths: give each layer one total count M, or every layer a 1-D list of them of "
            f"one common size; got {lengths!r}"
        )
    count = sizes.pop() if sizes else None
    if count == 0:
        raise ValueError("lengths: the lists of total counts M are empty")
    rows = [
        check_lengths(
            model,
            params,
            {name: value[row] if np.ndim(value) == 1 else value for name, value in lengths.items()},
            sampled_count_layers(model, {}),
        )
        for row in range(1 if count is None else count)
    ]
    table = {name: np.array([float(row[name]) for row in rows], np.float32) for name in rows[0]}
    return table, count is not None


def _length_groups(table: dict[str, np.ndarray], num_lengths: int) -> np.ndarray:
    """The rows of ``table`` in groups of ``LENGTHS_PER_PROGRAM`` similar lengths (shortest
    first, the last group padded with its last row): ``Array[groups, per group]``."""
    total = sum((column for column in table.values()), np.zeros(num_lengths, np.float32))
    order = np.argsort(total, kind="stable")
    size = min(LENGTHS_PER_PROGRAM, num_lengths)
    padded = np.concatenate([order, np.full(-num_lengths % size, order[-1])])
    return padded.reshape(-1, size)


@partial(jax.jit, static_argnames=("model", "num_chains", "num_steps"))
def _bases(
    keys: Array,
    model: Model,
    params: Params,
    given: Params | None,
    totals: dict[str, Array],
    num_chains: int,
    num_steps: int,
) -> Params:
    """The base model of each length of a group: ``given`` with zero weights, or
    ``marginal_base``."""
    if given is not None:
        zero = given.replace(weights=jax.tree.map(jnp.zeros_like, given.weights))
        count = keys.shape[0]
        return jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, (count, *leaf.shape)), zero)
    return jax.vmap(_marginal_base, in_axes=(0, None, None, 0, None, None))(
        keys, model, params, totals, num_chains, num_steps
    )


@partial(jax.jit, static_argnames=("model", "num_chains"))
def _starts_from_base(
    keys: Array, model: Model, bases: Params, totals: dict[str, Array], num_chains: int
) -> dict[str, Array]:
    """Exact draws of the sampled class from each length's base model, ``num_chains`` each."""
    _, sampled = _classes(model)

    def one_length(key: Array, base: Params, length_totals: dict[str, Array]):
        def one_chain(chain_key: Array) -> dict[str, Array]:
            layer_keys = jax.random.split(chain_key, len(sampled))
            return {
                name: model.layers[name].sample(
                    k, *bias_only_args(model, base, name, length_totals)
                )
                for k, name in zip(layer_keys, sampled, strict=True)
            }

        return jax.vmap(one_chain)(jax.random.split(key, num_chains))

    return jax.vmap(one_length)(keys, bases, totals)


@partial(jax.jit, static_argnames=("model", "num_steps"))
def _starts_from_data(
    keys: Array, model: Model, params: Params, observed: dict[str, Array], num_steps: int
) -> dict[str, Array]:
    """The sampled class of each length's chains, drawn by ``num_steps`` Gibbs steps with the
    visible layers clamped at ``observed`` (``{layer: Array[lengths, chains, n]}``)."""
    _, sampled = _classes(model)

    def one_length(key: Array, examples: dict[str, Array]) -> dict[str, Array]:
        num_chains = jax.tree.leaves(examples)[0].shape[0]
        layers = run_chains(key, model, params, examples, {}, num_chains, num_steps, None)
        return {name: layers[name] for name in sampled}

    return jax.vmap(one_length)(keys, observed)


@partial(jax.jit, static_argnames=("model",))
def _ais_log_weights(
    model: Model,
    params: Params,
    bases: Params,
    betas: Array,
    keys: Array,
    totals: dict[str, Array],
    chains: dict[str, Array],
    log_weights: Array,
) -> tuple[dict[str, Array], Array]:
    """Anneal each length's chains from ``betas[0]`` through ``betas[1:]`` (one key per length
    and step), adding to their log importance weights: ``F_{beta_before}(x) - F_beta(x)``,
    then a Gibbs transition that leaves ``p_beta`` invariant.

    The base has no weights, so ``theta_beta`` has the weights ``beta W`` and every field under
    it is ``beta`` times the field under ``W``: a step computes each summed layer's field from
    the chains once, for both free energies and the draw of that layer (twice when a sampled
    layer is Gaussian, as its statistic ``x / sigma_beta`` moves with ``beta``)."""
    summed, sampled = _classes(model)
    statistics_move = any(isinstance(model.layers[name], Gaussian) for name in sampled)

    def one_length(base, length_keys, length_totals, x, log_w):
        num_chains = log_w.shape[0]

        def interpolate(beta: Array) -> Params:
            """``theta_beta``'s biases and log sigmas, with the unscaled weights ``W``."""

            def mix(first: Array, last: Array) -> Array:
                return (1 - beta) * first + beta * last

            return params.replace(
                biases=jax.tree.map(mix, base.biases, params.biases),
                log_sigma=jax.tree.map(mix, base.log_sigma, params.log_sigma),
            )

        def bias_args(p: Params, name: str) -> tuple[Array, Array | None, Array | None]:
            """``(bias, log_sigma, total)`` of a layer under ``p``."""
            return bias_only_args(model, p, name, length_totals)[1:]

        def fields(p: Params, state: dict[str, Array], names) -> dict[str, Array]:
            """The fields of the layers ``names`` under the weights ``W``."""
            return {name: layer_field(model, p, state, name) for name in names}

        def scaled(beta: Array, phi: dict[str, Array]) -> dict[str, Array]:
            return {name: beta * value for name, value in phi.items()}

        def free_energy(p: Params, state: dict[str, Array], phi: dict[str, Array]) -> Array:
            """``F(x) = sum_l E_l(x_l) - sum_{l summed} log Z_l(phi_l)``: a colour class has
            no edges within it, so its energy is its layers' self-energies."""
            value = sum(
                model.layers[name].energy(
                    state[name], layer_bias(model, p, name, length_totals), p.log_sigma.get(name)
                )
                for name in sampled
            )
            return value - sum(
                model.layers[name].log_partition(phi[name], *bias_args(p, name)) for name in summed
            )

        def one_chain(key, beta_before, beta, before, now, state):
            """One chain's log-weight increment ``F_{beta_before}(x) - F_beta(x)`` and its
            Gibbs transition at ``beta``."""
            unscaled = fields(now, state, summed)
            phi_now = scaled(beta, unscaled)
            phi_before = scaled(
                beta_before, fields(before, state, summed) if statistics_move else unscaled
            )
            step = free_energy(before, state, phi_before) - free_energy(now, state, phi_now)
            summed_key, sampled_key = jax.random.split(key)
            other = {
                name: model.layers[name].sample(k, phi_now[name], *bias_args(now, name))
                for k, name in zip(jax.random.split(summed_key, len(summed)), summed, strict=True)
            }
            phi_sampled = scaled(beta, fields(now, other, sampled))
            state = {
                name: model.layers[name].sample(k, phi_sampled[name], *bias_args(now, name))
                for k, name in zip(
                    jax.random.split(sampled_key, len(sampled)), sampled, strict=True
                )
            }
            return state, step

        def anneal(carry, inputs):
            x, log_w = carry
            beta_before, beta, key = inputs
            before, now = interpolate(beta_before), interpolate(beta)
            x, step = jax.vmap(one_chain, (0, None, None, None, None, 0))(
                jax.random.split(key, num_chains), beta_before, beta, before, now, x
            )
            return (x, log_w + step), None

        (x, log_w), _ = jax.lax.scan(anneal, (x, log_w), (betas[:-1], betas[1:], length_keys))
        return x, log_w

    return jax.vmap(one_length)(bases, keys, totals, chains, log_weights)


@partial(jax.jit, static_argnames=("model",))
def _base_log_partitions(model: Model, bases: Params, totals: dict[str, Array]) -> Array:
    return jax.vmap(partial(base_log_partition, model))(bases, totals)


class _Annealing(NamedTuple):
    """One AIS computation: the model, its base (``None``: ``marginal_base``), the inverse
    temperatures in the order run, the Gibbs steps of the marginal base, and, for reverse AIS,
    the examples of each length and the clamped Gibbs steps that draw the hidden layers."""

    model: Model
    params: Params
    base: Params | None
    betas: np.ndarray
    num_chains: int
    num_base_steps: int
    starts: dict[str, np.ndarray] | None
    num_posterior_steps: int


def _run(
    rng_key: Array,
    job: _Annealing,
    table: dict[str, np.ndarray],
    *,
    progress: bool,
    mesh: Mesh | None,
    description: str,
) -> tuple[Array, Array]:
    """Log-weights ``[L, chains]`` and base log-partitions ``[L]`` of every length of
    ``table``, groups of similar lengths in one compiled program each (all groups one shape).
    Each length has its own key, so its result does not depend on the others."""
    num_lengths = len(next(iter(table.values()))) if table else 1
    groups = _length_groups(table, num_lengths)
    length_keys = jax.random.split(rng_key, num_lengths)
    steps = len(job.betas) - 1
    bounds = progress_pieces(steps, progress)
    betas = jnp.asarray(job.betas, jnp.float32)
    sharding = None
    if mesh is not None:
        distributed.check_divisible("num_chains", job.num_chains, mesh)
        sharding = NamedSharding(mesh, PartitionSpec(None, distributed.DATA_AXIS))
    log_weights, log_z_bases = [], []
    with tqdm(
        total=len(groups) * steps, desc=description, unit="beta", disable=not progress
    ) as bar:
        for rows in groups:
            keys = jax.vmap(lambda key: jax.random.split(key, 3))(length_keys[rows])
            totals = {name: jnp.asarray(column[rows]) for name, column in table.items()}
            bases = _bases(
                keys[:, 0],
                job.model,
                job.params,
                job.base,
                totals,
                job.num_chains,
                job.num_base_steps,
            )
            if job.starts is None:
                chains = _starts_from_base(keys[:, 1], job.model, bases, totals, job.num_chains)
            else:
                observed = {name: jnp.asarray(values[rows]) for name, values in job.starts.items()}
                chains = _starts_from_data(
                    keys[:, 1], job.model, job.params, observed, job.num_posterior_steps
                )
            log_w = jnp.zeros((len(rows), job.num_chains))
            if sharding is not None:
                chains, log_w = jax.device_put((chains, log_w), sharding)
            step_keys = jax.vmap(lambda key: jax.random.split(key, steps))(keys[:, 2])
            for first, last in itertools.pairwise(bounds):
                chains, log_w = _ais_log_weights(
                    job.model,
                    job.params,
                    bases,
                    betas[first : last + 1],
                    step_keys[:, first:last],
                    totals,
                    chains,
                    log_w,
                )
                bar.update(last - first)
            log_weights.append(log_w)
            log_z_bases.append(_base_log_partitions(job.model, bases, totals))
    position = np.argsort(groups.reshape(-1)[:num_lengths])  # the padding comes last
    log_weights, log_z_bases = jnp.concatenate(log_weights), jnp.concatenate(log_z_bases)
    return log_weights[position], log_z_bases[position]


def progress_pieces(steps: int, progress: bool) -> np.ndarray:
    """Where an annealing of ``steps`` steps is cut into compiled pieces, each reporting to a
    progress bar when done: ``PROGRESS_PIECES`` near-equal pieces with ``progress``, else one."""
    pieces = min(PROGRESS_PIECES, steps) if progress else 1
    return np.linspace(0, steps, pieces + 1).round().astype(int)


def _warn_if_degenerate(result: AISResult, num_betas: int) -> None:
    """``AISWarning`` for each estimate whose effective sample size is below
    ``MIN_EFFECTIVE_FRACTION`` of the chains (and below ``MIN_EFFECTIVE_CHAINS``)."""
    num_chains = result.log_weights.shape[-1]
    effective = np.atleast_1d(np.asarray(result.effective_sample_size))
    low, high = np.atleast_1d(result.log_z_low), np.atleast_1d(result.log_z_high)
    degenerate = np.flatnonzero(
        effective < max(MIN_EFFECTIVE_CHAINS, MIN_EFFECTIVE_FRACTION * num_chains)
    )
    if degenerate.size == 0:
        return
    where = "" if effective.size == 1 else f"{degenerate.size} of {effective.size} lengths, "
    worst = degenerate[np.argmin(effective[degenerate])]
    warnings.warn(
        f"AIS: {where}the effective sample size is {effective[worst]:.1f} of {num_chains} "
        f"chains, so the weights are dominated by a few and the interval "
        f"[{float(low[worst]):.2f}, {float(high[worst]):.2f}] need not hold log Z; raise "
        f"num_betas (now {num_betas})",
        AISWarning,
        stacklevel=4,
    )


def _settings(
    model: Model,
    params: Params,
    num_chains: int,
    num_betas: int,
    schedule: Array | None,
    lengths: Mapping[str, object] | None,
) -> tuple[int, np.ndarray, dict[str, np.ndarray], bool]:
    """The checked settings shared by ``ais`` and ``reverse_ais``."""
    num_chains = check_count("num_chains", num_chains, minimum=2)
    check_params(model, params)
    betas = _checked_schedule(num_betas, schedule)
    table, batched = length_table(model, params, lengths)
    return num_chains, betas, table, batched


def finished(
    log_weights: Array, log_z_bases: Array, summary, batched: bool, num_betas: int
) -> AISResult:
    """The ``AISResult`` of every length (one leading axis when ``batched``), warned about."""
    result = jax.vmap(summary)(log_weights, log_z_bases)
    if not batched:
        result = jax.tree.map(lambda leaf: leaf[0], result)
    _warn_if_degenerate(result, num_betas)
    return result


def ais(
    rng_key: Array,
    model: Model,
    params: Params,
    *,
    num_chains: int = 100,
    num_betas: int = 10_000,
    schedule: Array | None = None,
    base: Params | None = None,
    lengths: Mapping[str, int | Sequence[int]] | None = None,
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
        ``Model.init``); Z is the normaliser over count vectors of these totals. A 1-D list
        of counts per layer asks for one ``log Z`` per entry (each document length has its
        own Z): they run in groups of ``LENGTHS_PER_PROGRAM`` similar lengths, every group in
        one compiled program, so short documents do not wait on long ones. For a Replicated
        Softmax RBM, ``mm.ais_over_lengths`` anneals every length in one run, and reaches the
        hidden states that dominate long documents' Z, which this path can miss.
      progress: show a progress bar (the schedule then runs in pieces, each compiled scan
        reporting when done; the result is the same).
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``) to split the chains over;
        ``num_chains`` must be a multiple of its size.

    Returns:
      An ``AISResult`` (with a leading axis over the entries of list-valued ``lengths``), a
      stochastic lower bound on ``log Z``; an ``AISWarning`` says when an effective sample
      size is too small for its interval to mean anything.
    """
    num_chains, betas, table, batched = _settings(
        model, params, num_chains, num_betas, schedule, lengths
    )
    if base is not None:
        check_params(model, base)
        base = base.replace(lengths=params.lengths)
    job = _Annealing(model, params, base, betas, num_chains, base_gibbs_steps(len(betas)), None, 0)
    log_weights, log_z_bases = _run(
        rng_key, job, table, progress=progress, mesh=mesh, description="AIS"
    )
    return finished(log_weights, log_z_bases, summarise, batched, len(betas))


def base_gibbs_steps(num_betas: int) -> int:
    """Gibbs steps of the default base's run (``marginal_base``): a tenth of the annealing's,
    at least ``MIN_BASE_GIBBS_STEPS``."""
    return max(MIN_BASE_GIBBS_STEPS, num_betas // 10)


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
    lengths: Mapping[str, int | Sequence[int]] | None = None,
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
      num_chains: chains (at least 2) of each length; the examples are taken in a random
        order, again and again if there are fewer.
      num_betas: number of inverse temperatures, as for ``ais``.
      schedule: as for ``ais``; it is run backwards, from 1 to 0.
      base: as for ``ais`` (the same default, ``marginal_base``).
      lengths: as for ``ais``: one estimate per entry of list-valued lengths.
      progress: show a progress bar.
      mesh: a device mesh to split the chains over, as for ``ais``.
      num_posterior_steps: Gibbs steps with the visible layers clamped that draw the hidden
        layers of each starting state.

    Returns:
      An ``AISResult`` whose ``log_weights`` are those of ``Z_0 / Z``, with the interval of
      ``log Z`` they give (``+inf`` above when their spread exceeds their mean).
    """
    num_chains, betas, table, batched = _settings(
        model, params, num_chains, num_betas, schedule, lengths
    )
    num_posterior_steps = check_count("num_posterior_steps", num_posterior_steps)
    data = check_layers(model, data, what="data", batched=True)
    missing = [name for name in model.visible if name not in data]
    if missing:
        raise ValueError(f"data: layers {missing} are missing; every visible layer is needed")
    if base is not None:
        check_params(model, base)
        base = base.replace(lengths=params.lengths)
    rows_key, run_key = jax.random.split(rng_key)
    starts = _starting_examples(rows_key, model, data, table, num_chains)
    job = _Annealing(
        model,
        params,
        base,
        betas[::-1],
        num_chains,
        base_gibbs_steps(len(betas)),
        starts,
        num_posterior_steps,
    )
    log_weights, log_z_bases = _run(
        run_key, job, table, progress=progress, mesh=mesh, description="reverse AIS"
    )
    return finished(log_weights, log_z_bases, summarise_reverse, batched, len(betas))


def _starting_examples(
    rng_key: Array,
    model: Model,
    data: dict[str, Array],
    table: dict[str, np.ndarray],
    num_chains: int,
) -> dict[str, np.ndarray]:
    """``{visible layer: Array[lengths, chains, n]}``: for each evaluated length, the
    examples whose documents have it (in a random order, repeated to ``num_chains``)."""
    data = {name: np.asarray(values) for name, values in data.items()}
    num_examples = next(iter(data.values())).shape[0]
    num_lengths = len(next(iter(table.values()))) if table else 1
    counts = [name for name in data if isinstance(model.layers[name], ReplicatedSoftmax)]
    order = np.asarray(jax.random.permutation(rng_key, num_examples))
    rows = []
    for row in range(num_lengths):
        keep = np.ones(num_examples, bool)
        for name in counts:
            keep &= data[name].sum(axis=1) == table[name][row]
        if not keep[order].any():
            wanted = ", ".join(f"'{name}': {table[name][row]:g}" for name in counts)
            raise ValueError(
                f"data: no example has the evaluated document lengths ({wanted}); pass "
                "documents of those lengths, or lengths they have"
            )
        chosen = order[keep[order]]
        rows.append(chosen[np.arange(num_chains) % len(chosen)])
    rows = np.stack(rows)
    return {name: values[rows] for name, values in data.items()}


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
