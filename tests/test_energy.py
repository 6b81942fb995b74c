"""Energies, free energies and conditionals against the formula and brute-force ratios."""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import mmdbm as mm
from tests import brute_force
from tests.models import TINY_MODELS


def random_state(model, lengths, rng):
    """A full configuration: valid discrete states, standard normal Gaussian layers."""
    state = {}
    for name, unit in model.layers.items():
        if isinstance(unit, mm.Gaussian):
            state[name] = rng.normal(size=unit.n)
        else:
            states = brute_force.states_of(unit, lengths.get(name))
            state[name] = states[rng.integers(len(states))]
    return state


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_energy_matches_the_formula(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 5)
    rng = np.random.default_rng(5)
    for _ in range(5):
        state = random_state(model, lengths, rng)
        np.testing.assert_allclose(
            mm.energy(model, params, state),
            brute_force.joint_energy(model, params, state),
            rtol=1e-5,
            atol=1e-5,
        )


def test_bias_next_to_a_count_layer_is_scaled_by_the_document_length():
    model = mm.rbm(mm.ReplicatedSoftmax(3), 2)
    params = brute_force.random_params(model, 0)
    params = params.replace(weights={"v->h": jnp.zeros((3, 2))})
    h = jnp.array([1.0, 1.0])
    for counts in ([1, 0, 0], [2, 3, 0]):
        v = jnp.array(counts, jnp.float32)
        expected = -(params.biases["v"] @ v) - sum(counts) * params.biases["h"].sum()
        np.testing.assert_allclose(mm.energy(model, params, {"v": v, "h": h}), expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["bernoulli_rbm", "gaussian_rbm", "replicated_softmax_rbm"])
def test_rbm_free_energy_sums_out_the_hidden_layer(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 6)
    rng = np.random.default_rng(6)
    for _ in range(3):
        v = random_state(model, lengths, rng)["v"]
        terms = [
            -brute_force.joint_energy(model, params, {"v": v, "h": h})
            for h in brute_force.states_of(model.layers["h"], None)
        ]
        np.testing.assert_allclose(
            mm.free_energy(model, params, {"v": v}), -np.logaddexp.reduce(terms), rtol=1e-5
        )


def test_dbm_free_energy_of_a_colour_class_sums_out_the_other():
    model, _ = TINY_MODELS["dbm"]
    params = brute_force.random_params(model, 7)
    rng = np.random.default_rng(7)
    given = {"v": rng.integers(0, 2, 3).astype(float), "h2": rng.integers(0, 2, 2).astype(float)}
    terms = [
        -brute_force.joint_energy(model, params, {**given, "h1": h1, "h3": h3})
        for h1, h3 in itertools.product(
            brute_force.states_of(mm.Bernoulli(3), None),
            brute_force.states_of(mm.Bernoulli(2), None),
        )
    ]
    np.testing.assert_allclose(
        mm.free_energy(model, params, given), -np.logaddexp.reduce(terms), rtol=1e-5
    )


def _library_log_conditional(model, params, state, layer, value):
    """log p(x_layer = value | rest) from the library's conditional mean and the unit type."""
    unit = model.layers[layer]
    mean = np.asarray(mm.conditional_mean(model, params, state, layer), np.float64)
    if isinstance(unit, mm.Bernoulli):
        return np.sum(value * np.log(mean) + (1 - value) * np.log1p(-mean))
    if isinstance(unit, mm.ReplicatedSoftmax):
        total = value.sum()
        return stats.multinomial.logpmf(value, total, mean / mean.sum())
    sigma = np.exp(np.asarray(params.log_sigma[layer], np.float64))
    return stats.norm.logpdf(value, mean, sigma).sum()


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_every_conditional_is_a_ratio_of_joint_probabilities(name):
    """p(x_l | rest) = p*(x_l, rest) / sum_{x_l'} p*(x_l', rest); for Gaussian layers the
    log-ratio between two values, which fixes a density up to its normaliser."""
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 8)
    rng = np.random.default_rng(8)
    for layer, unit in model.layers.items():
        state = random_state(model, lengths, rng)

        def log_joint(value, layer=layer, unit=unit, state=state):
            coefficient = (
                brute_force.log_coefficient(value)
                if isinstance(unit, mm.ReplicatedSoftmax)
                else 0.0
            )
            return coefficient - brute_force.joint_energy(model, params, {**state, layer: value})

        if isinstance(unit, mm.Gaussian):
            a, b = rng.normal(size=(2, unit.n))
            expected = log_joint(a) - log_joint(b)
            actual = _library_log_conditional(model, params, state, layer, a) - (
                _library_log_conditional(model, params, state, layer, b)
            )
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)
            continue
        values = brute_force.states_of(unit, lengths.get(layer))
        log_joints = np.array([log_joint(value) for value in values])
        expected = log_joints - np.logaddexp.reduce(log_joints)
        actual = [_library_log_conditional(model, params, state, layer, v) for v in values]
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4, err_msg=layer)


def test_field_sums_weighted_statistics_of_the_neighbours():
    model, lengths = TINY_MODELS["multimodal_dbm"]
    params = brute_force.random_params(model, 9)
    state = random_state(model, lengths, np.random.default_rng(9))
    sigma = np.exp(np.asarray(params.log_sigma["image"]))
    expected = (state["image"] / sigma) @ np.asarray(params.weights["image->image_h1"]) + (
        np.asarray(params.weights["image_h1->image_h2"]) @ state["image_h2"]
    )
    np.testing.assert_allclose(mm.field(model, params, state, "image_h1"), expected, rtol=1e-5)
