"""The multimodal DBM's two jobs: fill in a missing modality, and represent the input jointly.

A missing visible layer is inferred like a hidden one: clamp the observed layers and run Gibbs
sampling or mean-field over everything else (Srivastava & Salakhutdinov 2012, section 4.2).
What is read out is the missing layer's conditional mean, as a distribution: word
probabilities for a Replicated Softmax layer, means for a Gaussian one, unit probabilities for a
Bernoulli one. The joint representation is the mean-field posterior of the top layer(s) with
the missing modalities filled in first, as for the paper's image-only queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp

from mmdbm.graph import Model
from mmdbm.inference.gibbs import averaged_means, gibbs
from mmdbm.inference.mean_field import mean_field_batch
from mmdbm.params import Params
from mmdbm.units import ReplicatedSoftmax
from mmdbm.validation import check_count, check_observed

Array = jax.Array

METHODS = ("gibbs", "mean_field")
NUM_CHAINS = 10  # Gibbs chains per example (see infer_missing)


def _missing_visible(model: Model, observed: Mapping[str, Array]) -> tuple[str, ...]:
    return tuple(name for name in model.visible if name not in observed)


def _as_distribution(model: Model, name: str, mean: Array) -> Array:
    """Word probabilities from expected counts; other means as they are."""
    if isinstance(model.layers[name], ReplicatedSoftmax):
        return mean / jnp.sum(mean, axis=-1, keepdims=True)
    return mean


@partial(jax.jit, static_argnames=("model", "missing", "num_steps", "num_chains"))
def _gibbs_means(
    rng_key: Array,
    model: Model,
    params: Params,
    observed: dict[str, Array],
    lengths: dict[str, Array],
    missing: tuple[str, ...],
    num_steps: int,
    num_chains: int,
) -> dict[str, Array]:
    """Per example: the conditional means of ``missing`` averaged over the second half of
    ``num_steps`` Gibbs steps in each of ``num_chains`` chains (a Rao-Blackwellised estimate)."""
    sampler = gibbs(model)

    def one_chain(key: Array, observed_one: dict[str, Array]) -> dict[str, Array]:
        init_key, run_key = jax.random.split(key)
        state = sampler.init(init_key, params, observed_one, lengths)
        return averaged_means(run_key, model, params, state, missing, num_steps)

    def one_example(key: Array, observed_one: dict[str, Array]) -> dict[str, Array]:
        means = jax.vmap(one_chain, in_axes=(0, None))(
            jax.random.split(key, num_chains), observed_one
        )
        return {name: jnp.mean(m, axis=0) for name, m in means.items()}

    num_examples = jax.tree.leaves(observed)[0].shape[0]
    return jax.vmap(one_example)(jax.random.split(rng_key, num_examples), observed)


def _infer(
    rng_key: Array | None,
    model: Model,
    params: Params,
    observed: dict[str, Array],
    lengths: dict[str, Array],
    *,
    num_steps: int,
    method: str,
    num_chains: int,
) -> dict[str, Array]:
    """Conditional means (expected counts for count layers) of the missing visible layers."""
    missing = _missing_visible(model, observed)
    if not missing:
        return {}
    if method == "mean_field":
        means = mean_field_batch(model, params, observed, lengths, num_steps, 0.0)
        return {name: means[name] for name in missing}
    return _gibbs_means(rng_key, model, params, observed, lengths, missing, num_steps, num_chains)


def infer_missing(
    rng_key: Array | None,
    model: Model,
    params: Params,
    observed: Mapping[str, Array],
    *,
    num_steps: int = 100,
    method: str = "gibbs",
    num_chains: int = NUM_CHAINS,
    lengths: Mapping[str, int] | None = None,
) -> dict[str, Array]:
    """The conditional distribution of every missing visible layer given the observed ones.

    Args:
      rng_key: a JAX PRNG key (unused, and may be ``None``, for ``method="mean_field"``).
      model: the model.
      params: its parameters.
      observed: ``{visible layer: Array[b, n]}`` for the modalities that are present.
      num_steps: Gibbs steps (the second half is averaged) or mean-field sweeps.
      method: ``"gibbs"`` (exact in the limit) or ``"mean_field"`` (deterministic, approximate).
      num_chains: Gibbs chains per example, averaged. With one, the Monte Carlo noise left in
        each example's estimate costs a ranking of the generated words (or the squared error
        of a generated view) much of what the model knows; ten come within 0.03 of the
        floor-to-ceiling gap of thirty (``benchmarks/missing_modality.py``).
      lengths: total count M of each missing Replicated Softmax layer, the number of words the
        sampler fills in (default: the mean document length stored by ``Model.init``).

    Returns:
      ``{missing visible layer: Array[b, n]}``: word probabilities (rows sum to 1) for
      Replicated Softmax layers, means for Gaussian layers, probabilities for Bernoulli layers.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "gibbs" and rng_key is None:
        raise ValueError("method='gibbs' needs an rng_key")
    check_count("num_chains", num_chains)
    check_count("num_steps", num_steps)
    observed, lengths = check_observed(model, params, observed, lengths)
    means = _infer(
        rng_key,
        model,
        params,
        observed,
        lengths,
        num_steps=num_steps,
        method=method,
        num_chains=num_chains,
    )
    return {name: _as_distribution(model, name, mean) for name, mean in means.items()}


def top_layers(model: Model) -> tuple[str, ...]:
    """The layers with nothing above them: ``"joint"``, or the last hidden layer of a DBM."""
    lowers = {lower for lower, _ in model.edges}
    return tuple(name for name in model.layers if name not in lowers)


def represent(
    model: Model,
    params: Params,
    observed: Mapping[str, Array],
    *,
    key: Array | None = None,
    layers: Sequence[str] | None = None,
    num_steps: int = 50,
    lengths: Mapping[str, int] | None = None,
) -> Array:
    """Features for classification and retrieval: mean-field posteriors of the top layers.

    With ``key``, missing visible layers are first filled in with their conditional means
    (expected word counts for text) by Gibbs sampling, then clamped; without it mean-field
    infers them together with the hidden layers. The mean-field means of ``layers`` are
    concatenated.

    Args:
      model: the model.
      params: its parameters.
      observed: ``{visible layer: Array[b, n]}``; any subset of the modalities.
      key: a JAX PRNG key to fill missing modalities by Gibbs sampling; ``None`` for mean-field.
      layers: the layers whose means form the features (default: the top layer, ``"joint"``
        for a multimodal DBM); e.g. ``("joint", "image_h2", "text_h2")`` adds the pathway tops.
      num_steps: Gibbs steps for filling in and mean-field sweeps for the representation.
      lengths: total counts M of missing Replicated Softmax layers.

    Returns:
      ``Array[b, d]`` with ``d`` the total width of ``layers``.
    """
    layers = top_layers(model) if layers is None else tuple(layers)
    unknown = [name for name in layers if name not in model.layers]
    if unknown:
        raise ValueError(
            f"layers: unknown layers {unknown}; the model's layers are {list(model.layers)}"
        )
    check_count("num_steps", num_steps)
    observed, lengths = check_observed(model, params, observed, lengths)
    if key is not None:
        observed = {
            **observed,
            **_infer(
                key,
                model,
                params,
                observed,
                lengths,
                num_steps=num_steps,
                method="gibbs",
                num_chains=NUM_CHAINS,
            ),
        }
    means = mean_field_batch(model, params, observed, lengths, num_steps, 0.0)
    return jnp.concatenate([means[name] for name in layers], axis=-1)
