"""Metrics of the multimodal DBM papers: MAP and precision@k, accuracy, retrieval, probes.

Ranking metrics are host-side NumPy (they sort); the logistic-regression probe is JAX + Optax.
Scores of equal value are ranked as one group: average precision then takes one step of the
precision-recall curve per distinct score, as scikit-learn's ``average_precision_score`` does.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mmdbm.validation import check_count


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    """``AP = sum_k (R_k - R_{k-1}) P_k`` over the distinct scores, highest first, where
    ``P_k`` and ``R_k`` are precision and recall of everything scored at least the k-th one."""
    scores, relevant = np.asarray(scores, np.float64), np.asarray(relevant, bool)
    if scores.shape != relevant.shape or scores.ndim != 1:
        raise ValueError(f"scores {scores.shape} and relevance {relevant.shape} must be equal 1-D")
    if not relevant.any():
        raise ValueError("average precision needs at least one relevant item")
    order = np.argsort(-scores, kind="stable")
    scores, relevant = scores[order], relevant[order]
    last_of_group = np.r_[np.diff(scores) != 0, True]
    hits = np.cumsum(relevant)[last_of_group]
    retrieved = np.arange(1, len(scores) + 1)[last_of_group]
    recall = hits / relevant.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * hits / retrieved))


def mean_average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean over classes of the AP of ranking all examples by their score for that class
    (MIR-Flickr's MAP). ``scores`` and binary ``labels`` are ``[num_examples, num_classes]``;
    classes without a positive example are skipped."""
    scores, labels = np.asarray(scores), np.asarray(labels, bool)
    present = labels.any(axis=0)
    return float(
        np.mean([average_precision(scores[:, c], labels[:, c]) for c in np.flatnonzero(present)])
    )


def precision_at_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean over classes of the fraction of positives among the k examples scored highest for
    the class (ties broken by example order)."""
    k = check_count("k", k)
    scores, labels = np.asarray(scores), np.asarray(labels, bool)
    top = np.argsort(-scores, axis=0, kind="stable")[:k]
    return float(np.mean(np.take_along_axis(labels, top, axis=0)))


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of predictions equal to the labels."""
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def retrieval_map(
    queries: np.ndarray, query_labels: np.ndarray, database: np.ndarray, database_labels: np.ndarray
) -> float:
    """MAP of retrieving ``database`` items by cosine similarity to each query; an item is
    relevant when it shares a label with the query. Labels are class indices ``[n]`` or binary
    multi-label ``[n, num_classes]``; queries with no relevant item are skipped."""

    def as_sets(labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        return np.eye(int(labels.max()) + 1, dtype=bool)[labels] if labels.ndim == 1 else labels

    def unit(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    query_sets, database_sets = as_sets(query_labels), as_sets(database_labels)
    width = max(query_sets.shape[1], database_sets.shape[1])
    query_sets = np.pad(query_sets, ((0, 0), (0, width - query_sets.shape[1])))
    database_sets = np.pad(database_sets, ((0, 0), (0, width - database_sets.shape[1])))
    similarity = unit(queries) @ unit(database).T
    relevant = (query_sets.astype(int) @ database_sets.T.astype(int)) > 0
    return float(
        np.mean(
            [average_precision(s, r) for s, r in zip(similarity, relevant, strict=True) if r.any()]
        )
    )


def logistic_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    *,
    l2: float = 1e-3,
    num_steps: int = 500,
) -> np.ndarray:
    """Class probabilities ``[num_test, num_classes]`` from logistic regression fitted to
    standardised training features (L2 penalty, L-BFGS in Optax): multinomial for class
    indices ``[n]``, one independent sigmoid per label for binary multi-labels ``[n, L]``."""
    train_labels = np.asarray(train_labels)
    multilabel = train_labels.ndim == 2
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0) + 1e-6
    x = jnp.asarray((train_features - mean) / std, jnp.float32)
    targets = (
        jnp.asarray(train_labels, jnp.float32)
        if multilabel
        else jax.nn.one_hot(train_labels, int(train_labels.max()) + 1)
    )
    weights, bias = _fit_logistic(x, targets, jnp.float32(l2), multilabel, num_steps)
    logits = jnp.asarray((test_features - mean) / std, jnp.float32) @ weights + bias[None, :]
    return np.asarray(jax.nn.sigmoid(logits) if multilabel else jax.nn.softmax(logits))


@partial(jax.jit, static_argnames=("multilabel", "num_steps"))
def _fit_logistic(
    x: jax.Array, targets: jax.Array, l2: jax.Array, multilabel: bool, num_steps: int
) -> tuple[jax.Array, jax.Array]:
    """Weights and biases of the L2-penalised logistic regression, by ``num_steps`` of L-BFGS."""

    def loss(params):
        weights, bias = params
        logits = x @ weights + bias[None, :]
        if multilabel:
            data_term = jnp.sum(optax.sigmoid_binary_cross_entropy(logits, targets), axis=1)
        else:
            data_term = -jnp.sum(targets * jax.nn.log_softmax(logits), axis=1)
        return jnp.mean(data_term) + 0.5 * l2 * jnp.sum(weights**2)

    solver = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)

    def step(carry, _):
        params, state = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = solver.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        return (optax.apply_updates(params, updates), state), None

    params = (jnp.zeros((x.shape[1], targets.shape[1])), jnp.zeros(targets.shape[1]))
    (params, _), _ = jax.lax.scan(step, (params, solver.init(params)), None, length=num_steps)
    return params
