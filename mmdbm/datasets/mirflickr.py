"""``mirflickr``: the MIR-Flickr features released with the multimodal DBM paper.

Not bundled (several GB): download ``flickr_data.tar.gz`` from the paper's page
(http://www.cs.toronto.edu/~nitish/multimodal/), unpack it, and pass its directory. The
loader reads the 25,000 labelled images in the released layout:

- ``image/labelled/combined-*.npy``: image features ``[n_i, 3857]`` (PHOW, Gist and MPEG-7
  descriptors), concatenated in file-name order;
- ``text/text_all_2000_labelled.npz``: tag counts over a 2,000-word vocabulary as a CSR matrix
  (arrays ``data``, ``indices``, ``indptr``, ``shape``);
- ``text/vocab.txt`` (optional): one line per word; the word is the line's first field that
  is not a number;
- ``labels.npy``: ``[25000, 38]`` binary topic labels;
- ``splits/{train,valid,test}_indices_{k}.npy``: the five 10,000 / 5,000 / 10,000 splits.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

IMAGE_WIDTH, VOCABULARY_SIZE, NUM_LABELS = 3857, 2000, 38
PARTS = {"train": "train", "validation": "valid", "test": "test"}
HOW_TO_GET = (
    "download flickr_data.tar.gz from http://www.cs.toronto.edu/~nitish/multimodal/, unpack "
    "it and pass its directory (--config.data.directory=... on the command line)"
)


def _read(path: Path) -> np.ndarray | dict[str, np.ndarray]:
    """A ``.npy`` array or the arrays of a ``.npz`` file, with a clear error if unreadable."""
    if not path.exists():
        raise ValueError(f"mirflickr: {path} not found; {HOW_TO_GET}")
    try:
        if path.suffix == ".npz":
            with np.load(path) as stored:
                return {name: stored[name] for name in stored.files}
        return np.load(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"mirflickr: {path} cannot be read ({error})") from error


def _tags(path: Path) -> np.ndarray:
    """Dense ``[n, 2000]`` tag counts from the CSR arrays."""
    stored = _read(path)
    missing = {"data", "indices", "indptr", "shape"} - set(stored)
    if missing:
        raise ValueError(f"mirflickr: {path} lacks the CSR arrays {sorted(missing)}")
    num_rows, num_words = (int(d) for d in stored["shape"])
    indptr, indices, counts = stored["indptr"], stored["indices"], stored["data"]
    if num_words != VOCABULARY_SIZE or len(indptr) != num_rows + 1 or indptr[-1] != len(indices):
        raise ValueError(f"mirflickr: {path} is not a CSR matrix of [n, {VOCABULARY_SIZE}]")
    if np.any(indices < 0) or np.any(indices >= num_words) or np.any(counts < 0):
        raise ValueError(f"mirflickr: {path} has word indices or counts out of range")
    dense = np.zeros((num_rows, num_words), np.float32)
    dense[np.repeat(np.arange(num_rows), np.diff(indptr)), indices] = counts
    return dense


def _vocabulary(path: Path) -> np.ndarray:
    """The words of ``vocab.txt``, or their indices as text when the file is absent."""
    if not path.exists():
        return np.array([str(i) for i in range(VOCABULARY_SIZE)])

    def word(line: str) -> str:
        fields = line.split()
        return next((f for f in fields if not f.replace(".", "", 1).isdigit()), line.strip())

    words = [word(line) for line in path.read_text().splitlines() if line.strip()]
    if len(words) != VOCABULARY_SIZE:
        raise ValueError(f"mirflickr: {path} lists {len(words)} words, not {VOCABULARY_SIZE}")
    return np.array(words)


def load(seed: int = 0, directory: str | Path | None = None, split: int = 1) -> dict:
    """The ``mirflickr`` dataset (``seed`` is unused: the released splits are fixed).

    Args:
      directory: where ``flickr_data.tar.gz`` was unpacked.
      split: which of the five released splits, 1 to 5.

    Returns:
      ``{"train", "validation", "test"}``: each ``{"image": float32 [n, 3857], "text": float32
      [n, 2000] tag counts (rows of zeros for untagged images), "labels": int [n, 38]}``, with
      10,000 / 5,000 / 10,000 images; and ``"vocabulary"``.
    """
    del seed
    if not directory:
        raise ValueError(f"mirflickr: no data directory given; {HOW_TO_GET}")
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"mirflickr: {root} is not a directory; {HOW_TO_GET}")
    if split not in range(1, 6):
        raise ValueError(f"mirflickr: split must be 1 to 5, got {split}")
    image_files = sorted((root / "image" / "labelled").glob("combined-*.npy"))
    if not image_files:
        raise ValueError(f"mirflickr: no image/labelled/combined-*.npy in {root}; {HOW_TO_GET}")
    images = np.concatenate([_read(path) for path in image_files]).astype(np.float32)
    text = _tags(root / "text" / "text_all_2000_labelled.npz")
    labels = _read(root / "labels.npy")
    num = len(images)
    if images.shape[1:] != (IMAGE_WIDTH,) or not np.all(np.isfinite(images)):
        raise ValueError(f"mirflickr: image features {images.shape} must be finite [n, 3857]")
    if text.shape[0] != num or labels.shape != (num, NUM_LABELS):
        raise ValueError(
            f"mirflickr: {num} images, but tags {text.shape} and labels {labels.shape}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("mirflickr: labels.npy must be binary")
    splits = {}
    for part, stem in PARTS.items():
        rows = _read(root / "splits" / f"{stem}_indices_{split}.npy").astype(np.int64)
        if rows.ndim != 1 or np.any(rows < 0) or np.any(rows >= num):
            raise ValueError(f"mirflickr: splits/{stem}_indices_{split}.npy indexes past {num}")
        splits[part] = {
            "image": images[rows],
            "text": text[rows],
            "labels": labels[rows].astype(np.int32),
        }
    return {**splits, "vocabulary": _vocabulary(root / "text" / "vocab.txt")}
