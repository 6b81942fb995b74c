"""Datasets bundled with mmdbm (host-side NumPy); see ``mmdbm/datasets/README.md``.

``load(name)`` returns ``{"train", "validation", "test"}`` splits of arrays and labels, plus
what describes them (vocabularies, view widths). Nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from mmdbm.datasets import mnist_tags, multifeature, reuters

LOADERS: dict[str, Callable[..., dict]] = {
    "mnist_tags": mnist_tags.load,
    "multifeature": multifeature.load,
    "reuters": reuters.load,
}


def load(name: str, *, seed: int = 0) -> dict:
    """Load a bundled dataset by name; ``seed`` fixes the splits (and generated tags)."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; bundled datasets are {sorted(LOADERS)}")
    return LOADERS[name](seed=seed)


__all__ = ["LOADERS", "load"]
