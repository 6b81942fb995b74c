"""Baselines on the raw inputs, as in the paper's comparisons: logistic regression, a linear
SVM and LDA topics (scikit-learn), scored on the same rows as the model."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from scipy.special import gammaln
from sklearn.decomposition import LatentDirichletAllocation
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import mmdbm as mm


def logistic_regression(train: np.ndarray, labels: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Class (or label) probabilities of the test rows from an L2 logistic regression."""
    return mm.metrics.logistic_probe(train, labels, test)


def linear_svm(
    train: np.ndarray, labels: np.ndarray, test: np.ndarray, *, seed: int = 0
) -> np.ndarray:
    """Decision values of the test rows from a linear SVM (one-vs-rest) on standardised
    features; a label that no training row has gets a constant score."""
    scaler = StandardScaler().fit(train)
    svm = LinearSVC(C=0.01, random_state=seed)
    classifier = OneVsRestClassifier(svm) if np.ndim(labels) == 2 else svm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Label .* is present in all training examples")
        classifier.fit(scaler.transform(train), labels)
    return classifier.decision_function(scaler.transform(test))


def lda(train_counts: np.ndarray, num_topics: int, *, seed: int = 0) -> LatentDirichletAllocation:
    """LDA (Blei, Ng & Jordan 2003) fitted by batch variational Bayes to word counts, in
    double precision. Some OpenBLAS kernels raise the floating-point "invalid" flag on finite
    products (numpy/numpy#24067), which NumPy reports as a warning; the fitted topics are
    checked for finiteness instead, so a real NaN is still an error."""
    model = LatentDirichletAllocation(
        n_components=num_topics, learning_method="batch", max_iter=50, random_state=seed
    )
    with _blas_flags_ignored():
        model.fit(np.asarray(train_counts, dtype=np.float64))
    if not np.all(np.isfinite(model.components_)):
        raise FloatingPointError("LDA's fitted topics are not finite")
    return model


def lda_topic_weights(model: LatentDirichletAllocation, counts: np.ndarray) -> np.ndarray:
    """The documents' variational topic weights (unnormalised Dirichlet parameters)."""
    with _blas_flags_ignored():
        weights = model.transform(np.asarray(counts, dtype=np.float64))
    if not np.all(np.isfinite(weights)):
        raise FloatingPointError("LDA's topic weights are not finite")
    return weights


@contextlib.contextmanager
def _blas_flags_ignored():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered in dot", RuntimeWarning)
        yield


def lda_topics(
    train_counts: np.ndarray,
    labels: np.ndarray,
    test_counts: np.ndarray,
    *,
    num_topics: int,
    seed: int = 0,
) -> np.ndarray:
    """Class probabilities from logistic regression on LDA topic proportions."""
    model = lda(train_counts, num_topics, seed=seed)
    return logistic_regression(
        lda_topic_weights(model, train_counts), labels, lda_topic_weights(model, test_counts)
    )


def left_to_right_log_prob(
    topic_word: np.ndarray,
    alpha: np.ndarray,
    counts: np.ndarray,
    *,
    given: np.ndarray | None = None,
    num_particles: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """``log p(w)`` of each document's word sequence under LDA with topics ``topic_word``
    ``[K, V]`` (rows sum to 1) and Dirichlet prior ``alpha`` ``[K]``, theta integrated out, by
    the left-to-right estimator (Wallach, Murray, Salakhutdinov & Mimno 2009, algorithm 3) with
    the particles resampled. With ``z_<n`` the topics of the first ``n - 1`` words in particle
    ``r`` and ``n_t^r`` their counts,

        p(w_n | w_<n) ~= (1/R) sum_r sum_t (n_t^r + alpha_t) / (n - 1 + sum(alpha)) phi_t,w_n,

    and ``log p(w) = sum_n log p(w_n | w_<n)``. Before each word the particles' earlier topics
    are resampled by a Gibbs sweep; after it, the particles are resampled in proportion to
    their predictive probabilities and each draws the word's topic. The published algorithm
    omits that resampling, which biases the product of means (0.06 nat on a five-word
    document of a three-topic model, against exact enumeration); with it the sampler is a
    resample-move sequential Monte Carlo sampler (Del Moral, Doucet & Jasra 2006), whose
    estimate of ``p(w)`` is unbiased. The words of a count vector are taken in vocabulary
    order (any fixed order gives the same ``p(w)``). With ``given`` (counts, one row per
    document), the given words come first and are not scored: the result is
    ``log p(w | given)``, the document-completion score (the product of the later words'
    predictive probabilities estimates it consistently)."""
    rng = np.random.default_rng(seed)
    topic_word, alpha = np.asarray(topic_word, np.float64), np.asarray(alpha, np.float64)
    num_topics = len(alpha)
    counts = np.asarray(counts).astype(int)
    given = np.zeros_like(counts) if given is None else np.asarray(given).astype(int)
    log_probs = []
    for first, document in zip(given, counts, strict=True):
        unscored = first.sum()
        words = np.concatenate(
            [np.repeat(np.arange(len(first)), first), np.repeat(np.arange(len(document)), document)]
        )
        topics = np.zeros((num_particles, len(words)), int)
        topic_counts = np.zeros((num_particles, num_topics))
        particles = np.arange(num_particles)
        total = 0.0
        for n, word in enumerate(words):
            for earlier in range(n):
                topic_counts[particles, topics[:, earlier]] -= 1
                weights = (topic_counts + alpha) * topic_word[:, words[earlier]]
                topics[:, earlier] = _categorical(rng, weights)
                topic_counts[particles, topics[:, earlier]] += 1
            weights = (topic_counts + alpha) * topic_word[:, word]
            predictive = weights.sum(axis=1)
            if n >= unscored:
                total += np.log(np.mean(predictive) / (n + alpha.sum()))
            survivors = rng.choice(num_particles, num_particles, p=predictive / predictive.sum())
            topics, topic_counts = topics[survivors], topic_counts[survivors]
            topics[:, n] = _categorical(rng, weights[survivors])
            topic_counts[particles, topics[:, n]] += 1
        log_probs.append(total)
    return np.array(log_probs)


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of ``weights`` (unnormalised, non-negative)."""
    cumulative = np.cumsum(weights, axis=1)
    return np.minimum(
        (rng.random((len(weights), 1)) * cumulative[:, -1:] > cumulative).sum(axis=1),
        weights.shape[1] - 1,
    )


def lda_held_out_log_likelihood(
    model: LatentDirichletAllocation, counts: np.ndarray, *, num_particles: int = 20, seed: int = 0
) -> np.ndarray:
    """``log p(counts)`` of each held-out document under LDA, its topic proportions integrated
    out (``left_to_right_log_prob`` with the posterior-mean topics and the fitted prior),
    plus the multinomial coefficient as in ``mm.log_likelihood``."""
    counts = np.asarray(counts, dtype=np.float64)
    topic_word = model.components_ / model.components_.sum(axis=1, keepdims=True)
    alpha = np.full(model.n_components, model.doc_topic_prior_)
    coefficients = gammaln(counts.sum(axis=1) + 1) - gammaln(counts + 1).sum(axis=1)
    return coefficients + left_to_right_log_prob(
        topic_word, alpha, counts, num_particles=num_particles, seed=seed
    )
