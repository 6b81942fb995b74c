"""Greedy pretraining: which RBM doubles which input, the order of the RBMs, the composition."""

import jax
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.energy import layer_bias
from mmdbm.training.optimizer import PRETRAIN_UNIT_RATES
from mmdbm.training.pretrain import _blocks, doubling_factors, train_stack

MULTIMODAL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(3), [4, 4]), "text": (mm.ReplicatedSoftmax(5), [4])}, joint=3
)


def test_bottom_rbms_double_up_top_rbm_doubles_down_middle_rbms_both():
    deep = mm.dbm(mm.Bernoulli(4), [3, 3, 3])
    assert [doubling_factors(deep, u, lo) for u, lo in _blocks(deep)] == [
        (2.0, 1.0),
        (2.0, 2.0),
        (1.0, 2.0),
    ]
    rbm = mm.rbm(mm.Bernoulli(4), 3)
    assert [doubling_factors(rbm, u, lo) for u, lo in _blocks(rbm)] == [(1.0, 1.0)]
    factors = {u: doubling_factors(MULTIMODAL, u, lo) for u, lo in _blocks(MULTIMODAL)}
    assert factors == {
        "image_h1": (2.0, 1.0),
        "image_h2": (2.0, 2.0),
        "text_h1": (2.0, 1.0),
        "joint": (1.0, 2.0),
    }


def test_each_hidden_layer_is_trained_after_the_layers_below_it():
    blocks = _blocks(MULTIMODAL)
    assert blocks[-1] == ("joint", ("image_h2", "text_h1"))
    seen = set(MULTIMODAL.visible)
    for upper, lowers in blocks:
        assert set(lowers) <= seen
        seen.add(upper)


def test_pretrain_composes_every_weight_of_the_model():
    rng = np.random.default_rng(0)
    data = {"image": rng.normal(size=(40, 3)), "text": rng.multinomial(4, np.ones(5) / 5, 40)}
    start = MULTIMODAL.init(jax.random.key(0), data)
    params = mm.pretrain(
        jax.random.key(1), MULTIMODAL, data, num_epochs=2, batch_size=10, progress=False
    )
    for key, weights in params.weights.items():
        assert weights.shape == start.weights[key].shape
        assert not np.allclose(weights, start.weights[key]), key
    np.testing.assert_array_equal(params.log_sigma["image"], start.log_sigma["image"])
    assert params.lengths == (("text", 4),)


def test_pretraining_that_diverges_names_the_rbm():
    model = mm.dbm(mm.Gaussian(6), [4, 3])
    data = {"v": np.random.default_rng(0).normal(size=(100, 6))}
    with pytest.raises(mm.TrainingDivergedError, match=r"RBM of layer 'h1' over \['v'\]"):
        mm.pretrain(
            jax.random.key(0),
            model,
            data,
            num_epochs=5,
            batch_size=10,
            learning_rate=100.0,
            progress=False,
        )


def test_pretrain_checks_its_data():
    with pytest.raises(ValueError, match=r"visible layers \['text'\] are missing"):
        mm.pretrain(jax.random.key(0), MULTIMODAL, {"image": np.zeros((10, 3))})
    with pytest.raises(ValueError, match="batch_size=11 is larger than the 10 examples"):
        mm.pretrain(
            jax.random.key(0),
            MULTIMODAL,
            {"image": np.zeros((10, 3)), "text": np.ones((10, 5))},
            batch_size=11,
        )


def test_each_rbm_can_have_its_own_learning_rate():
    model = mm.dbm(mm.Gaussian(6), [4, 3])
    data = {"v": np.random.default_rng(0).normal(size=(100, 6))}

    def pretrained(rates):
        return mm.pretrain(
            jax.random.key(0),
            model,
            data,
            num_epochs=2,
            batch_size=10,
            learning_rate=rates,
            progress=False,
        )

    same = pretrained(0.01)
    mixed = pretrained({"h1": 0.01, "h2": 0.05})
    np.testing.assert_array_equal(mixed.weights["v->h1"], same.weights["v->h1"])
    assert not np.allclose(mixed.weights["h1->h2"], same.weights["h1->h2"])
    with pytest.raises(ValueError, match=r"missing \['h2'\], unknown \['h3'\]"):
        pretrained({"h1": 0.01, "h3": 0.01})
    with pytest.raises(ValueError, match="rates must be positive numbers"):
        pretrained({"h1": 0.01, "h2": -1.0})


def test_a_bias_from_two_rbms_is_their_mean_in_effect_at_the_default_length():
    """The text pathway's first hidden layer has its bias scaled by M in the DBM and in the
    Replicated Softmax RBM below it, not in the Bernoulli RBM above it: what is averaged is
    the bias each RBM puts into the layer's conditional, at the default length."""
    model = mm.dbm(mm.ReplicatedSoftmax(5), [4, 3])
    data = {"v": np.random.default_rng(0).multinomial(6, np.ones(5) / 5, 40).astype(np.float32)}
    start = model.init(jax.random.key(0), data)
    stack = train_stack(
        jax.random.split(jax.random.key(1))[1],  # as pretrain splits its key
        model,
        data,
        doubling=True,
        num_epochs=3,
        batch_size=10,
        learning_rate=0.05,
        momentum=0.9,
        weight_decay=0.0,
        params=start,
        centering=True,
        unit_rates=PRETRAIN_UNIT_RATES,
        progress=False,
    )
    params = mm.pretrain(
        jax.random.key(1),
        model,
        data,
        num_epochs=3,
        batch_size=10,
        learning_rate=0.05,
        weight_decay=0.0,
        params=start,
        progress=False,
    )
    totals = {"v": 6.0}
    effective = [layer_bias(rbm.block, rbm.params, "h1", totals) for rbm in stack]
    assert not np.allclose(effective[0], effective[1])
    np.testing.assert_allclose(
        layer_bias(model, params, "h1", totals), np.mean(effective, axis=0), rtol=1e-5
    )
