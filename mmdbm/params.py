"""``Params``: the numbers of a model, as a pytree."""

from __future__ import annotations

import jax
from flax import struct

Array = jax.Array


def edge_key(lower: str, upper: str) -> str:
    """The key of an edge's weight matrix in ``Params.weights``."""
    return f"{lower}->{upper}"


@struct.dataclass
class Params:
    """Parameters of a model: a pytree of arrays.

    Attributes:
      weights: ``{"lower->upper": Array[n_lower, n_upper]}``, one per edge.
      biases: ``{layer: Array[n]}``, one per layer.
      log_sigma: ``{layer: Array[n]}``, one per Gaussian layer.
      lengths: default total counts M of Replicated Softmax layers, as ``((layer, M), ...)``:
        the mean document length seen by ``Model.init``. Static metadata, not a leaf, so that
        optimisers never touch it.
    """

    weights: dict[str, Array]
    biases: dict[str, Array]
    log_sigma: dict[str, Array]
    lengths: tuple[tuple[str, int], ...] = struct.field(pytree_node=False, default=())
