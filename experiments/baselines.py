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


def lda_log_likelihood(model: LatentDirichletAllocation, counts: np.ndarray) -> np.ndarray:
    """``log p(counts)`` of each document under LDA with its topic proportions ``theta``
    inferred from the document itself: ``log mu(n) + sum_w n_w log sum_k theta_k beta_kw``,
    with the multinomial coefficient ``mu`` as in ``mm.log_likelihood`` (so that
    ``mm.per_word_perplexity`` applies). Using the document to infer ``theta`` makes this
    optimistic (a lower perplexity than LDA's true one)."""
    counts = np.asarray(counts, dtype=np.float64)
    theta = lda_topic_weights(model, counts)
    theta /= theta.sum(axis=1, keepdims=True)
    beta = model.components_ / model.components_.sum(axis=1, keepdims=True)
    coefficients = gammaln(counts.sum(axis=1) + 1) - gammaln(counts + 1).sum(axis=1)
    return coefficients + np.sum(counts * np.log(theta @ beta), axis=1)
