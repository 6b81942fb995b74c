"""The default optimiser's learning rates by unit type."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mmdbm as mm
from mmdbm.training.optimizer import scale_by_unit_rates, unit_rate_factors

MODEL = mm.multimodal_dbm(
    {"image": (mm.Gaussian(3), [4]), "text": (mm.ReplicatedSoftmax(5), [2])}, joint=2
)
RATES = {"Bernoulli": 1.0, "Gaussian": 0.5, "ReplicatedSoftmax": 3.0}


def test_each_parameter_takes_the_factor_of_its_layers():
    factors = unit_rate_factors(MODEL, RATES)
    assert factors.weights == {
        "image->image_h1": 0.5,
        "image_h1->joint": 1.0,
        "text->text_h1": 3.0,
        "text_h1->joint": 1.0,
    }
    # text_h1's bias is multiplied by the document length M, so it learns as the text does
    assert factors.biases == {
        "image": 0.5,
        "image_h1": 1.0,
        "text": 3.0,
        "text_h1": 3.0,
        "joint": 1.0,
    }
    assert factors.log_sigma == {"image": 0.5}


def test_scaled_sgd_steps_each_parameter_by_its_factor():
    params = MODEL.init(jax.random.key(0))
    grads = jax.tree.map(jnp.ones_like, params)
    optimizer = optax.chain(optax.sgd(0.1), scale_by_unit_rates(MODEL, RATES))
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    factors = unit_rate_factors(MODEL, RATES)
    for update, factor in zip(jax.tree.leaves(updates), jax.tree.leaves(factors), strict=True):
        np.testing.assert_allclose(update, -0.1 * factor, rtol=1e-6)


def test_the_default_optimizer_scales_by_unit_type_only_given_the_model():
    params = MODEL.init(jax.random.key(0))
    grads = jax.tree.map(jnp.ones_like, params)
    plain, scaled = mm.default_optimizer(10), mm.default_optimizer(10, model=MODEL)
    step_plain, _ = plain.update(grads, plain.init(params), params)
    step_scaled, _ = scaled.update(grads, scaled.init(params), params)
    np.testing.assert_allclose(
        step_scaled.biases["image"], 0.2 * step_plain.biases["image"], rtol=1e-6
    )
    np.testing.assert_allclose(step_scaled.biases["joint"], step_plain.biases["joint"], rtol=1e-6)
