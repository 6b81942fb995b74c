"""``fashion_mnist``: Zalando's Fashion-MNIST, read from Debian's ``dataset-fashion-mnist``.

Not bundled (30 MB): ``apt-get install dataset-fashion-mnist`` puts the four IDX files in
``/usr/share/datasets/fashion-mnist``; ``directory`` points elsewhere for a copy in the same
layout. 60,000 training and 10,000 test images of 28x28 pixels in 10 classes.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from mmdbm.datasets.splits import split

DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
VALIDATION = 5000


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX array (the MNIST file format): magic ``0 0 8 ndim``, the
    big-endian int32 dimensions, then the bytes."""
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    body = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: holds {body.size} bytes, its header promises shape {shape}")
    return body.reshape(shape)


def load(seed: int = 0, directory: str | Path = DIRECTORY) -> dict:
    """The ``fashion_mnist`` dataset.

    Returns:
      ``{"train", "validation", "test"}``: each ``{"image": float32 [n, 784] in [0, 1],
      "labels": int [n]}`` with 55,000 / 5,000 / 10,000 examples (validation drawn from the
      training set).
    """
    directory = Path(directory)
    parts = {}
    for part, (images_file, labels_file) in FILES.items():
        paths = [directory / images_file, directory / labels_file]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise ValueError(
                f"fashion_mnist: {missing} not found; install Debian's dataset-fashion-mnist "
                "package (apt-get install dataset-fashion-mnist) or pass directory="
            )
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(f"fashion_mnist: {part} images {images.shape}, labels {labels.shape}")
        if labels.max() > 9:
            raise ValueError(f"fashion_mnist: {part} labels must be classes 0-9")
        parts[part] = {
            "image": images.reshape(len(images), -1).astype(np.float32) / 255.0,
            "labels": labels.astype(np.int32),
        }
    train = parts["train"]
    sizes = {"train": len(train["labels"]) - VALIDATION, "validation": VALIDATION}
    if sizes["train"] < 1:
        raise ValueError(f"fashion_mnist: {len(train['labels'])} training images are too few")
    return {**split(train, sizes, seed), "test": parts["test"]}
