"""``reuters``: Reuters-21578 newswire documents as word counts, labelled corn and grain.

The 2,158 ModApte documents of Weka's Reuters corn/grain examples (1,554 for training, 604
for testing), each as counts over the 2,000 words found in the most training documents (stop
words, numbers and words under three letters left out). Each document has two binary labels,
corn and grain. For the Replicated Softmax topic model and its comparison with LDA.
"""

from __future__ import annotations

import numpy as np

from mmdbm.datasets.splits import dense_counts, read_bundled, split

VOCABULARY_SIZE = 2000
LABELS = ("corn", "grain")
VALIDATION = 154


def load(seed: int = 0) -> dict:
    """The ``reuters`` dataset.

    Returns:
      ``{"train", "validation", "test"}``: each ``{"text": float32 [n, 2000] word counts,
      "labels": int [n, 2] (corn, grain)}`` with 1,400 / 154 / 604 documents (validation drawn
      from the ModApte training set); ``"vocabulary"`` and ``"label_names"``.
    """
    arrays = read_bundled("reuters.npz", {"vocabulary": (VOCABULARY_SIZE,)})
    parts = {}
    for part in ("train", "test"):
        text, labels = (
            dense_counts(arrays, part, VOCABULARY_SIZE),
            arrays[f"{part}_labels"].astype(np.int32),
        )
        if labels.shape != (len(text), len(LABELS)) or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"reuters.npz: {part} labels must be 0/1 of shape [n, 2]")
        parts[part] = {"text": text, "labels": labels}
    train = parts["train"]
    sizes = {"train": len(train["text"]) - VALIDATION, "validation": VALIDATION}
    return {
        **split(train, sizes, seed),
        "test": parts["test"],
        "vocabulary": arrays["vocabulary"],
        "label_names": LABELS,
    }
