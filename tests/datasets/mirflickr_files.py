"""Small files in the layout of the released MIR-Flickr features, for the loader's tests."""

from pathlib import Path

import numpy as np

from mmdbm.datasets import mirflickr

SPLITS = {"train": range(0, 12), "valid": range(12, 18), "test": range(18, 30)}


def write_mirflickr(root: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write 30 labelled examples (image features in two files, sparse tags, labels, split 1)
    under ``root`` and return the dense arrays written."""
    rng = np.random.default_rng(seed)
    num = sum(len(r) for r in SPLITS.values())
    images = rng.normal(size=(num, mirflickr.IMAGE_WIDTH)).astype(np.float32)
    tags = (rng.random((num, mirflickr.VOCABULARY_SIZE)) < 0.003).astype(np.float32)
    tags[::5] = 0.0
    labels = (rng.random((num, mirflickr.NUM_LABELS)) < 0.2).astype(np.int32)
    (root / "image" / "labelled").mkdir(parents=True)
    np.save(root / "image" / "labelled" / "combined-00001-of-00100.npy", images[:20])
    np.save(root / "image" / "labelled" / "combined-00002-of-00100.npy", images[20:])
    rows, columns = np.nonzero(tags)
    (root / "text").mkdir()
    np.savez(
        root / "text" / "text_all_2000_labelled.npz",
        data=tags[rows, columns],
        indices=columns,
        indptr=np.r_[0, np.cumsum(np.bincount(rows, minlength=num))],
        shape=np.array(tags.shape),
    )
    words = [f"{i} word{i} {i * 3}" for i in range(mirflickr.VOCABULARY_SIZE)]
    (root / "text" / "vocab.txt").write_text("\n".join(words) + "\n")
    np.save(root / "labels.npy", labels)
    (root / "splits").mkdir()
    for stem, indices in SPLITS.items():
        np.save(root / "splits" / f"{stem}_indices_1.npy", np.array(indices))
    return {"image": images, "text": tags, "labels": labels}
