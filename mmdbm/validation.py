"""Checks of user input that raise a ``ValueError`` naming the layer, before anything is traced.

Values are checked on the host when they are concrete; inside a user's own ``jit`` only names
and shapes can be checked, and those still are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from mmdbm.params import Params, edge_key
from mmdbm.units import Gaussian, ReplicatedSoftmax

if TYPE_CHECKING:
    from mmdbm.graph import Model

Array = jax.Array


def check_count(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int if it is a whole number of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        kind = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def check_non_negative(name: str, value: object, *, positive: bool = False) -> float:
    """``value`` as a float if it is a finite number >= 0 (> 0 with ``positive``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not np.isfinite(value)
        or (positive and value <= 0)
        or value < 0
    ):
        kind = "a positive finite number" if positive else "a finite number >= 0"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return float(value)


def check_layers(
    model: Model, arrays: Mapping[str, object], *, what: str, batched: bool | None
) -> dict[str, Array]:
    """Check ``{layer: values}`` against the model and return float32 arrays.

    Concrete values come back as NumPy arrays (converting them traces nothing), traced values
    as traced float32 arrays.

    Args:
      model: the model whose layers the arrays belong to.
      arrays: values per layer name.
      what: what the arrays are, for error messages ("data", "observed", ...).
      batched: ``True`` for ``[b, n]`` arrays with one ``b`` for all, ``False`` for ``[n]``
        arrays, ``None`` for either (each layer on its own).
    """
    if not isinstance(arrays, Mapping):
        raise ValueError(
            f"{what} must be a dict {{layer name: array}}, got {type(arrays).__name__}"
        )
    batch_sizes = {}
    for name, values in arrays.items():
        if name not in model.layers:
            raise ValueError(
                f"{what}: unknown layer '{name}'; the model's layers are {list(model.layers)}"
            )
        unit = model.layers[name]
        shape = np.shape(values)
        expected = {True: "[batch, n]", False: "[n]", None: "[n] or [batch, n]"}[batched]
        ndims = {True: (2,), False: (1,), None: (1, 2)}[batched]
        if len(shape) not in ndims or shape[-1] != unit.n:
            raise ValueError(
                f"{what}: layer '{name}' has {unit.n} units, so its array must have shape "
                f"{expected.replace('n', str(unit.n))}; got shape {shape}"
            )
        traced = isinstance(values, jax.core.Tracer)
        host = None if traced else np.asarray(values)
        dtype = np.dtype(values.dtype if traced else host.dtype)
        if dtype.kind not in "biuf":
            raise ValueError(f"{what}: layer '{name}' must hold real numbers, got dtype {dtype}")
        if host is not None:
            _check_values(name, unit, host.astype(np.float64), what)
        if len(shape) == 2:
            batch_sizes[name] = shape[0]
    if batched and len(set(batch_sizes.values())) > 1:
        raise ValueError(f"{what}: layers disagree on the batch size: {batch_sizes}")
    return {
        name: values.astype(jnp.float32)
        if isinstance(values, jax.core.Tracer)
        else np.asarray(values, np.float32)
        for name, values in arrays.items()
    }


def _check_values(name: str, unit: object, values: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what}: layer '{name}' holds NaN or infinite values")
    problem = unit.problem_with(values)
    if problem:
        raise ValueError(f"{what}: layer '{name}': {problem}")


def check_observed(
    model: Model, params: Params, observed: Mapping[str, object], lengths: Mapping | None
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Check params, a non-empty batch ``{layer: Array[b, n]}`` of observed layers, and the
    total counts M of the Replicated Softmax layers left free; return the batch and the Ms."""
    check_params(model, params)
    observed = check_layers(model, observed, what="observed", batched=True)
    if not observed:
        raise ValueError("observed: give at least one layer (as {layer: Array[b, n]})")
    return observed, check_lengths(model, params, lengths, sampled_count_layers(model, observed))


def check_training_data(
    model: Model, data: Mapping[str, object], batch_size: int
) -> dict[str, Array]:
    """Check training data: every visible layer and nothing else, at least one full batch."""
    batch_size = check_count("batch_size", batch_size)
    if isinstance(data, Mapping):
        missing = [name for name in model.visible if name not in data]
        if missing:
            raise ValueError(
                f"data: visible layers {missing} are missing; training needs every visible "
                f"layer (got {list(data)})"
            )
        hidden = [name for name in data if name in model.layers and name not in model.visible]
        if hidden:
            raise ValueError(f"data: layers {hidden} are hidden layers of the model, not data")
    data = check_layers(model, data, what="data", batched=True)
    num_examples = next(iter(data.values())).shape[0]
    if batch_size > num_examples:
        raise ValueError(f"batch_size={batch_size} is larger than the {num_examples} examples")
    return data


def check_complete(model: Model, state: Mapping[str, object], *, what: str) -> None:
    """Check that ``state`` gives every layer of the model."""
    missing = [name for name in model.layers if name not in state]
    if missing:
        raise ValueError(f"{what}: layers {missing} are missing; a full state gives every layer")


def _is_whole_count(value: object) -> bool:
    """Whether ``value`` is a scalar whole number of at least 1."""
    try:
        number = float(value) if np.ndim(value) == 0 else math.nan
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number == round(number) and number >= 1


def check_lengths(
    model: Model, params: Params, lengths: Mapping[str, object] | None, needed: tuple[str, ...]
) -> dict[str, Array]:
    """Total counts M of the Replicated Softmax layers in ``needed``, as float32 scalars.

    ``lengths`` overrides the defaults that ``Model.init`` stored in ``params.lengths``.
    """
    lengths = {} if lengths is None else dict(lengths)
    for name, total in lengths.items():
        if not isinstance(model.layers.get(name), ReplicatedSoftmax):
            raise ValueError(
                f"lengths: '{name}' is not a Replicated Softmax layer of the model; those are "
                f"{[n for n, u in model.layers.items() if isinstance(u, ReplicatedSoftmax)]}"
            )
        if not isinstance(total, jax.core.Tracer) and not _is_whole_count(total):
            raise ValueError(
                f"lengths: layer '{name}' needs a positive whole total count M, got {total!r}"
            )
    resolved = {**dict(params.lengths), **lengths}
    for name in needed:
        if name not in resolved:
            raise ValueError(
                f"layer '{name}' is sampled but its total count M is unknown: pass "
                f"lengths={{'{name}': M}} or give data for it to model.init"
            )
    return {name: jnp.asarray(resolved[name], jnp.float32) for name in needed}


def sampled_count_layers(model: Model, given: Mapping[str, object]) -> tuple[str, ...]:
    """The Replicated Softmax layers not in ``given``, whose totals must come from lengths."""
    return tuple(
        name
        for name, unit in model.layers.items()
        if isinstance(unit, ReplicatedSoftmax) and name not in given
    )


def check_params(model: Model, params: Params) -> None:
    """Check that ``params`` has the keys and shapes of ``model``'s parameters and, where the
    values are concrete, that they are finite."""
    if not isinstance(params, Params):
        raise ValueError(f"params must be mm.Params, got {type(params).__name__}")
    expected = {
        "weights": {edge_key(a, b): (model.layers[a].n, model.layers[b].n) for a, b in model.edges},
        "biases": {name: (unit.n,) for name, unit in model.layers.items()},
        "log_sigma": {
            name: (unit.n,) for name, unit in model.layers.items() if isinstance(unit, Gaussian)
        },
    }
    for field, shapes in expected.items():
        arrays = getattr(params, field)
        if set(arrays) != set(shapes):
            raise ValueError(
                f"params.{field} has keys {sorted(arrays)}, the model needs {sorted(shapes)}"
            )
        for key, shape in shapes.items():
            if np.shape(arrays[key]) != shape:
                raise ValueError(
                    f"params.{field}['{key}'] has shape {np.shape(arrays[key])}, expected {shape}"
                )
            values = arrays[key]
            if not isinstance(values, jax.core.Tracer) and not np.all(np.isfinite(values)):
                raise ValueError(
                    f"params.{field}['{key}'] holds non-finite values (NaN or infinity)"
                )
