"""Compile once: static arguments that are equal when their settings are, and JAX's disk cache.

``jax.jit`` reuses a compiled program when its static arguments are equal (``==`` and
``hash``). Closures made afresh on every call are never equal, so a function jitted with them
as static arguments compiles again on every call. Two kinds of settings travel as static
arguments here:

* ``StaticPartial``: a ``functools.partial`` of a module-level function that compares and
  hashes by the function and its (hashable) arguments. Estimators are built from these, so
  ``mm.pcd(model) == mm.pcd(model)``.
* ``StaticOptimizer``: an Optax ``GradientTransformation`` keyed by what it computes, the
  jaxprs of its ``init`` and ``update`` on the parameters' shapes (constants included), so
  that ``optax.sgd(0.01)`` made twice is one static argument and ``optax.sgd(0.02)`` another.
  Optax transformations are pairs of closures, opaque to any other notion of equality.

``enable_persistent_cache`` turns on JAX's compilation cache on disk, so that a second process
compiling the same programs (a second ``mmdbm train`` of the same shapes) reads them back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax

CACHE_VARIABLE = "MMDBM_COMPILATION_CACHE"
DEFAULT_CACHE_DIRECTORY = Path("~/.cache/mmdbm/jax")
CACHE_OFF = ("", "0", "off", "false", "no")


@dataclasses.dataclass(frozen=True)
class StaticPartial:
    """``function`` with some arguments fixed, equal to another when the function and the
    fixed arguments are equal; the arguments must be hashable (units, models, numbers)."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    keywords: tuple[tuple[str, Any], ...] = ()

    def __call__(self, *args: Any, **keywords: Any) -> Any:
        return self.function(*self.args, *args, **dict(self.keywords), **keywords)


def static_partial(function: Callable[..., Any], *args: Any, **keywords: Any) -> StaticPartial:
    """``functools.partial(function, *args, **keywords)`` that compares by value."""
    return StaticPartial(function, args, tuple(sorted(keywords.items())))


def _shapes(tree: Any) -> Any:
    return jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(np.shape(leaf), leaf.dtype), tree)


def _fingerprint(closed: jax.core.ClosedJaxpr) -> bytes:
    digest = hashlib.sha256(str(closed.jaxpr).encode())
    for const in closed.consts:
        value = np.asarray(const)
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.digest()


_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclasses.dataclass(frozen=True, eq=False)
class StaticOptimizer:
    """An Optax transformation as a static argument of ``jax.jit``: equal to another when
    both compute the same ``init`` and ``update`` on parameters of these shapes.

    Build one with ``StaticOptimizer.of(optimizer, params)``; ``init`` and ``update`` are the
    optimizer's own.
    """

    optimizer: optax.GradientTransformation
    key: bytes

    @classmethod
    def of(cls, optimizer: optax.GradientTransformation, params: Any) -> StaticOptimizer:
        """Key ``optimizer`` by its jaxprs on the shapes of ``params`` (leaves may be tracers).

        The key of an optimizer object and parameter shapes is computed once and remembered
        for as long as the optimizer's ``update`` function lives, so a training loop that
        passes the same optimizer every epoch traces it once."""
        if isinstance(optimizer, StaticOptimizer):
            return optimizer
        shapes = _shapes(params)
        known = _KEYS.setdefault(optimizer.update, {})
        remembered = (optimizer.init, jax.tree.structure(shapes), str(jax.tree.leaves(shapes)))
        if remembered not in known:
            state = jax.eval_shape(optimizer.init, shapes)
            digest = hashlib.sha256(str(jax.tree.structure(state)).encode())
            digest.update(_fingerprint(jax.make_jaxpr(optimizer.init)(shapes)))
            digest.update(_fingerprint(jax.make_jaxpr(optimizer.update)(shapes, state, shapes)))
            known[remembered] = digest.digest()
        return cls(optimizer, known[remembered])

    def init(self, params: Any) -> optax.OptState:
        return self.optimizer.init(params)

    def update(self, updates: Any, state: optax.OptState, params: Any = None) -> Any:
        return self.optimizer.update(updates, state, params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticOptimizer) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def enable_persistent_cache(directory: str | Path | None = None) -> Path | None:
    """Keep compiled programs on disk, so that other processes compiling the same programs
    read them back instead of compiling again.

    The directory is ``directory`` if given, else the environment variable
    ``MMDBM_COMPILATION_CACHE``, else ``~/.cache/mmdbm/jax``. Setting
    ``MMDBM_COMPILATION_CACHE=off`` (or ``0``) turns the cache off. Returns the directory in
    use, or ``None`` when off.
    """
    if directory is None:
        setting = os.environ.get(CACHE_VARIABLE)
        if setting is not None and setting.strip().lower() in CACHE_OFF:
            return None
        directory = setting or DEFAULT_CACHE_DIRECTORY
    path = Path(directory).expanduser().absolute()
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
