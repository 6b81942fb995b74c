"""A contrastive dual encoder (CLIP-style: Radford et al., ICML 2021).

One encoder per modality maps an example to a unit vector; the loss is the symmetric InfoNCE
of a batch of ``B`` pairs: with similarities ``s_ij = <a_i, b_j> / tau`` (``tau`` learned,
starting at 0.07), the mean of the cross-entropies of ``softmax_j(s_ij)`` and
``softmax_i(s_ij)`` against the matching pair ``i = j``. Representations: a modality's
embedding alone (a query with one modality), or both embeddings side by side. Zero-shot class
scores: the similarity of an image's embedding to the embedding of each class's words.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments.neural import MLP, fit, network_input
from experiments.pipeline import Experiment

Array = jax.Array
INITIAL_TEMPERATURE = 0.07


class DualEncoder(nn.Module):
    """An MLP per modality (``encoders[m]``: hidden widths), each ending in an ``embedding``-wide
    linear layer whose output is normalised, and the log inverse temperature."""

    encoders: dict[str, tuple[int, ...]]
    embedding: int

    def setup(self):
        self.encode_each = {
            m: MLP((*hidden, self.embedding)) for m, hidden in self.encoders.items()
        }
        self.log_scale = self.param(
            "log_scale", lambda _: jnp.asarray(np.log(1 / INITIAL_TEMPERATURE), jnp.float32)
        )

    def embed(self, modality: str, x: Array) -> Array:
        z = self.encode_each[modality](x)
        return z / jnp.maximum(jnp.linalg.norm(z, axis=-1, keepdims=True), 1e-6)

    def __call__(self, inputs: dict[str, Array]) -> tuple[dict[str, Array], Array]:
        return {m: self.embed(m, x) for m, x in inputs.items()}, jnp.exp(self.log_scale)


@dataclasses.dataclass(frozen=True)
class TrainedDualEncoder:
    module: DualEncoder
    params: object
    counts: tuple[str, ...]


def symmetric_info_nce(a: Array, b: Array, scale: Array) -> Array:
    """The CLIP loss of paired unit vectors ``a[i]``, ``b[i]``."""
    logits = scale * a @ b.T
    targets = jnp.arange(len(a))
    forward = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    backward = optax.softmax_cross_entropy_with_integer_labels(logits.T, targets)
    return (jnp.mean(forward) + jnp.mean(backward)) / 2


def train(
    rng_key: Array, experiment: Experiment, data: dict[str, np.ndarray], *, progress: bool = True
) -> TrainedDualEncoder:
    """Train on paired rows ``data`` (``{modality: rows}``) of an experiment with two
    modalities, each encoder with its pathway's hidden widths, embeddings as wide as the
    joint layer."""
    config, modalities = experiment.config, experiment.modalities
    if len(modalities) != 2:
        raise ValueError(f"the dual encoder pairs two modalities; the config has {modalities}")
    counts = tuple(m for m in modalities if experiment.is_count(m))
    module = DualEncoder(
        encoders={m: tuple(config.modalities[m].hidden) for m in modalities},
        embedding=config.joint,
    )
    init_key, fit_key = jax.random.split(rng_key)
    params = module.init(init_key, {m: network_input(data[m][:1], m in counts) for m in modalities})

    def loss(params, batch: dict[str, Array], key: Array) -> Array:
        inputs = {m: network_input(batch[m], m in counts) for m in modalities}
        embeddings, scale = module.apply(params, inputs)
        return symmetric_info_nce(embeddings[modalities[0]], embeddings[modalities[1]], scale)

    b = config.baselines
    params = fit(
        fit_key,
        params,
        loss,
        data,
        num_epochs=b.num_epochs,
        batch_size=b.batch_size,
        learning_rate=b.learning_rate,
        description="dual encoder",
        progress=progress,
    )
    return TrainedDualEncoder(module, params, counts)


def embed(trained: TrainedDualEncoder, modality: str, values: np.ndarray) -> np.ndarray:
    """Unit-vector embeddings of rows of one modality."""
    x = network_input(values, modality in trained.counts)
    return np.asarray(trained.module.apply(trained.params, modality, x, method=DualEncoder.embed))


def represent(trained: TrainedDualEncoder, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The embeddings of the modalities in ``inputs``, side by side."""
    return np.concatenate([embed(trained, m, values) for m, values in inputs.items()], axis=1)


def zero_shot_scores(
    trained: TrainedDualEncoder,
    query: str,
    values: np.ndarray,
    text: str,
    class_documents: np.ndarray,
) -> np.ndarray:
    """``[rows, classes]`` similarities of each ``query`` row to each class's document."""
    return embed(trained, query, values) @ embed(trained, text, class_documents).T
