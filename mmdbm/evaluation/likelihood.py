"""Log-likelihoods given ``log Z``: exact for RBMs, a variational lower bound for deeper models.

With one colour class ``B`` summed out analytically and a factorised posterior ``q`` over the
free layers of the other class ``A``, Jensen's inequality gives (Salakhutdinov & Hinton 2009,
eq. 9, with the ``B`` factors at their optimum given ``q_A``)

    log p(v) >= -F(v, mu_A) + H(q_A) + log mu(v) - log Z,

where ``mu_A`` are the mean-field means, ``F`` is the free energy with ``B`` summed out
(convex in ``x_A``, so ``E_q[-F] >= -F(mu_A)``), ``H`` the entropy of the Bernoulli factors and
``mu(v)`` the multinomial coefficients of observed word counts. For an RBM nothing is left to
``q`` and this is the exact ``-F(v) + log mu(v) - log Z``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mmdbm.energy import layer_free_energy, summed_class
from mmdbm.evaluation.ais import AISResult
from mmdbm.graph import Model
from mmdbm.inference.mean_field import mean_field_batch
from mmdbm.params import Params
from mmdbm.units import Bernoulli, ReplicatedSoftmax
from mmdbm.validation import (
    check_count,
    check_layers,
    check_lengths,
    check_params,
    sampled_count_layers,
)

Array = jax.Array


def _bernoulli_entropy(p: Array) -> Array:
    """``-sum_i [p_i log p_i + (1 - p_i) log(1 - p_i)]``, zero at 0 and 1."""
    return -jnp.sum(jax.scipy.special.xlogy(p, p) + jax.scipy.special.xlog1py(1 - p, -p))


def _bounded_class(model: Model, free: tuple[str, ...]) -> tuple[str, ...]:
    """The free layers that ``q`` covers: the colour class not summed out, all Bernoulli."""

    summed = summed_class(model, free, lambda unit: not isinstance(unit, Bernoulli))
    bounded = tuple(name for name in free if name not in summed)
    awkward = [name for name in bounded if not isinstance(model.layers[name], Bernoulli)]
    if awkward:
        raise ValueError(
            f"layers {awkward} are neither Bernoulli nor in the class summed out; the bound "
            "needs the entropy of their mean-field factors"
        )
    return bounded


@partial(jax.jit, static_argnames=("model", "visible", "bounded"))
def _bounds(
    model: Model,
    params: Params,
    means: dict[str, Array],
    visible: tuple[str, ...],
    bounded: tuple[str, ...],
    lengths: dict[str, Array],
) -> Array:
    """``-F(v, mu_A) + H(q_A) + log mu(v)`` for every example of ``means``."""

    def bound(example: dict[str, Array]) -> Array:
        given = {name: example[name] for name in visible + bounded}
        base = sum(
            model.layers[name].log_base_measure(example[name])
            for name in visible
            if isinstance(model.layers[name], ReplicatedSoftmax)
        )
        entropy = sum(_bernoulli_entropy(example[name]) for name in bounded)
        return base + entropy - layer_free_energy(model, params, given, lengths)

    return jax.vmap(bound)(means)


def _check_log_z(model: Model, visible: Mapping[str, Array], log_z: object) -> None:
    """``log_z`` is one number, or one per example, and one number only where every example
    has the same document lengths: each length M has its own Z."""
    if isinstance(log_z, AISResult):
        raise ValueError(
            "log_z: pass the estimate itself (result.log_z, or a bound of it), not the AISResult"
        )
    num_examples = next(iter(visible.values())).shape[0]
    if np.ndim(log_z) not in (0, 1) or np.size(log_z) not in (1, num_examples):
        raise ValueError(
            f"log_z must be a scalar or one value per example ({num_examples}), "
            f"got shape {np.shape(log_z)}"
        )
    if np.size(log_z) != 1 or num_examples == 1:
        return
    for name, values in visible.items():
        if isinstance(model.layers[name], ReplicatedSoftmax):
            lengths = np.unique(np.sum(np.asarray(values), axis=-1))
            if len(lengths) > 1:
                shown = ", ".join(f"{m:g}" for m in lengths[:5])
                raise ValueError(
                    f"layer '{name}': the documents have {len(lengths)} different lengths "
                    f"({shown}{', ...' if len(lengths) > 5 else ''}) and each length M has its "
                    "own Z; pass one log Z per example (mm.ais with lengths={"
                    f"'{name}': M}} for each M), not one for all"
                )


def log_likelihood(
    model: Model,
    params: Params,
    visible: Mapping[str, Array],
    log_z: Array | float,
    *,
    num_mean_field_steps: int = 30,
    lengths: Mapping[str, int] | None = None,
) -> Array:
    """``log p(v)`` of each example: exact for an RBM, a lower bound otherwise,

        log p(v) >= -F(v, mu_A) + H(q_A) + log mu(v) - log Z

    with the mean-field means ``mu_A`` of the free layers not summed out (Salakhutdinov &
    Hinton 2009, eq. 9); for an RBM nothing is left to ``q`` and it is ``-F(v) + log mu(v) -
    log Z``.

    Args:
      model: the model.
      params: its parameters.
      visible: ``{visible layer: Array[b, n]}`` for every visible layer.
      log_z: ``log Z`` (from ``ais`` or ``exact_log_partition``), a scalar or one per example
        (Replicated Softmax models have one Z per document length).
      num_mean_field_steps: mean-field sweeps for the posterior of the hidden layers.
      lengths: total counts M of hidden Replicated Softmax layers, if any.

    Returns:
      ``Array[b]`` of log-probabilities (log-densities for Gaussian layers), in nats.
    """
    check_params(model, params)
    num_mean_field_steps = check_count("num_mean_field_steps", num_mean_field_steps, minimum=0)
    visible = check_layers(model, visible, what="visible", batched=True)
    missing = [name for name in model.visible if name not in visible]
    if missing:
        raise ValueError(
            f"visible: layers {missing} are missing; log p(v) needs every visible layer"
        )
    free = tuple(name for name in model.layers if name not in visible)
    bounded = _bounded_class(model, free)
    lengths = check_lengths(model, params, lengths, sampled_count_layers(model, visible))
    _check_log_z(model, visible, log_z)
    means = mean_field_batch(model, params, visible, lengths, num_mean_field_steps, 0.0)

    return _bounds(model, params, means, tuple(visible), bounded, lengths) - jnp.asarray(log_z)


def per_word_perplexity(log_likelihoods: Array, documents: Array) -> Array:
    """``exp(-(1/N) sum_n log p(w_n) / D_n)`` over N documents of D_n words each
    (Salakhutdinov & Hinton 2009, Replicated Softmax, section 4).

    ``p(w_n)`` is the probability of the document's word sequence, as in the papers and in
    LDA's perplexity; ``log_likelihoods`` are those of the count vectors (what
    ``log_likelihood`` returns), so the log multinomial coefficient ``log mu(v_n)`` is taken
    off: ``log p(w_n) = log p(v_n) - log mu(v_n)``.
    """
    documents = jnp.asarray(documents, jnp.float32)
    log_coefficients = jax.vmap(ReplicatedSoftmax(documents.shape[-1]).log_base_measure)(documents)
    sequences = jnp.asarray(log_likelihoods, jnp.float32) - log_coefficients
    return jnp.exp(-jnp.mean(sequences / jnp.sum(documents, axis=-1)))
