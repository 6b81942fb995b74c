"""Generation across modalities: words for images, and images for words by retrieval."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

import mmdbm as mm
from experiments.pipeline import Experiment


def vocabulary(experiment: Experiment) -> np.ndarray:
    """The words of the count modality (their indices as text if the dataset names none)."""
    if experiment.vocabulary is not None:
        return np.asarray(experiment.vocabulary)
    (text,) = [m for m in experiment.modalities if experiment.is_count(m)]
    return np.array([str(i) for i in range(experiment.splits["train"][text].shape[1])])


def top_words(experiment: Experiment, scores: np.ndarray, k: int = 5) -> list[list[str]]:
    """The ``k`` best-scored words of each row."""
    words = vocabulary(experiment)
    return [list(words[row]) for row in np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def document(experiment: Experiment, words: Sequence[str]) -> np.ndarray:
    """Counts ``[1, vocabulary]`` of a bag of words; unknown words are an error."""
    index = {word: i for i, word in enumerate(vocabulary(experiment))}
    unknown = [w for w in words if w not in index]
    if unknown:
        raise ValueError(f"unknown words {unknown}; the vocabulary has {len(index)} words")
    counts = np.zeros((1, len(index)), np.float32)
    for word in words:
        counts[0, index[word]] += 1
    return counts


def words_for(
    experiment: Experiment, params: mm.Params, inputs: dict[str, np.ndarray], *, k: int = 5
) -> tuple[np.ndarray, list[list[str]]]:
    """Word probabilities of the count modality given the other modalities, and the ``k``
    most probable words of each row (mean-field inference)."""
    (text,) = [m for m in experiment.modalities if experiment.is_count(m)]
    probabilities = np.asarray(
        mm.infer_missing(
            None,
            experiment.model,
            params,
            inputs,
            method="mean_field",
            num_steps=experiment.config.evaluate.num_inference_steps,
        )[text]
    )
    return probabilities, top_words(experiment, probabilities, k)


def images_for(
    rng_key: jax.Array,
    experiment: Experiment,
    params: mm.Params,
    queries: Sequence[Sequence[str]],
    database: np.ndarray,
    *,
    k: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Images for bags of words, by generation then retrieval (the paper's figure 5): the
    query modality is inferred from each query by Gibbs sampling, and the ``database`` rows
    (in the data's scale, before preprocessing) nearest to it in cosine similarity, centred on
    the database mean, are retrieved.

    Returns:
      The inferred query-modality means ``[num_queries, width]`` in the data's scale and the
      indices
      ``[num_queries, k]`` of the retrieved rows, best first.
    """
    (text,) = [m for m in experiment.modalities if experiment.is_count(m)]
    query = experiment.config.query
    counts = np.concatenate([document(experiment, words) for words in queries])
    inferred = experiment.unscaled(
        query,
        mm.infer_missing(
            rng_key,
            experiment.model,
            params,
            {text: counts},
            num_steps=10 * experiment.config.evaluate.num_inference_steps,
            num_chains=10,
        )[query],
    )
    centre = database.mean(axis=0)

    def unit(x: np.ndarray) -> np.ndarray:
        x = x - centre
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    similarity = unit(inferred) @ unit(database).T
    return inferred, np.argsort(-similarity, axis=1, kind="stable")[:, :k]
