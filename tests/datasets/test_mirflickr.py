"""The MIR-Flickr loader, on small files in the released layout."""

import numpy as np
import pytest

import mmdbm as mm
from tests.datasets.mirflickr_files import SPLITS, write_mirflickr


def test_reads_the_released_layout(tmp_path):
    written = write_mirflickr(tmp_path)
    data = mm.datasets.load("mirflickr", directory=tmp_path)
    for part, stem in (("train", "train"), ("validation", "valid"), ("test", "test")):
        rows = np.array(SPLITS[stem])
        for key in ("image", "text", "labels"):
            np.testing.assert_array_equal(data[part][key], written[key][rows])
    assert data["train"]["image"].shape == (12, 3857)
    assert data["train"]["text"].shape == (12, 2000)
    assert data["train"]["labels"].shape == (12, 38)
    assert data["vocabulary"][7] == "word7"


def test_missing_directory_says_how_to_get_the_data(tmp_path):
    with pytest.raises(ValueError, match=r"flickr_data\.tar\.gz"):
        mm.datasets.load("mirflickr")
    with pytest.raises(ValueError, match="not a directory"):
        mm.datasets.load("mirflickr", directory=tmp_path / "absent")
    with pytest.raises(ValueError, match=r"no image/labelled/combined-\*\.npy"):
        mm.datasets.load("mirflickr", directory=tmp_path)


def test_corrupt_and_inconsistent_files_are_named(tmp_path):
    write_mirflickr(tmp_path)
    (tmp_path / "labels.npy").write_bytes(b"not an array")
    with pytest.raises(ValueError, match=r"labels\.npy cannot be read"):
        mm.datasets.load("mirflickr", directory=tmp_path)
    np.save(tmp_path / "labels.npy", np.zeros((29, 38), np.int32))
    with pytest.raises(ValueError, match=r"30 images, but tags \(30, 2000\) and labels \(29, 38\)"):
        mm.datasets.load("mirflickr", directory=tmp_path)
    np.save(tmp_path / "labels.npy", np.zeros((30, 38), np.int32))
    np.save(tmp_path / "splits" / "test_indices_1.npy", np.array([3, 30]))
    with pytest.raises(ValueError, match="indexes past 30"):
        mm.datasets.load("mirflickr", directory=tmp_path)
    with pytest.raises(ValueError, match="split must be 1 to 5"):
        mm.datasets.load("mirflickr", directory=tmp_path, split=6)


def test_corrupt_bundled_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "mnist_5k.npz").write_bytes(b"truncated")
    monkeypatch.setattr(mm.datasets.splits, "DATA", tmp_path)
    with pytest.raises(ValueError, match=r"mnist_5k\.npz cannot be read"):
        mm.datasets.load("mnist_tags")
