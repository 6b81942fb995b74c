"""Deterministic train / validation / test splits of bundled arrays (host-side NumPy)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


def read_bundled(filename: str, expected: dict[str, tuple]) -> dict[str, np.ndarray]:
    """The arrays of a bundled ``.npz`` file, each checked against its expected shape
    (``None`` in a shape matches any length)."""
    path = DATA / filename
    if not path.exists():
        raise ValueError(
            f"bundled file {path} is missing; reinstall mmdbm or run scripts/build_datasets.py"
        )
    try:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"bundled file {path} cannot be read ({error}); reinstall mmdbm or run "
            "scripts/build_datasets.py"
        ) from error
    for name, shape in expected.items():
        if name not in arrays:
            raise ValueError(f"{path.name}: array '{name}' is missing")
        actual = arrays[name].shape
        if len(actual) != len(shape) or any(
            e is not None and e != a for e, a in zip(shape, actual, strict=True)
        ):
            raise ValueError(f"{path.name}: '{name}' has shape {actual}, expected {shape}")
    return arrays


def dense_counts(arrays: dict[str, np.ndarray], part: str, width: int) -> np.ndarray:
    """The documents of ``part`` as float32 word counts ``[n, width]``, from the CSR arrays
    ``{part}_indptr``, ``{part}_indices`` and ``{part}_counts`` of a bundled corpus."""
    indptr, indices = arrays[f"{part}_indptr"], arrays[f"{part}_indices"]
    counts = np.zeros((len(indptr) - 1, width), np.float32)
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    counts[rows, indices.astype(np.int64)] = arrays[f"{part}_counts"]
    return counts


def split(
    arrays: dict[str, np.ndarray], sizes: dict[str, int], seed: int
) -> dict[str, dict[str, np.ndarray]]:
    """Shuffle the rows of ``arrays`` (all of one length) with ``seed`` and cut them into
    consecutive splits of the given sizes."""
    length = len(next(iter(arrays.values())))
    if sum(sizes.values()) != length:
        raise ValueError(f"split sizes {sizes} do not add up to the {length} examples")
    order = np.random.default_rng(seed).permutation(length)
    splits, start = {}, 0
    for name, size in sizes.items():
        rows = order[start : start + size]
        splits[name] = {key: values[rows] for key, values in arrays.items()}
        start += size
    return splits
