"""Estimators of the negative log-likelihood gradient: contrastive divergence and PCD.

For a Boltzmann machine with energy ``E_theta(x)`` the negative log-likelihood gradient of one
observation ``v`` is

    -d log p(v) / d theta = E_{p(h | v)}[dE/dtheta] - E_{p(v, h)}[dE/dtheta],

data-dependent statistics minus model statistics (Ackley, Hinton & Sejnowski 1985). Both
expectations are estimated here as gradients of free energies, which sums one colour class
out analytically (a Rao-Blackwellised estimate):

* data statistics: mean-field with the observed layers clamped (Salakhutdinov & Hinton 2009);
  the free layers of one colour class are fixed at their mean-field means and the other class
  is summed out, so ``d/dtheta F(v, mu)`` is the mean-field expectation of ``dE/dtheta``. For an
  RBM nothing is left to mean-field and this is the exact ``dF(v)/dtheta``.
* model statistics: ``d/dtheta F(x_A)`` averaged over Markov chains, one class ``x_A`` taken from
  the chains and the other summed out. PCD keeps the chains from one update to the next
  (stochastic approximation: Tieleman 2008, Salakhutdinov & Hinton 2009); CD-k starts them at
  the data and runs k Gibbs steps (Hinton 2002).

The class summed out is the one holding a Gaussian layer whose sigma is learned (its second
moment then enters exactly through the log-partition), else the one with more free units.
The fields into the summed layers are computed once, for their conditional means (the data's
exact posterior of an RBM's hidden layer, the chains' last Gibbs draw), and serve the gradient
too (``linearised_free_energy``). ``estimate`` returns gradients shaped like ``Params``, so any
Optax transformation applies them. By default they are centered (``centered``,
``mmdbm.training.centering``): the offsets travel in the estimator's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from mmdbm.compilation import static_partial
from mmdbm.energy import (
    conditional_args,
    count_totals,
    given_energy,
    layer_bias,
    layer_field,
    layer_mean,
    layer_sample,
    summed_class,
)
from mmdbm.graph import Model
from mmdbm.inference.gibbs import ConditionalArgs, GibbsState, advance, gibbs
from mmdbm.inference.mean_field import solve
from mmdbm.params import Params
from mmdbm.training.centering import centered_gradient, initial_offsets, offset_statistic
from mmdbm.units import ReplicatedSoftmax, learns_sigma
from mmdbm.validation import check_count, check_lengths, sampled_count_layers

Array = jax.Array

MONITORED_ROWS = 10
DEFAULT_OFFSET_RATE = 0.01


@struct.dataclass
class EstimatorInfo:
    """Cheap diagnostics of one estimate, and the data-phase means that centering needs.

    Attributes:
      reconstruction_error: mean squared difference between the observed layers and their
        conditional means given the mean-field means of their neighbours, on the first
        ``MONITORED_ROWS`` examples of the batch (batches are shuffled, so these are a random
        sample; averaged over an epoch's batches the figure is precise, and it costs a
        fraction of a full pass).
      mean_field_change: largest change of any mean in the last mean-field sweep (zero when
        nothing was left to mean-field).
      layer_means: ``{layer: Array[n]}``, the batch mean of each layer's data-phase mean
        statistic (``centering.offset_statistic``: the data for observed layers, the
        posterior means for the others).
      layer_spread: ``{layer: scalar}``, the standard deviation across the batch of each
        layer's data-phase means, averaged over its units: near zero when a layer has
        collapsed to one representation for every input.
    """

    reconstruction_error: Array
    mean_field_change: Array
    layer_means: dict[str, Array]
    layer_spread: dict[str, Array]


class GradientEstimator(NamedTuple):
    """``init(rng_key, params, num_chains=100, lengths=None, data=None) -> state``;
    ``estimate(rng_key, params, state, batch) -> (grads, state, info)``; the state holds the
    persistent chains (``None`` for CD) and, when centered, the offsets."""

    init: Callable[..., Any]
    estimate: Callable[[Array, Params, Any, Mapping[str, Array]], tuple[Params, Any, EstimatorInfo]]


def data_phase_summary(
    model: Model, params: Params, means: Mapping[str, Array]
) -> tuple[dict[str, Array], dict[str, Array]]:
    """``(layer_means, layer_spread)`` of ``EstimatorInfo`` from the data-phase means of every
    layer, ``{layer: Array[batch, n]}``."""
    layer_means = {
        name: jnp.mean(jax.vmap(partial(offset_statistic, model, params, name))(mean), axis=0)
        for name, mean in means.items()
    }
    layer_spread = {name: jnp.mean(jnp.std(mean, axis=0)) for name, mean in means.items()}
    return layer_means, layer_spread


def linearised_free_energy(
    model: Model,
    params: Params,
    given: Mapping[str, Array],
    totals: Mapping[str, Array],
    fields: Mapping[str, Array],
) -> Array:
    """The free energy of one configuration ``given``, the layers of ``fields`` summed out,
    for its gradient at the parameters where ``fields`` (their fields given ``given``) were
    computed:

        F(x_A) = E_A(x_A) - sum_B log Z_B(phi_B(x_A)),
        dF = dE_A - sum_B [d log Z_B / d(b_B, sigma_B) + E[s_B | phi_B] . d phi_B],

    since ``d log Z_B / d phi_B = E[s_B | phi_B]``. With ``phi_B`` held at its value the
    linear term ``E[s_B | phi_B] . phi_B(x_A)`` carries the weight gradient, and its value is
    never needed, so the compiler drops the products that would compute the fields again. The
    value differs from ``F`` by a constant.
    """
    value = given_energy(model, params, given, totals)
    for name, phi in fields.items():
        unit = model.layers[name]
        args = (
            layer_bias(model, params, name, totals),
            params.log_sigma.get(name),
            totals.get(name),
        )
        slope = jax.lax.stop_gradient(jax.grad(unit.log_partition)(phi, *args))
        value = (
            value - unit.log_partition(phi, *args) - slope @ layer_field(model, params, given, name)
        )
    return value


def _data_term(
    model: Model,
    params: Params,
    batch: dict[str, Array],
    lengths: dict[str, Array],
    num_mean_field_steps: int,
) -> tuple[Callable[[Params], Array], dict[str, Array], EstimatorInfo]:
    """The data free energy as a function of the parameters, the data-phase means, the info.

    The free layers outside the class summed out are held at their mean-field means; the
    summed class is summed out given them. When every free layer is summed out (an RBM), no
    mean-field is needed and the data statistics are exact; the monitored rows then get one
    sweep, which is exact there."""
    free = tuple(name for name in model.layers if name not in batch)
    summed = summed_class(model, free, learns_sigma)
    kept = [name for name in free if name not in summed and learns_sigma(model.layers[name])]
    if kept:
        raise ValueError(
            f"layers {kept} learn sigma but are neither observed nor summed out; the mean-field "
            "data statistics would miss their variance. Observe them or set learn_sigma=False"
        )
    exact = all(name in summed for name in free)

    def solved(observed: dict[str, Array], num_steps: int) -> tuple[dict[str, Array], Array]:
        return jax.vmap(lambda one: solve(model, params, one, lengths, num_steps))(observed)

    means, changes = solved(batch, 0 if exact else num_mean_field_steps)
    given = jax.lax.stop_gradient({n: v for n, v in means.items() if n not in summed})
    totals = jax.vmap(lambda one: count_totals(model, one, lengths))(given)

    def summed_out(one: dict[str, Array], t: dict[str, Array]):
        args = {name: conditional_args(model, params, one, name, t) for name in summed}
        return {n: a[0] for n, a in args.items()}, {
            n: model.layers[n].mean(*a) for n, a in args.items()
        }

    fields, summed_means = jax.lax.stop_gradient(jax.vmap(summed_out)(given, totals))
    means = {**given, **summed_means}
    monitored = jax.tree.map(lambda m: m[:MONITORED_ROWS], means)

    def reconstruction_error(means_one: dict[str, Array]) -> Array:
        totals = count_totals(model, means_one, {})
        errors = [
            jnp.mean(
                jnp.square(layer_mean(model, params, means_one, name, totals) - means_one[name])
            )
            for name in batch
        ]
        return jnp.mean(jnp.stack(errors))

    layer_means, layer_spread = data_phase_summary(model, params, means)
    info = EstimatorInfo(
        reconstruction_error=jnp.mean(jax.vmap(reconstruction_error)(monitored)),
        mean_field_change=jnp.max(changes),
        layer_means=layer_means,
        layer_spread=layer_spread,
    )

    def free_energy(p: Params) -> Array:
        one = jax.vmap(lambda x, t, phi: linearised_free_energy(model, p, x, t, phi))
        return jnp.mean(one(given, totals, fields))

    return free_energy, means, info


def _model_term(
    model: Model, chains: GibbsState, drawn_from: dict[str, ConditionalArgs]
) -> Callable[[Params], Array]:
    """The mean free energy of the chains, the layers of ``drawn_from`` summed out, as a
    function of the params for its gradient: their fields are those the chains' last Gibbs
    step drew them from."""
    layers = jax.lax.stop_gradient(chains.layers)
    given = {name: value for name, value in layers.items() if name not in drawn_from}
    totals = jax.vmap(lambda state: count_totals(model, state, {}))(layers)
    fields = jax.lax.stop_gradient({name: args[0] for name, args in drawn_from.items()})

    def free_energy(p: Params) -> Array:
        one = jax.vmap(lambda x, t, phi: linearised_free_energy(model, p, x, t, phi))
        return jnp.mean(one(given, totals, fields))

    return free_energy


def _gradient(
    model: Model,
    data_fn: Callable[[Params], Array],
    model_fn: Callable[[Params], Array],
    params: Params,
) -> Params:
    """``d/dtheta [F_data - F_model]``, with the log-sigmas of fixed-sigma layers held still."""
    grads = jax.grad(lambda p: data_fn(p) - model_fn(p))(params)
    return grads.replace(
        log_sigma={
            name: g if learns_sigma(model.layers[name]) else jnp.zeros_like(g)
            for name, g in grads.log_sigma.items()
        }
    )


def _at_the_data(
    rng_key: Array,
    model: Model,
    params: Params,
    means: dict[str, Array],
    observed: tuple[str, ...],
) -> GibbsState:
    """Chains at the data: the ``observed`` layers as given, every other layer drawn from its
    conditional given the data-phase means of its neighbours."""

    def one(key: Array, means_one: dict[str, Array]) -> dict[str, Array]:
        totals = count_totals(model, means_one, {})
        layers = dict(means_one)
        free = [name for name in model.layers if name not in observed]
        for layer_key, name in zip(jax.random.split(key, len(free)), free, strict=True):
            layers[name] = layer_sample(layer_key, model, params, means_one, name, totals)
        return layers

    num_chains = jax.tree.leaves(means)[0].shape[0]
    return GibbsState(jax.vmap(one)(jax.random.split(rng_key, num_chains), means))


def stratified_rows(
    rng_key: Array, model: Model, data: Mapping[str, Array], num_rows: int
) -> Array:
    """``num_rows`` random examples of ``data`` whose document lengths follow the data's.

    The examples are shuffled, sorted by the total count of their Replicated Softmax layers,
    and taken at evenly spaced positions from a random start, so every length is drawn in
    proportion to its share of the data, up to one example. This matters for the chains'
    statistics: a Replicated Softmax model is conditioned on each document's length M and
    scales its hidden biases by it, so chains whose lengths are a random sample (or all the
    mean length) estimate ``E[M h]`` and its kin with a persistent bias of their own."""
    num_examples = jax.tree.leaves(data)[0].shape[0]
    shuffle_key, start_key = jax.random.split(rng_key)
    order = jax.random.permutation(shuffle_key, num_examples)
    counts = [name for name in data if isinstance(model.layers[name], ReplicatedSoftmax)]
    lengths = sum(
        (jnp.sum(jnp.asarray(data[name])[order], axis=1) for name in counts),
        jnp.zeros(num_examples),
    )
    by_length = order[jnp.argsort(lengths, stable=True)]
    positions = (jnp.arange(num_rows, dtype=jnp.float32) + jax.random.uniform(start_key)) * (
        num_examples / num_rows
    )
    return by_length[jnp.floor(positions).astype(jnp.int32) % num_examples]


def _persistent_chains(
    model: Model,
    num_mean_field_steps: int,
    rng_key: Array,
    params: Params,
    num_chains: int = 100,
    lengths: Mapping[str, int] | None = None,
    data: Mapping[str, Array] | None = None,
) -> GibbsState:
    """``num_chains`` fantasy particles: drawn from the biases alone, or, given the training
    ``data``, started at examples chosen by ``stratified_rows`` (their documents keep their
    own lengths, so the chains' lengths follow the data's) with the hidden layers drawn given
    the mean-field means, as in the data phase."""
    check_count("num_chains", num_chains)
    resolved = check_lengths(model, params, lengths, sampled_count_layers(model, data or {}))
    start_key, rows_key = jax.random.split(rng_key)
    if data is None:
        return jax.vmap(gibbs(model).init, in_axes=(0, None, None, None))(
            jax.random.split(start_key, num_chains), params, {}, resolved
        )
    return _chains_at_examples(
        model, num_mean_field_steps, num_chains, start_key, rows_key, params, dict(data), resolved
    )


@partial(jax.jit, static_argnums=(0, 1, 2))
def _chains_at_examples(
    model: Model,
    num_mean_field_steps: int,
    num_chains: int,
    start_key: Array,
    rows_key: Array,
    params: Params,
    data: dict[str, Array],
    lengths: dict[str, Array],
) -> GibbsState:
    """The chains of ``_persistent_chains`` given data, as one compiled program."""
    rows = stratified_rows(rows_key, model, data, num_chains)
    observed = {name: values[rows] for name, values in data.items()}
    means = jax.vmap(lambda one: solve(model, params, one, lengths, num_mean_field_steps)[0])(
        observed
    )
    return _at_the_data(start_key, model, params, means, tuple(observed))


def _no_chains(
    rng_key: Array, params: Params, num_chains: int = 100, lengths=None, data=None
) -> None:
    """CD keeps no chains between estimates."""
    return None


def _chain_order(model: Model) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The class the chains' statistics sum out, drawn last in each Gibbs step so that its
    fields are at hand, and the other class before it."""
    summed = summed_class(model, tuple(model.layers), learns_sigma)
    return tuple(name for name in model.layers if name not in summed), summed


def _model_gradient(
    model: Model,
    rng_key: Array,
    params: Params,
    chains: GibbsState,
    data_fn: Callable[[Params], Array],
    num_steps: int,
) -> tuple[Params, GibbsState]:
    """Advance the chains by ``num_steps`` Gibbs steps and return the gradient of
    ``F_data - F_model`` with them, and the chains."""
    order = _chain_order(model)
    chains, drawn_from = advance(model, rng_key, chains, params, num_steps, order)
    model_fn = _model_term(model, chains, drawn_from)
    return _gradient(model, data_fn, model_fn, params), chains


def _pcd_estimate(
    model: Model,
    num_gibbs_steps: int,
    num_mean_field_steps: int,
    rng_key: Array,
    params: Params,
    chains: GibbsState,
    batch: Mapping[str, Array],
) -> tuple[Params, GibbsState, EstimatorInfo]:
    lengths = check_lengths(model, params, None, sampled_count_layers(model, batch))
    data_fn, _, info = _data_term(model, params, dict(batch), lengths, num_mean_field_steps)
    grads, chains = _model_gradient(model, rng_key, params, chains, data_fn, num_gibbs_steps)
    return grads, chains, info


def _cd_estimate(
    model: Model,
    k: int,
    num_mean_field_steps: int,
    rng_key: Array,
    params: Params,
    chains: None,
    batch: Mapping[str, Array],
) -> tuple[Params, None, EstimatorInfo]:
    lengths = check_lengths(model, params, None, sampled_count_layers(model, batch))
    data_fn, means, info = _data_term(model, params, dict(batch), lengths, num_mean_field_steps)
    start_key, run_key = jax.random.split(rng_key)
    chains = _at_the_data(start_key, model, params, means, tuple(batch))
    grads, _ = _model_gradient(model, run_key, params, chains, data_fn, k)
    return grads, None, info


@struct.dataclass
class CenteredState:
    """A centered estimator's state: the wrapped estimator's and the offsets ``{layer: [n]}``."""

    inner: Any
    offsets: dict[str, Array]


def _centered_init(
    model: Model,
    inner_init: Callable[..., Any],
    rng_key: Array,
    params: Params,
    num_chains: int = 100,
    lengths: Mapping[str, int] | None = None,
    data: Mapping[str, Array] | None = None,
) -> CenteredState:
    inner = inner_init(rng_key, params, num_chains, lengths, data=data)
    return CenteredState(inner, initial_offsets(model, params))


def _centered_estimate(
    model: Model,
    inner_estimate: Callable[..., Any],
    rate: float,
    rng_key: Array,
    params: Params,
    state: CenteredState,
    batch: Mapping[str, Array],
) -> tuple[Params, CenteredState, EstimatorInfo]:
    grads, inner, info = inner_estimate(rng_key, params, state.inner, batch)
    offsets = {
        name: (1 - rate) * offset + rate * info.layer_means[name]
        for name, offset in state.offsets.items()
    }
    return centered_gradient(model, params, grads, offsets), CenteredState(inner, offsets), info


def centered(
    model: Model, estimator: GradientEstimator, *, rate: float = DEFAULT_OFFSET_RATE
) -> GradientEstimator:
    """``estimator`` with centered gradients (Montavon & Müller 2012; Melchior, Fischer &
    Wiskott 2016; the math is in ``mmdbm.training.centering``).

    Each estimate first moves the offsets toward the batch's data-phase means of the
    statistics (``info.layer_means``: the data for observed layers, posterior means for the
    others), ``mu <- (1 - rate) mu + rate <s>_data``, from ``initial_offsets``; the
    estimator's gradient ``g`` is then returned as ``centered_gradient``, the step of the
    centered coordinates. The state is ``CenteredState(inner, offsets)``.
    """
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise ValueError(f"the offsets' rate must lie in (0, 1], got {rate!r}")
    return GradientEstimator(
        init=static_partial(_centered_init, model, estimator.init),
        estimate=static_partial(_centered_estimate, model, estimator.estimate, float(rate)),
    )


def pcd(
    model: Model,
    *,
    num_gibbs_steps: int = 5,
    num_mean_field_steps: int = 10,
    centering: bool = True,
) -> GradientEstimator:
    """Persistent contrastive divergence with mean-field data statistics.

    Each estimate advances the persistent chains by ``num_gibbs_steps`` block Gibbs steps and
    runs ``num_mean_field_steps`` mean-field sweeps on the batch (the recipe of Salakhutdinov &
    Hinton 2009 and of the multimodal DBM: 5 Gibbs steps, 10 mean-field sweeps, 100 chains).
    With ``centering`` (the default) the gradients are centered (``centered``). Estimators of
    equal settings are equal, so ``fit`` compiles once for all of them.
    """
    check_count("num_gibbs_steps", num_gibbs_steps, minimum=0)
    check_count("num_mean_field_steps", num_mean_field_steps, minimum=0)
    estimator = GradientEstimator(
        init=static_partial(_persistent_chains, model, num_mean_field_steps),
        estimate=static_partial(_pcd_estimate, model, num_gibbs_steps, num_mean_field_steps),
    )
    return centered(model, estimator) if centering else estimator


def cd(
    model: Model, *, k: int = 1, num_mean_field_steps: int = 10, centering: bool = True
) -> GradientEstimator:
    """Contrastive divergence CD-k (Hinton 2002).

    The chains start at the batch: observed layers at their data, free layers drawn from their
    conditionals given the data's mean-field means; then ``k`` block Gibbs steps, each drawing
    last the class that the model statistics sum out (for an RBM with more visible than hidden
    units one step is ``h ~ p(h | v)``, ``v ~ p(v | h)``). No chains persist. With
    ``centering`` (the default) the gradients are centered (``centered``). CD-k is biased for
    small k; as k grows it approaches the exact gradient.
    """
    check_count("k", k, minimum=0)
    check_count("num_mean_field_steps", num_mean_field_steps, minimum=0)
    estimator = GradientEstimator(
        init=static_partial(_no_chains),
        estimate=static_partial(_cd_estimate, model, k, num_mean_field_steps),
    )
    return centered(model, estimator) if centering else estimator
