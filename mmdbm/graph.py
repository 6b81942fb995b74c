"""The layered model: named layers of units, undirected edges, colour classes, parameters.

A ``Model`` is static structure (hashable, so it can be a static argument of ``jax.jit``); the
numbers live in ``Params``, a pytree. An edge ``(lower, upper)`` carries a weight matrix of shape
``[n_lower, n_upper]`` stored under the key ``"lower->upper"``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from mmdbm.params import Params, edge_key
from mmdbm.units import Bernoulli, Gaussian, ReplicatedSoftmax, Unit
from mmdbm.validation import check_layers

Array = jax.Array

_UNIT_TYPES = (Bernoulli, Gaussian, ReplicatedSoftmax)


class Model:
    """A Boltzmann machine: named layers of units joined by undirected edges.

    The layer graph must be connected and bipartite (a chain or a tree in practice), so its
    layers split into two colour classes that block Gibbs sampling and mean-field update in turn.
    Build one with ``rbm``, ``dbm`` or ``multimodal_dbm``, or directly from layers and edges.

    Args:
      layers: ``{name: unit}`` in the order the layers should be listed.
      edges: ``(lower, upper)`` pairs of layer names.
    """

    def __init__(self, layers: Mapping[str, Unit], edges: Sequence[tuple[str, str]]):
        if not isinstance(layers, Mapping):
            raise ValueError(f"layers must be a dict {{name: unit}}, got {type(layers).__name__}")
        if isinstance(edges, str) or not isinstance(edges, Sequence | set):
            raise ValueError(f"edges must be a list of (lower, upper) pairs, got {edges!r}")
        for edge in edges:
            if isinstance(edge, str) or not isinstance(edge, Sequence) or len(edge) != 2:
                raise ValueError(f"edge {edge!r} must be a (lower, upper) pair of layer names")
        self._layers = tuple((name, unit) for name, unit in layers.items())
        self.edges = tuple((lower, upper) for lower, upper in edges)
        _check_structure(self._layers, self.edges)
        self.layers = dict(self._layers)
        uppers = {upper for _, upper in self.edges}
        self.visible = tuple(name for name, _ in self._layers if name not in uppers)
        self.colour_classes = _two_colouring(self._layers, self.edges)
        self.count_layer_of = _count_layers_scaling_biases(self.layers, self.edges)

    def neighbours(self, name: str) -> tuple[str, ...]:
        """The layers joined to ``name`` by an edge."""
        return tuple(b if a == name else a for a, b in self.edges if name in (a, b))

    def init(
        self,
        rng_key: Array,
        data: Mapping[str, Array] | None = None,
        *,
        weight_scale: float = 0.01,
    ) -> Params:
        """Small random weights; biases from data statistics when ``data`` is given.

        Weights are ``weight_scale * N(0, 1)``, hidden biases zero (Hinton 2010, "A Practical Guide
        to Training RBMs"). For each layer in ``data`` (``{layer: Array[b, n]}``): Bernoulli biases
        are the logits of the data means; Gaussian biases the means and ``log_sigma`` the log
        standard deviations (sigma 1 for a constant feature); Replicated Softmax biases the log
        word frequencies, and the layer's default total count M (``Params.lengths``) the
        rounded mean document length. Without data, Gaussian layers start at ``log_sigma = 0``.
        """
        data = {} if data is None else check_layers(self, data, what="data", batched=True)
        for name, values in data.items():
            if len(values) == 0:
                raise ValueError(f"data: layer '{name}' has no rows; init needs examples")
        data = {name: np.asarray(values, np.float64) for name, values in data.items()}
        keys = jax.random.split(rng_key, len(self.edges))
        weights = {
            edge_key(lower, upper): weight_scale
            * jax.random.normal(key, (self.layers[lower].n, self.layers[upper].n))
            for key, (lower, upper) in zip(keys, self.edges, strict=True)
        }
        biases, log_sigma, lengths = {}, {}, []
        for name, unit in self._layers:
            values = data.get(name)
            biases[name] = jnp.zeros(unit.n) if values is None else _float(unit.data_bias(values))
            if isinstance(unit, Gaussian):
                log_sigma[name] = (
                    jnp.zeros(unit.n) if values is None else _float(unit.data_log_sigma(values))
                )
            if isinstance(unit, ReplicatedSoftmax) and values is not None:
                lengths.append((name, max(1, round(float(values.sum(axis=1).mean())))))
        return Params(weights, biases, log_sigma, tuple(lengths))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Model) and self._layers == other._layers and self.edges == other.edges
        )

    def __hash__(self) -> int:
        return hash((self._layers, self.edges))

    def __repr__(self) -> str:
        layers = ", ".join(f"{name}={unit}" for name, unit in self._layers)
        edges = ", ".join(edge_key(a, b) for a, b in self.edges)
        return f"Model(layers=({layers}), edges=({edges}))"


def _float(values: np.ndarray) -> Array:
    return jnp.asarray(values, jnp.float32)


def _check_structure(layers: tuple[tuple[str, Unit], ...], edges: tuple[tuple[str, str], ...]):
    names = [name for name, _ in layers]
    if len(names) < 2:
        raise ValueError(f"a model needs at least two layers, got {names}")
    for name, unit in layers:
        if not isinstance(name, str) or not name or "->" in name:
            raise ValueError(f"layer name {name!r} must be a non-empty string without '->'")
        if not isinstance(unit, _UNIT_TYPES):
            raise ValueError(
                f"layer '{name}': expected a unit (mm.Bernoulli, mm.Gaussian or "
                f"mm.ReplicatedSoftmax), got {unit!r}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must be unique, got {names}")
    seen = set()
    for edge in edges:
        if len(edge) != 2 or any(name not in names for name in edge):
            raise ValueError(f"edge {edge!r} must join two layers of {names}")
        if edge[0] == edge[1]:
            raise ValueError(f"edge {edge!r} joins layer '{edge[0]}' to itself")
        if frozenset(edge) in seen:
            raise ValueError(f"edge {edge!r} appears twice")
        seen.add(frozenset(edge))


def _two_colouring(
    layers: tuple[tuple[str, Unit], ...], edges: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split the layers by parity of their distance from the first layer."""
    names = [name for name, _ in layers]
    colour = {names[0]: 0}
    frontier = [names[0]]
    while frontier:
        name = frontier.pop()
        for a, b in edges:
            if name not in (a, b):
                continue
            other = b if a == name else a
            if other not in colour:
                colour[other] = 1 - colour[name]
                frontier.append(other)
            elif colour[other] == colour[name]:
                raise ValueError(
                    f"the layer graph is not bipartite: edge ('{a}', '{b}') closes an odd cycle"
                )
    unreachable = [name for name in names if name not in colour]
    if unreachable:
        raise ValueError(f"layers {unreachable} are not connected to layer '{names[0]}'")
    return tuple(tuple(name for name in names if colour[name] == parity) for parity in (0, 1))


def _count_layers_scaling_biases(
    layers: dict[str, Unit], edges: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    """``{bernoulli layer: adjacent Replicated Softmax layer}`` whose count M scales its bias."""
    scaled = {}
    for a, b in edges:
        for name, other in ((a, b), (b, a)):
            if isinstance(layers[name], Bernoulli) and isinstance(layers[other], ReplicatedSoftmax):
                if name in scaled:
                    raise ValueError(
                        f"layer '{name}' is adjacent to two Replicated Softmax layers "
                        f"('{scaled[name]}', '{other}'); its bias scaling by M is ambiguous"
                    )
                scaled[name] = other
    return scaled


def _as_unit(layer: Unit | int) -> Unit:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer, *_UNIT_TYPES)):
        raise ValueError(f"a hidden layer is an int (Bernoulli units) or a unit, got {layer!r}")
    return Bernoulli(int(layer)) if isinstance(layer, int | np.integer) else layer


def rbm(visible: Unit, hidden: Unit | int) -> Model:
    """A restricted Boltzmann machine with layers ``"v"`` and ``"h"``.

    With ``mm.Gaussian`` visible units it is a Gaussian-Bernoulli RBM; with
    ``mm.ReplicatedSoftmax`` visible units, the Replicated Softmax topic model.
    """
    return Model({"v": visible, "h": _as_unit(hidden)}, [("v", "h")])


def dbm(visible: Unit, hidden: Sequence[Unit | int]) -> Model:
    """A deep Boltzmann machine: the chain ``"v" - "h1" - "h2" - ...``."""
    if isinstance(hidden, int | Bernoulli | Gaussian | ReplicatedSoftmax) or not hidden:
        raise ValueError(f"dbm(): hidden must be a non-empty sequence of layers, got {hidden!r}")
    names = ["v"] + [f"h{depth}" for depth in range(1, len(hidden) + 1)]
    units = [visible] + [_as_unit(layer) for layer in hidden]
    return Model(dict(zip(names, units, strict=True)), list(itertools.pairwise(names)))


JOINT = "joint"


def multimodal_dbm(
    pathways: Mapping[str, tuple[Unit, Sequence[Unit | int]]], joint: Unit | int
) -> Model:
    """A multimodal DBM (Srivastava & Salakhutdinov 2012): one DBM pathway per modality.

    ``pathways`` maps a modality name to ``(visible unit, hidden layers)``; modality ``m`` gets
    layers ``m``, ``m_h1``, ``m_h2``, ... and its top layer joins the shared layer ``"joint"``.
    The paper's MIR-Flickr model is::

        multimodal_dbm({"image": (Gaussian(3857), [1024, 1024]),
                        "text": (ReplicatedSoftmax(2000), [1024, 1024])}, joint=2048)
    """
    if not pathways:
        raise ValueError("multimodal_dbm(): give at least one pathway")
    layers, edges = {}, []
    for modality, pathway in pathways.items():
        if not isinstance(pathway, tuple | list) or len(pathway) != 2:
            raise ValueError(
                f"pathway '{modality}': expected (visible unit, [hidden layers]), got {pathway!r}"
            )
        if modality == JOINT:
            raise ValueError(f"pathway '{JOINT}': the name is reserved for the shared layer")
        visible, hidden = pathway
        names = [modality] + [f"{modality}_h{depth}" for depth in range(1, len(hidden) + 1)]
        taken = [
            name for name in names if name in layers or (name in pathways and name != modality)
        ]
        if taken:
            raise ValueError(
                f"pathway '{modality}': its layer names {taken} collide with another pathway's "
                f"(modality m names its hidden layers m_h1, m_h2, ...)"
            )
        layers.update(zip(names, [visible] + [_as_unit(layer) for layer in hidden], strict=True))
        edges += list(itertools.pairwise(names))
        edges.append((names[-1], JOINT))
    layers[JOINT] = _as_unit(joint)
    return Model(layers, edges)
