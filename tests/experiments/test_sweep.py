"""Sweeps: the grid, and vmapped training that keeps runs apart."""

import chex
import numpy as np
import pytest

from experiments import sweep
from experiments.config import load_config, with_overrides


def tiny(name: str, *overrides: str):
    config = load_config(name)
    with_overrides(
        config,
        [
            "data.limit=200",
            "pretrain.num_epochs=1",
            "train.num_epochs=2",
            "train.num_chains=10",
            *overrides,
        ],
    )
    return config


def test_grid_crosses_settings_with_seeds():
    runs = sweep.expand(
        tiny("mnist_rbm"), [3, 4], sweep.parse_grid(["train.learning_rate=0.1,0.2"])
    )
    assert [(r.seed, r.train.learning_rate, s) for s, r in runs] == [
        (3, 0.1, {"train.learning_rate": 0.1}),
        (4, 0.1, {"train.learning_rate": 0.1}),
        (3, 0.2, {"train.learning_rate": 0.2}),
        (4, 0.2, {"train.learning_rate": 0.2}),
    ]
    with pytest.raises(ValueError, match=r"unknown config key 'train\.rate'"):
        sweep.expand(tiny("mnist_rbm"), [0], {"train.rate": [1.0]})


@pytest.mark.parametrize("name", ["mnist_rbm", "mnist_tags"])
def test_vmapped_runs_train_as_they_would_alone(name):
    overrides = ["modalities.image.hidden=(16,)"] if name == "mnist_rbm" else ["joint=16"]
    first = tiny(name, *overrides, "train.learning_rate=0.01")
    second = tiny(name, *overrides, "train.learning_rate=0.002", "seed=1")
    _, together = sweep.train_together([first, second], progress=False)
    _, alone = sweep.train_together([second], progress=False)
    chex.assert_trees_all_close(together[1], alone[0], rtol=1e-4, atol=1e-5)
    difference = np.abs(np.asarray(together[0].biases["image" if name == "mnist_tags" else "v"]))
    assert not np.allclose(
        difference, np.abs(np.asarray(alone[0].biases["image" if name == "mnist_tags" else "v"]))
    )
