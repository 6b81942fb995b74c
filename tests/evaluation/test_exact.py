"""The enumeration oracle against brute-force sums written independently in tests/brute_force.py."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.evaluation.exact import layer_states, num_layer_states
from tests import brute_force
from tests.models import TINY_MODELS


@pytest.mark.parametrize("name", list(TINY_MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_exact_log_partition_equals_brute_force(name, seed):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, seed)
    expected = brute_force.log_partition(model, params, lengths)
    actual = mm.exact_log_partition(model, params, lengths)
    assert isinstance(actual, float)
    np.testing.assert_allclose(actual, expected, rtol=2e-6, atol=2e-5)


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_exact_log_prob_of_visible_layers_equals_brute_force(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 3)
    log_z = brute_force.log_partition(model, params, lengths)
    hidden = [n for n in model.layers if n not in model.visible]
    rng = np.random.default_rng(0)
    visible = {}
    for layer in model.visible:
        unit = model.layers[layer]
        if isinstance(unit, mm.Gaussian):
            visible[layer] = rng.normal(size=(3, unit.n))
        else:
            states = brute_force.states_of(unit, lengths.get(layer))
            visible[layer] = np.stack([states[i] for i in rng.integers(len(states), size=3)])
    expected = []
    for row in range(3):
        given = {layer: values[row] for layer, values in visible.items()}
        terms = []
        for combo in itertools.product(
            *[brute_force.states_of(model.layers[h], lengths.get(h)) for h in hidden]
        ):
            state = {**given, **dict(zip(hidden, combo, strict=True))}
            coefficient = sum(
                brute_force.log_coefficient(x)
                for layer, x in state.items()
                if isinstance(model.layers[layer], mm.ReplicatedSoftmax)
            )
            terms.append(coefficient - brute_force.joint_energy(model, params, state))
        expected.append(np.logaddexp.reduce(terms) - log_z)
    actual = mm.exact_log_prob(model, params, visible, lengths)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["bernoulli_rbm", "replicated_softmax_rbm", "dbm"])
def test_exact_log_prob_sums_to_one_over_discrete_visible_states(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 4)
    unit = model.layers["v"]
    states = np.stack(brute_force.states_of(unit, lengths.get("v")))
    log_probs = mm.exact_log_prob(model, params, {"v": states}, lengths)
    np.testing.assert_allclose(
        np.exp(np.logaddexp.reduce(np.asarray(log_probs, np.float64))), 1.0, rtol=1e-5
    )


def test_layer_states_enumerate_each_configuration_once():
    for unit, total in [
        (mm.Bernoulli(5), None),
        (mm.ReplicatedSoftmax(4), 6),
        (mm.ReplicatedSoftmax(1), 3),
    ]:
        states = layer_states(unit, total)
        expected = {tuple(s.astype(int)) for s in brute_force.states_of(unit, total)}
        assert len(states) == num_layer_states(unit, total) == len(expected)
        assert {tuple(s) for s in states} == expected


def test_too_many_states_raise_with_the_count():
    model = mm.rbm(mm.Bernoulli(30), 30)
    params = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match="1,073,741,824 states"):
        mm.exact_log_partition(model, params)


def test_two_gaussian_classes_cannot_be_enumerated():
    model = mm.rbm(mm.Gaussian(2), mm.Gaussian(2))
    params = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match="without free Gaussian layers"):
        mm.exact_log_partition(model, params)


def test_documents_of_mixed_lengths_are_refused():
    model, _ = TINY_MODELS["replicated_softmax_rbm"]
    params = brute_force.random_params(model, 0)
    with pytest.raises(ValueError, match="layer 'v' mixes documents of lengths"):
        mm.exact_log_prob(model, params, {"v": jnp.array([[1, 2, 0, 0], [1, 0, 0, 0]])})
