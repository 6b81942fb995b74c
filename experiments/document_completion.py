"""Document completion (Wallach, Murray, Salakhutdinov & Mimno 2009): each held-out document's
words are split at random into an observed half and a held-out half, and a topic model scores
the held-out words given the observed ones, ``log p(v_held | v_observed)``; per-word
perplexity over the held-out words. Unlike the held-out likelihood of whole documents, it
asks how well a model that has read part of a document predicts the rest.

LDA's score is the left-to-right estimator run on the observed words first
(``baselines.left_to_right_log_prob(..., given=)``). The Replicated Softmax's is exact up to
one partition function per document: the held-out words given the observed ones follow a
Replicated Softmax model of their own (``conditional_rsm``), whose ``log Z`` forward and
reverse AIS bracket.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import gammaln
from sklearn.decomposition import LatentDirichletAllocation

import mmdbm as mm
from experiments import baselines


def split_words(counts: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each document's words, shuffled, cut in two: the first ``M // 2`` observed, the others
    held out (count vectors ``[n, V]`` each; a one-word document has no observed words)."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts).astype(int)
    observed, held_out = np.zeros_like(counts), np.zeros_like(counts)
    for row, document in enumerate(counts):
        words = rng.permutation(np.repeat(np.arange(len(document)), document))
        half = len(words) // 2
        observed[row] = np.bincount(words[:half], minlength=len(document))
        held_out[row] = np.bincount(words[half:], minlength=len(document))
    return observed.astype(np.float32), held_out.astype(np.float32)


def lda_completion_log_prob(
    model: LatentDirichletAllocation,
    observed: np.ndarray,
    held_out: np.ndarray,
    *,
    num_particles: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """``log p(held_out | observed)`` of each document under LDA (topic proportions integrated
    out by the left-to-right estimator), with the held-out words' multinomial coefficient."""
    held_out = np.asarray(held_out, np.float64)
    topic_word = model.components_ / model.components_.sum(axis=1, keepdims=True)
    alpha = np.full(model.n_components, model.doc_topic_prior_)
    coefficients = gammaln(held_out.sum(axis=1) + 1) - gammaln(held_out + 1).sum(axis=1)
    return coefficients + baselines.left_to_right_log_prob(
        topic_word, alpha, held_out, given=observed, num_particles=num_particles, seed=seed
    )


def conditional_rsm(params: mm.Params, observed: np.ndarray, held_length: int) -> mm.Params:
    """The Replicated Softmax model of a document's ``held_length`` further words given its
    ``observed`` counts, under an RSM ``mm.rbm(ReplicatedSoftmax(V), H)`` with word biases b,
    weights W and hidden biases c scaled by the document's length M = |observed| + held_length.

    Given the hidden units h, the M words of an RSM are drawn independently from
    ``softmax(b + W h)``, and ``p(h)`` is proportional to ``exp(M c.h) S(h)^M`` with
    ``S(h) = sum_w exp(b_w + (W h)_w)``. With the observed words fixed, the held-out words
    ``v'`` (``held_length`` of them) therefore have

        p(v' | observed) = mu(v') sum_h exp(b.v' + v'^T W h + (M c + W^T observed).h) / Z',

    an RSM of length ``held_length`` with the same b and W and hidden biases
    ``c' = (M c + W^T observed) / held_length`` (the graph scales c' by that length), whose
    normaliser Z' sums over ``v'`` and h. So ``mm.log_likelihood`` of the held-out counts
    under these parameters, with this model's ``log Z'``, is ``log p(held_out | observed)``.
    """
    observed = jnp.asarray(observed, jnp.float32)
    total = jnp.sum(observed) + held_length
    hidden = (total * params.biases["h"] + observed @ params.weights["v->h"]) / held_length
    return params.replace(biases={**params.biases, "h": hidden})


def rsm_completion_log_prob(
    key: jax.Array,
    model: mm.Model,
    params: mm.Params,
    observed: np.ndarray,
    held_out: np.ndarray,
    *,
    num_chains: int,
    num_betas: int,
) -> dict[str, np.ndarray]:
    """``log p(held_out | observed)`` of each document under a Replicated Softmax RBM, by
    forward AIS of each document's ``conditional_rsm`` (``mm.ais_over_lengths``; optimistic:
    its ``log Z'`` falls short on average) and by reverse AIS from the held-out words
    themselves, which are a draw of that conditional model as far as the documents are of the
    RSM (conservative), keyed ``""`` and ``"reverse_"`` as in
    ``evaluate.document_log_likelihoods``; with each direction's smallest effective sample size
    (``{prefix}effective_sample_size``). Documents without held-out words are refused.
    """
    held_lengths = np.asarray(held_out).sum(axis=1).astype(int)
    if np.any(held_lengths < 1):
        raise ValueError("held_out: every document needs at least one held-out word")
    scores, sizes = {"": [], "reverse_": []}, {"": [], "reverse_": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.AISWarning)  # the ESS is returned instead
        for row, (first, rest, length) in enumerate(
            zip(observed, held_out, held_lengths, strict=True)
        ):
            conditional = conditional_rsm(params, first, int(length))
            settings = {"num_chains": num_chains, "num_betas": num_betas}
            lengths = {"v": int(length)}
            forward_key, reverse_key = jax.random.split(jax.random.fold_in(key, row))
            estimates = {
                "": mm.ais_over_lengths(forward_key, model, conditional, lengths, **settings),
                "reverse_": mm.reverse_ais(
                    reverse_key, model, conditional, {"v": rest[None]}, lengths=lengths, **settings
                ),
            }
            for prefix, result in estimates.items():
                score = mm.log_likelihood(model, conditional, {"v": rest[None]}, result.log_z)
                scores[prefix].append(float(score[0]))
                sizes[prefix].append(float(result.effective_sample_size))
    return {
        **{prefix: np.array(values) for prefix, values in scores.items()},
        **{f"{prefix}effective_sample_size": min(values) for prefix, values in sizes.items()},
    }
