"""Builders, colour classes, hashability and initialisation of the layered model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import mmdbm as mm


def test_rbm_and_dbm_layer_names_and_edges():
    model = mm.rbm(mm.Gaussian(5), 3)
    assert list(model.layers) == ["v", "h"]
    assert model.layers["h"] == mm.Bernoulli(3)
    assert model.edges == (("v", "h"),)
    assert model.visible == ("v",)
    deep = mm.dbm(mm.Bernoulli(4), [3, mm.Gaussian(2), 5])
    assert list(deep.layers) == ["v", "h1", "h2", "h3"]
    assert deep.edges == (("v", "h1"), ("h1", "h2"), ("h2", "h3"))
    assert deep.colour_classes == (("v", "h2"), ("h1", "h3"))


def test_multimodal_dbm_layers_follow_the_contract():
    model = mm.multimodal_dbm(
        {"image": (mm.Gaussian(6), [5, 4]), "text": (mm.ReplicatedSoftmax(7), [3, 2])}, joint=8
    )
    assert list(model.layers) == [
        "image",
        "image_h1",
        "image_h2",
        "text",
        "text_h1",
        "text_h2",
        "joint",
    ]
    assert set(model.edges) == {
        ("image", "image_h1"),
        ("image_h1", "image_h2"),
        ("image_h2", "joint"),
        ("text", "text_h1"),
        ("text_h1", "text_h2"),
        ("text_h2", "joint"),
    }
    assert model.visible == ("image", "text")
    assert model.colour_classes == (
        ("image", "image_h2", "text", "text_h2"),
        ("image_h1", "text_h1", "joint"),
    )
    assert model.count_layer_of == {"text_h1": "text"}


def test_models_are_static_jit_arguments():
    first = mm.dbm(mm.Bernoulli(3), [2, 2])
    second = mm.dbm(mm.Bernoulli(3), [2, 2])
    assert first == second and hash(first) == hash(second)
    assert first != mm.dbm(mm.Bernoulli(3), [2, 3])
    count = jax.jit(lambda model, x: x * len(model.layers), static_argnums=0)
    assert count(first, 1.0) == 3.0


def test_init_shapes_and_small_weights():
    model = mm.multimodal_dbm(
        {"image": (mm.Gaussian(6), [5]), "text": (mm.ReplicatedSoftmax(7), [3])}, joint=4
    )
    params = model.init(jax.random.key(0))
    assert {k: v.shape for k, v in params.weights.items()} == {
        "image->image_h1": (6, 5),
        "image_h1->joint": (5, 4),
        "text->text_h1": (7, 3),
        "text_h1->joint": (3, 4),
    }
    assert {k: v.shape for k, v in params.biases.items()} == {
        "image": (6,),
        "image_h1": (5,),
        "text": (7,),
        "text_h1": (3,),
        "joint": (4,),
    }
    assert set(params.log_sigma) == {"image"}
    assert params.lengths == ()
    assert 0.005 < float(jnp.std(params.weights["image->image_h1"])) < 0.02


def test_init_sets_visible_statistics_from_data():
    rng = np.random.default_rng(0)
    pixels = (rng.random((500, 4)) < [0.1, 0.5, 0.9, 0.7]).astype(np.float32)
    features = np.c_[rng.normal([1.0, -2.0], [0.5, 3.0], size=(500, 2)), np.full(500, 4.0)]
    counts = rng.multinomial(6, [0.5, 0.3, 0.2], size=500)
    for model, data in [
        (mm.rbm(mm.Bernoulli(4), 3), {"v": pixels}),
        (mm.rbm(mm.Gaussian(3), 3), {"v": features}),
        (mm.rbm(mm.ReplicatedSoftmax(3), 3), {"v": counts}),
    ]:
        params = model.init(jax.random.key(1), data)
        zero = jnp.zeros(3)
        unit = model.layers["v"]
        if isinstance(unit, mm.Bernoulli):
            np.testing.assert_allclose(special.expit(params.biases["v"]), pixels.mean(0), rtol=1e-5)
        elif isinstance(unit, mm.Gaussian):
            np.testing.assert_allclose(params.biases["v"], features.mean(0), rtol=1e-5)
            expected_sigma = [*features.std(0)[:2], 1.0]  # a constant feature gets sigma 1
            np.testing.assert_allclose(np.exp(params.log_sigma["v"]), expected_sigma, rtol=1e-5)
        else:
            np.testing.assert_allclose(
                special.softmax(params.biases["v"]), counts.sum(0) / counts.sum(), rtol=1e-5
            )
            assert params.lengths == (("v", 6),)
        np.testing.assert_array_equal(params.biases["h"], zero)


@pytest.mark.parametrize(
    ("layers", "edges", "message"),
    [
        ({"a": mm.Bernoulli(2)}, [], "at least two layers"),
        ({"a": mm.Bernoulli(2), "b": mm.Bernoulli(2)}, [("a", "c")], "must join two layers"),
        ({"a": mm.Bernoulli(2), "b": mm.Bernoulli(2)}, [("a", "a")], "to itself"),
        ({"a": mm.Bernoulli(2), "b": mm.Bernoulli(2)}, [("a", "b"), ("b", "a")], "twice"),
        (
            {"a": mm.Bernoulli(2), "b": mm.Bernoulli(2), "c": mm.Bernoulli(1)},
            [("a", "b")],
            "not connected",
        ),
        (
            {"a": mm.Bernoulli(2), "b": mm.Bernoulli(2), "c": mm.Bernoulli(1)},
            [("a", "b"), ("b", "c"), ("c", "a")],
            "not bipartite",
        ),
        ({"a": mm.Bernoulli(2), "b": 3}, [("a", "b")], "layer 'b': expected a unit"),
        (
            {"a": mm.ReplicatedSoftmax(2), "h": mm.Bernoulli(2), "t": mm.ReplicatedSoftmax(2)},
            [("a", "h"), ("t", "h")],
            "layer 'h' is adjacent to two Replicated Softmax layers",
        ),
    ],
)
def test_bad_structures_are_refused(layers, edges, message):
    with pytest.raises(ValueError, match=message):
        mm.Model(layers, edges)
