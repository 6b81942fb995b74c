"""The multimodal deep autoencoder (Ngiam, Khosla, Kim, Nam, Lee & Ng, ICML 2011).

One encoder per modality feeds a shared bottleneck, from which one decoder per modality
reconstructs every modality. Training zeroes one modality's input for part of the examples
(each modality alone for a third of them, with two modalities) while the loss asks for all of
them back, so the bottleneck learns to stand in for a missing modality. The representation is
the bottleneck given whatever modalities are present, the absent ones zeroed.

Losses: squared error for real modalities; for counts, the cross-entropy of the word
distribution (``-sum_w n_w log softmax(logits)_w / M``), the multinomial log-likelihood per
word.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from experiments.neural import MLP, fit, network_input
from experiments.pipeline import Experiment

Array = jax.Array


class MultimodalAutoencoder(nn.Module):
    """Encoders ``encoders[m]`` (hidden widths), a ``bottleneck`` of that width, decoders that
    mirror the encoders back to ``widths[m]``."""

    encoders: dict[str, tuple[int, ...]]
    widths: dict[str, int]
    bottleneck: int

    def setup(self):
        self.encode_each = {m: MLP(hidden) for m, hidden in self.encoders.items()}
        self.shared = MLP((self.bottleneck,))
        self.decode_each = {
            m: MLP((*reversed(hidden), self.widths[m])) for m, hidden in self.encoders.items()
        }

    def encode(self, inputs: dict[str, Array]) -> Array:
        hidden = [nn.relu(self.encode_each[m](inputs[m])) for m in self.encoders]
        return self.shared(jnp.concatenate(hidden, axis=-1))

    def __call__(self, inputs: dict[str, Array]) -> dict[str, Array]:
        code = nn.relu(self.encode(inputs))
        return {m: decoder(code) for m, decoder in self.decode_each.items()}


@dataclasses.dataclass(frozen=True)
class TrainedAutoencoder:
    module: MultimodalAutoencoder
    params: object
    counts: tuple[str, ...]


def _reconstruction_loss(outputs: Array, target: Array, is_count: bool) -> Array:
    if is_count:
        lengths = jnp.maximum(target.sum(axis=-1), 1.0)
        return -jnp.sum(target * jax.nn.log_softmax(outputs), axis=-1) / lengths
    return jnp.mean(jnp.square(outputs - target), axis=-1)


def train(
    rng_key: Array, experiment: Experiment, data: dict[str, np.ndarray], *, progress: bool = True
) -> TrainedAutoencoder:
    """Train on ``data`` (``{modality: rows}``, every modality present) with the experiment's
    widths: each pathway's hidden layers as the encoder, the joint width as the bottleneck."""
    config = experiment.config
    modalities = experiment.modalities
    counts = tuple(m for m in modalities if experiment.is_count(m))
    module = MultimodalAutoencoder(
        encoders={m: tuple(config.modalities[m].hidden) for m in modalities},
        widths={m: data[m].shape[1] for m in modalities},
        bottleneck=config.joint,
    )
    init_key, fit_key = jax.random.split(rng_key)
    example = {m: network_input(data[m][:1], m in counts) for m in modalities}
    params = module.init(init_key, example)

    def loss(params, batch: dict[str, Array], key: Array) -> Array:
        inputs = {m: network_input(batch[m], m in counts) for m in modalities}
        # Each example keeps every modality (choice 0) or only modality i - 1 (choice i).
        choice = jax.random.randint(key, (len(batch[modalities[0]]),), 0, len(modalities) + 1)
        kept = {
            m: ((choice == 0) | (choice == i + 1))[:, None].astype(jnp.float32)
            for i, m in enumerate(modalities)
        }
        outputs = module.apply(params, {m: inputs[m] * kept[m] for m in modalities})
        terms = [_reconstruction_loss(outputs[m], batch[m], m in counts) for m in modalities]
        return jnp.mean(sum(terms))

    b = config.baselines
    params = fit(
        fit_key,
        params,
        loss,
        data,
        num_epochs=b.num_epochs,
        batch_size=b.batch_size,
        learning_rate=b.learning_rate,
        description="autoencoder",
        progress=progress,
    )
    return TrainedAutoencoder(module, params, counts)


def represent(trained: TrainedAutoencoder, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The bottleneck given the modalities in ``inputs``, the others zeroed."""
    module = trained.module
    rows = len(next(iter(inputs.values())))
    full = {
        m: network_input(inputs[m], m in trained.counts)
        if m in inputs
        else jnp.zeros((rows, module.widths[m]))
        for m in module.encoders
    }
    return np.asarray(module.apply(trained.params, full, method=MultimodalAutoencoder.encode))
