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
``estimate`` returns gradients shaped like ``Params``, so any Optax transformation applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from mmdbm.energy import count_totals, layer_free_energy, layer_mean, layer_sample, summed_class
from mmdbm.graph import Model
from mmdbm.inference.gibbs import GibbsState, advance, gibbs
from mmdbm.inference.mean_field import solve
from mmdbm.params import Params
from mmdbm.units import Gaussian, Unit
from mmdbm.validation import check_count, check_lengths, sampled_count_layers

Array = jax.Array

MONITORED_ROWS = 10


@struct.dataclass
class EstimatorInfo:
    """Cheap diagnostics of one estimate.

    Attributes:
      reconstruction_error: mean squared difference between the observed layers and their
        conditional means given the mean-field means of their neighbours, on the first
        ``MONITORED_ROWS`` examples of the batch (batches are shuffled, so these are a random
        sample; averaged over an epoch's batches the figure is precise, and it costs a
        fraction of a full pass).
      mean_field_change: largest change of any mean in the last mean-field sweep (zero when
        nothing was left to mean-field).
    """

    reconstruction_error: Array
    mean_field_change: Array


class GradientEstimator(NamedTuple):
    """``init(rng_key, params, num_chains=100, lengths=None) -> chains``;
    ``estimate(rng_key, params, chains, batch) -> (grads, chains, info)``."""

    init: Callable[..., Any]
    estimate: Callable[[Array, Params, Any, Mapping[str, Array]], tuple[Params, Any, EstimatorInfo]]


def _learns_sigma(unit: Unit) -> bool:
    return isinstance(unit, Gaussian) and unit.learn_sigma


def _data_term(
    model: Model,
    params: Params,
    batch: dict[str, Array],
    lengths: dict[str, Array],
    num_mean_field_steps: int,
) -> tuple[Callable[[Params], Array], dict[str, Array], EstimatorInfo]:
    """The data free energy as a function of the parameters, the mean-field means, the info.

    When every free layer is in the class summed out (an RBM), the free energy needs no
    mean-field at all; the monitored rows then get one sweep, which is exact there."""
    free = tuple(name for name in model.layers if name not in batch)
    summed = summed_class(model, free, _learns_sigma)
    kept = [name for name in free if name not in summed and _learns_sigma(model.layers[name])]
    if kept:
        raise ValueError(
            f"layers {kept} learn sigma but are neither observed nor summed out; the mean-field "
            "data statistics would miss their variance. Observe them or set learn_sigma=False"
        )
    exact = all(name in summed for name in free)

    def solved(observed: dict[str, Array], num_steps: int) -> tuple[dict[str, Array], Array]:
        return jax.vmap(lambda one: solve(model, params, one, lengths, num_steps))(observed)

    means, changes = solved(batch, 0 if exact else num_mean_field_steps)
    means = jax.lax.stop_gradient(means)
    given = {name: value for name, value in means.items() if name not in summed}
    monitored = jax.tree.map(lambda m: m[:MONITORED_ROWS], means)
    if exact:
        monitored, _ = solved({name: monitored[name] for name in batch}, 1)

    def reconstruction_error(means_one: dict[str, Array]) -> Array:
        totals = count_totals(model, means_one, {})
        errors = [
            jnp.mean(
                jnp.square(layer_mean(model, params, means_one, name, totals) - means_one[name])
            )
            for name in batch
        ]
        return jnp.mean(jnp.stack(errors))

    info = EstimatorInfo(
        reconstruction_error=jnp.mean(jax.vmap(reconstruction_error)(monitored)),
        mean_field_change=jnp.max(changes),
    )

    def free_energy(p: Params) -> Array:
        per_example = jax.vmap(lambda x: layer_free_energy(model, p, x, lengths))(given)
        return jnp.mean(per_example)

    return free_energy, means, info


def _model_term(model: Model, chains: GibbsState) -> Callable[[Params], Array]:
    """The mean free energy of the chains (one class summed out) as a function of the params."""
    summed = summed_class(model, tuple(model.layers), _learns_sigma)
    layers = jax.lax.stop_gradient(chains.layers)
    given = {name: value for name, value in layers.items() if name not in summed}
    totals = jax.vmap(lambda state: count_totals(model, state, {}))(layers)

    def free_energy(p: Params) -> Array:
        per_chain = jax.vmap(lambda x, t: layer_free_energy(model, p, x, t))(given, totals)
        return jnp.mean(per_chain)

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
            name: g if _learns_sigma(model.layers[name]) else jnp.zeros_like(g)
            for name, g in grads.log_sigma.items()
        }
    )


def pcd(
    model: Model, *, num_gibbs_steps: int = 5, num_mean_field_steps: int = 10
) -> GradientEstimator:
    """Persistent contrastive divergence with mean-field data statistics.

    Each estimate advances the persistent chains by ``num_gibbs_steps`` block Gibbs steps and
    runs ``num_mean_field_steps`` mean-field sweeps on the batch (the recipe of Salakhutdinov &
    Hinton 2009 and of the multimodal DBM: 5 Gibbs steps, 10 mean-field sweeps, 100 chains).
    """
    check_count("num_gibbs_steps", num_gibbs_steps, minimum=0)
    check_count("num_mean_field_steps", num_mean_field_steps, minimum=0)
    sampler = gibbs(model)

    def init(
        rng_key: Array,
        params: Params,
        num_chains: int = 100,
        lengths: Mapping[str, int] | None = None,
    ) -> GibbsState:
        """``num_chains`` fantasy particles drawn from the biases alone."""
        check_count("num_chains", num_chains)
        resolved = check_lengths(model, params, lengths, sampled_count_layers(model, {}))
        return jax.vmap(sampler.init, in_axes=(0, None, None, None))(
            jax.random.split(rng_key, num_chains), params, {}, resolved
        )

    def estimate(
        rng_key: Array, params: Params, chains: GibbsState, batch: Mapping[str, Array]
    ) -> tuple[Params, GibbsState, EstimatorInfo]:
        lengths = check_lengths(model, params, None, sampled_count_layers(model, batch))
        chains = advance(model, rng_key, chains, params, num_gibbs_steps)
        data_fn, _, info = _data_term(model, params, dict(batch), lengths, num_mean_field_steps)
        return _gradient(model, data_fn, _model_term(model, chains), params), chains, info

    return GradientEstimator(init=init, estimate=estimate)


def cd(model: Model, *, k: int = 1, num_mean_field_steps: int = 10) -> GradientEstimator:
    """Contrastive divergence CD-k (Hinton 2002).

    The chains start at the batch: observed layers at their data, free layers drawn from their
    mean-field factors; then ``k`` block Gibbs steps (the odd colour class first, so for an RBM
    one step is ``h ~ p(h | v)``, ``v ~ p(v | h)``). There is no persistent state: ``init``
    returns ``None``. CD-k is biased for small k; as k grows it approaches the exact gradient.
    """
    check_count("k", k, minimum=0)
    check_count("num_mean_field_steps", num_mean_field_steps, minimum=0)

    def init(rng_key: Array, params: Params, num_chains: int = 100, lengths=None) -> None:
        """CD keeps no chains between estimates."""
        return None

    def estimate(
        rng_key: Array, params: Params, chains: None, batch: Mapping[str, Array]
    ) -> tuple[Params, None, EstimatorInfo]:
        lengths = check_lengths(model, params, None, sampled_count_layers(model, batch))
        data_fn, means, info = _data_term(model, params, dict(batch), lengths, num_mean_field_steps)
        start_key, run_key = jax.random.split(rng_key)
        num_examples = jax.tree.leaves(means)[0].shape[0]

        def start(key: Array, means_one: dict[str, Array]) -> dict[str, Array]:
            totals = count_totals(model, means_one, {})
            layers = dict(means_one)
            free = [name for name in model.layers if name not in batch]
            for layer_key, name in zip(jax.random.split(key, len(free)), free, strict=True):
                layers[name] = layer_sample(layer_key, model, params, means_one, name, totals)
            return layers

        layers = jax.vmap(start)(jax.random.split(start_key, num_examples), means)
        chains = advance(model, run_key, GibbsState(layers), params, k)
        return _gradient(model, data_fn, _model_term(model, chains), params), None, info

    return GradientEstimator(init=init, estimate=estimate)
