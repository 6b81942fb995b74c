"""The demo job does real work: its RBM's exact log-likelihood rises well above the start."""

import jax
import numpy as np

from tests.scripts import load_script


def _load_demo():
    return load_script("experiments/bars_and_stripes.py")


def test_patterns_are_the_thirty_bars_and_stripes():
    demo = _load_demo()
    data = demo.bars_and_stripes()
    assert data.shape == (30, 16)
    assert len({tuple(row) for row in data}) == 30
    for image in data.reshape(-1, 4, 4):
        rows_equal = np.all(image == image[:1, :])
        columns_equal = np.all(image == image[:, :1])
        assert rows_equal or columns_equal


def test_training_raises_the_exact_log_likelihood():
    demo = _load_demo()
    _, (before, after) = demo.train(
        jax.random.key(0), demo.bars_and_stripes(), num_epochs=500, progress=False
    )
    assert after > before + 2.0, (before, after)
