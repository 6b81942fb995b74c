"""Datasets (host-side NumPy): bundled ones, and loaders for installed ones; see
``mmdbm/datasets/README.md``.

``load(name)`` returns ``{"train", "validation", "test"}`` splits of arrays and labels, plus
what describes them (vocabularies, view widths). Nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from mmdbm.datasets import fashion_mnist, lee, mirflickr, mnist_tags, multifeature, reuters

LOADERS: dict[str, Callable[..., dict]] = {
    "mnist_tags": mnist_tags.load,
    "multifeature": multifeature.load,
    "reuters": reuters.load,
    "lee": lee.load,
    "fashion_mnist": fashion_mnist.load,
    "mirflickr": mirflickr.load,
}


def load(name: str, *, seed: int = 0, **options: object) -> dict:
    """Load a dataset by name; ``seed`` fixes the splits (and generated tags), ``options`` go
    to its loader (e.g. ``directory=`` for ``fashion_mnist`` and ``mirflickr``)."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known datasets are {sorted(LOADERS)}")
    return LOADERS[name](seed=seed, **options)


__all__ = ["LOADERS", "load"]
