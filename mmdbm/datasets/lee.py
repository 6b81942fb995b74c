"""``lee``: the Lee corpus of Australian Broadcasting Corporation news articles as word counts.

The 300 background documents of the Lee corpus (Lee, Pincombe & Welsh 2005) for training and
its 50 other documents for testing, as distributed with gensim, each as counts over the 1,000
words found in the most training documents (stop words, numbers and words under three
letters left out). No labels. A second corpus, beside ``reuters``, for the Replicated Softmax
topic model and its comparison with LDA.
"""

from __future__ import annotations

from mmdbm.datasets.splits import dense_counts, read_bundled, split

VOCABULARY_SIZE = 1000
VALIDATION = 30


def load(seed: int = 0) -> dict:
    """The ``lee`` dataset.

    Returns:
      ``{"train", "validation", "test"}``: each ``{"text": float32 [n, 1000] word counts}``
      with 270 / 30 / 50 documents (validation drawn from the background documents);
      ``"vocabulary"``.
    """
    arrays = read_bundled("lee.npz", {"vocabulary": (VOCABULARY_SIZE,)})
    train, test = (dense_counts(arrays, part, VOCABULARY_SIZE) for part in ("train", "test"))
    sizes = {"train": len(train) - VALIDATION, "validation": VALIDATION}
    return {
        **split({"text": train}, sizes, seed),
        "test": {"text": test},
        "vocabulary": arrays["vocabulary"],
    }
