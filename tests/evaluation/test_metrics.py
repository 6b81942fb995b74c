"""Ranking metrics against scikit-learn and direct computations; the probe against sklearn's."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from mmdbm import metrics


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_agrees_with_scikit_learn_ties_included(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=(80, 7)).astype(float)  # many ties
    labels = rng.random((80, 7)) < 0.3
    expected = np.mean([average_precision_score(labels[:, c], scores[:, c]) for c in range(7)])
    np.testing.assert_allclose(metrics.mean_average_precision(scores, labels), expected, rtol=1e-12)


def test_precision_at_k_counts_positives_among_the_top_k():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(50, 5)).astype(float)
    labels = rng.random((50, 5)) < 0.4
    for k in (1, 7, 50):
        expected = np.mean(
            [
                np.mean(
                    [
                        labels[i, c]
                        for i in sorted(range(50), key=lambda i, c=c: (-scores[i, c], i))[:k]
                    ]
                )
                for c in range(5)
            ]
        )
        np.testing.assert_allclose(metrics.precision_at_k(scores, labels, k), expected)


def test_retrieval_map_ranks_by_cosine_similarity():
    rng = np.random.default_rng(1)
    queries, database = rng.normal(size=(10, 4)), rng.normal(size=(30, 4))
    query_labels, database_labels = rng.integers(0, 3, 10), rng.integers(0, 3, 30)
    cosine = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ (
        database / np.linalg.norm(database, axis=1, keepdims=True)
    ).T
    expected = np.mean(
        [
            average_precision_score(database_labels == q, s)
            for q, s in zip(query_labels, cosine, strict=True)
        ]
    )
    np.testing.assert_allclose(
        metrics.retrieval_map(queries, query_labels, database, database_labels),
        expected,
        rtol=1e-12,
    )


def test_accuracy_and_bad_input():
    assert metrics.accuracy(np.array([1, 2, 3]), np.array([1, 0, 3])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="at least one relevant"):
        metrics.average_precision(np.ones(3), np.zeros(3))


def test_logistic_probe_matches_scikit_learn():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 6))
    y = np.argmax(x[:, :3] + 0.7 * rng.normal(size=(600, 3)), axis=1)
    probabilities = metrics.logistic_probe(x[:400], y[:400], x[400:])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    ours = metrics.accuracy(probabilities.argmax(axis=1), y[400:])
    theirs = LogisticRegression(max_iter=1000).fit(x[:400], y[:400]).score(x[400:], y[400:])
    assert ours > 0.6 and abs(ours - theirs) < 0.03, (ours, theirs)


def test_logistic_probe_fits_one_sigmoid_per_label():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 5))
    labels = (x[:, :3] + 0.5 * rng.normal(size=(600, 3)) > 0).astype(int)
    probabilities = metrics.logistic_probe(x[:400], labels[:400], x[400:])
    assert probabilities.shape == (200, 3)
    for label in range(3):
        theirs = LogisticRegression(max_iter=1000).fit(x[:400], labels[:400, label])
        np.testing.assert_allclose(
            probabilities[:, label], theirs.predict_proba(x[400:])[:, 1], atol=0.03
        )
