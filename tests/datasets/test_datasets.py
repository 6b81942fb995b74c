"""The bundled datasets: shapes, splits, determinism, and what the generated tags promise."""

import gzip

import numpy as np
import pytest

import mmdbm as mm
from mmdbm.datasets import mnist_tags, splits


@pytest.fixture(scope="module")
def tags():
    return mm.datasets.load("mnist_tags")


def test_mnist_tags_pairs_real_digits_with_100_tag_words(tags):
    sizes = {name: len(tags[name]["labels"]) for name in ("train", "validation", "test")}
    assert sizes == {"train": 3500, "validation": 500, "test": 1000}
    images = np.concatenate([tags[s]["image"] for s in sizes])
    labels = np.concatenate([tags[s]["labels"] for s in sizes])
    assert images.shape == (5000, 784) and images.min() == 0 and images.max() == 1
    assert np.bincount(labels).tolist() == [500] * 10
    assert len(tags["vocabulary"]) == len(set(tags["vocabulary"])) == 100
    text = np.concatenate([tags[s]["text"] for s in sizes])
    assert set(np.unique(text)) <= {0.0, 1.0}
    counts = text.sum(axis=1)
    assert 0.17 < np.mean(counts == 0) < 0.23
    assert counts[counts > 0].min() >= 2 and counts.max() <= 8


def test_tags_are_informative_but_weaker_than_the_image(tags):
    train, test = tags["train"], tags["test"]
    tagged_train, tagged_test = train["text"].sum(1) > 0, test["text"].sum(1) > 0
    accuracy = {}
    for modality in ("image", "text"):
        probabilities = mm.metrics.logistic_probe(
            train[modality][tagged_train],
            train["labels"][tagged_train],
            test[modality][tagged_test],
        )
        accuracy[modality] = mm.metrics.accuracy(
            probabilities.argmax(1), test["labels"][tagged_test]
        )
    assert 0.5 < accuracy["text"] < accuracy["image"] - 0.05, accuracy


def test_class_words_follow_their_digit(tags):
    train = tags["train"]
    index = {w: i for i, w in enumerate(tags["vocabulary"])}
    for digit, words in enumerate(mnist_tags.CLASS_WORDS):
        columns = [index[w] for w in words]
        own = train["text"][train["labels"] == digit][:, columns].sum(1).mean()
        other = train["text"][train["labels"] != digit][:, columns].sum(1).mean()
        assert own > 4 * other, (digit, own, other)


def test_loading_is_deterministic_and_the_seed_moves_the_split():
    first, again = mm.datasets.load("mnist_tags"), mm.datasets.load("mnist_tags")
    np.testing.assert_array_equal(first["test"]["text"], again["test"]["text"])
    other = mm.datasets.load("mnist_tags", seed=1)
    assert not np.array_equal(first["test"]["labels"], other["test"]["labels"])


def test_multifeature_has_six_paired_views():
    data = mm.datasets.load("multifeature")
    widths = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
    for split, size in (("train", 1400), ("validation", 200), ("test", 400)):
        assert {v: data[split][v].shape for v in widths} == {
            v: (size, w) for v, w in widths.items()
        }
    labels = np.concatenate([data[s]["labels"] for s in ("train", "validation", "test")])
    assert np.bincount(labels).tolist() == [200] * 10


def test_reuters_holds_word_counts_with_corn_and_grain_labels():
    data = mm.datasets.load("reuters")
    assert [len(data[s]["text"]) for s in ("train", "validation", "test")] == [1400, 154, 604]
    text = data["train"]["text"]
    assert text.shape[1] == len(data["vocabulary"]) == 2000
    assert np.all(text >= 0) and np.all(text == np.round(text))
    assert 20 < text.sum(1).mean() < 100
    labels = np.concatenate([data[s]["labels"] for s in ("train", "validation", "test")])
    assert labels.shape == (2158, 2) and labels.sum(0).tolist() == [69, 160]
    grain = list(data["vocabulary"]).index("grain")
    assert text[data["train"]["labels"][:, 1] == 1, grain].mean() > 5 * text[:, grain].mean() / 2


def test_lee_holds_the_word_counts_of_news_articles():
    data = mm.datasets.load("lee")
    assert [len(data[s]["text"]) for s in ("train", "validation", "test")] == [270, 30, 50]
    assert data["train"]["text"].shape[1] == len(data["vocabulary"]) == 1000
    every = np.concatenate([data[s]["text"] for s in ("train", "validation", "test")])
    assert np.all(every >= 0) and np.all(every == np.round(every))
    assert np.all(every.sum(1) > 0)
    frequent = np.argsort(-data["train"]["text"].sum(0))[:20]
    assert {"australia", "government", "police"} <= set(data["vocabulary"][frequent])


def test_unknown_names_and_missing_files_are_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; known datasets are"):
        mm.datasets.load("mnist")
    monkeypatch.setattr(splits, "DATA", tmp_path)
    with pytest.raises(ValueError, match=r"mnist_5k\.npz is missing; reinstall mmdbm or run"):
        mm.datasets.load("mnist_tags")


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_idx_files_in_the_debian_layout(tmp_path):
    rng = np.random.default_rng(0)
    images = {
        "train": rng.integers(0, 256, (5010, 28, 28)),
        "t10k": rng.integers(0, 256, (7, 28, 28)),
    }
    for prefix, array in images.items():
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", array)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(len(array)) % 10)
    data = mm.datasets.load("fashion_mnist", directory=tmp_path)
    assert [len(data[s]["labels"]) for s in ("train", "validation", "test")] == [10, 5000, 7]
    np.testing.assert_allclose(data["test"]["image"], images["t10k"].reshape(7, -1) / 255.0)
    np.testing.assert_array_equal(data["test"]["labels"], np.arange(7))


def test_fashion_mnist_says_how_to_get_it_and_refuses_corrupt_files(tmp_path):
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist"):
        mm.datasets.load("fashion_mnist", directory=tmp_path)
    for prefix in ("train", "t10k"):
        for kind in ("images-idx3", "labels-idx1"):
            with gzip.open(tmp_path / f"{prefix}-{kind}-ubyte.gz", "wb") as stream:
                stream.write(b"not an idx file")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        mm.datasets.load("fashion_mnist", directory=tmp_path)
