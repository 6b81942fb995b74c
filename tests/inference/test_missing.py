"""Filling in a missing modality against the exact conditional, and the joint representation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.evaluation.exact import layer_states
from tests import brute_force

MODEL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(2), [3]), "text": (mm.ReplicatedSoftmax(4), [3])}, joint=2
)
PARAMS = brute_force.random_params(MODEL, 50).replace(lengths=(("text", 3),))
IMAGES = np.random.default_rng(50).normal(size=(3, 2)).astype(np.float32)


def exact_word_probabilities(image):
    """E[text / M | image] over the 20 documents of 3 words, by enumeration."""
    documents = jnp.asarray(layer_states(MODEL.layers["text"], 3), jnp.float32)
    images = jnp.broadcast_to(image, (len(documents), 2))
    log_joint = mm.exact_log_prob(MODEL, PARAMS, {"image": images, "text": documents})
    return np.asarray(jax.nn.softmax(log_joint) @ documents) / 3


def test_gibbs_fills_in_the_exact_conditional_word_probabilities():
    estimate = mm.infer_missing(
        jax.random.key(0), MODEL, PARAMS, {"image": IMAGES}, num_steps=200, num_chains=500
    )
    assert set(estimate) == {"text"}
    for row, image in enumerate(IMAGES):
        np.testing.assert_allclose(
            estimate["text"][row], exact_word_probabilities(image), atol=0.01
        )


def test_mean_field_fills_in_a_distribution_near_the_exact_one():
    estimate = mm.infer_missing(None, MODEL, PARAMS, {"image": IMAGES}, method="mean_field")
    np.testing.assert_allclose(estimate["text"].sum(axis=1), 1.0, rtol=1e-5)
    for row, image in enumerate(IMAGES):
        np.testing.assert_allclose(
            estimate["text"][row], exact_word_probabilities(image), atol=0.15
        )


def test_a_missing_gaussian_layer_gets_its_conditional_mean():
    documents = np.array([[3, 0, 0, 0], [0, 1, 1, 1]], np.float32)
    estimate = mm.infer_missing(
        jax.random.key(1), MODEL, PARAMS, {"text": documents}, num_steps=200, num_chains=500
    )
    # E[image | text] = sum over the discrete layers of p(d | text) (b + sigma (W d)), exactly:
    _, configs, log_weights = brute_force.discrete_joint(MODEL, PARAMS, {"text": 3})
    sigma = np.exp(np.asarray(PARAMS.log_sigma["image"], np.float64))
    weights_image = np.asarray(PARAMS.weights["image->image_h1"], np.float64)
    for row, document in enumerate(documents):
        match = np.array([np.array_equal(c["text"], document) for c in configs])
        posterior = np.exp(log_weights - log_weights.max()) * match
        posterior /= posterior.sum()
        means = np.array(
            [PARAMS.biases["image"] + sigma * (weights_image @ c["image_h1"]) for c in configs]
        )
        np.testing.assert_allclose(estimate["image"][row], posterior @ means, atol=0.03)


def test_represent_returns_the_top_layer_and_fills_missing_modalities():
    both = {"image": IMAGES, "text": np.array([[3, 0, 0, 0], [0, 1, 1, 1], [1, 1, 1, 0]])}
    features = mm.represent(MODEL, PARAMS, both)
    assert features.shape == (3, 2)
    assert np.all((features > 0) & (features < 1))
    wide = mm.represent(MODEL, PARAMS, both, layers=("joint", "image_h1", "text_h1"))
    assert wide.shape == (3, 8)
    np.testing.assert_allclose(wide[:, :2], features, rtol=1e-6)
    image_only = mm.represent(MODEL, PARAMS, {"image": IMAGES})
    sampled = mm.represent(MODEL, PARAMS, {"image": IMAGES}, key=jax.random.key(0))
    assert image_only.shape == sampled.shape == (3, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "exact"}, "method must be one of"),
        ({"rng_key": None}, "method='gibbs' needs an rng_key"),
        ({"observed": {"image": np.zeros((2, 3))}}, "layer 'image' has 2 units"),
        ({"lengths": {"text": 0}}, "layer 'text' needs a positive whole total count"),
    ],
)
def test_infer_missing_checks_its_arguments(kwargs, message):
    arguments = {"rng_key": jax.random.key(0), "observed": {"image": IMAGES}, **kwargs}
    with pytest.raises(ValueError, match=message):
        mm.infer_missing(
            arguments.pop("rng_key"), MODEL, PARAMS, arguments.pop("observed"), **arguments
        )
