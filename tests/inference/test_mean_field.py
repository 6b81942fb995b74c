"""Mean-field reaches a fixed point of its own equations, written out here in NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import mmdbm as mm
from tests import brute_force
from tests.models import TINY_MODELS


def _numpy_fixed_point_residual(model, params, means, lengths, observed):
    """max |mu_l - E_l[x_l | phi_l(mu)]| over free layers, from the equations in the docstring."""
    W = {k: np.asarray(v, np.float64) for k, v in params.weights.items()}
    b = {k: np.asarray(v, np.float64) for k, v in params.biases.items()}
    sigma = {k: np.exp(np.asarray(v, np.float64)) for k, v in params.log_sigma.items()}
    mu = {k: np.asarray(v, np.float64) for k, v in means.items()}

    def statistic(name):
        return mu[name] / sigma[name] if name in sigma else mu[name]

    residual = 0.0
    for name, unit in model.layers.items():
        if name in observed:
            continue
        phi = sum(
            W[f"{name}->{o}"] @ statistic(o)
            if f"{name}->{o}" in W
            else statistic(o) @ W[f"{o}->{name}"]
            for o in model.neighbours(name)
        )
        if isinstance(unit, mm.Gaussian):
            new = b[name] + sigma[name] * phi
        elif isinstance(unit, mm.ReplicatedSoftmax):
            new = lengths[name] * special.softmax(b[name] + phi)
        else:
            count_layers = [
                o
                for o in model.neighbours(name)
                if isinstance(model.layers[o], mm.ReplicatedSoftmax)
            ]
            scale = lengths[count_layers[0]] if count_layers else 1.0
            new = special.expit(scale * b[name] + phi)
        residual = max(residual, float(np.max(np.abs(new - mu[name]))))
    return residual


@pytest.mark.parametrize(
    ("name", "observed_layers"),
    [("dbm", ["v"]), ("multimodal_dbm", ["image", "text"]), ("multimodal_dbm", ["image"])],
)
def test_mean_field_reaches_a_fixed_point_of_its_equations(name, observed_layers):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 20, weight_scale=0.5)
    rng = np.random.default_rng(20)
    observed = {}
    for layer in observed_layers:
        unit = model.layers[layer]
        if isinstance(unit, mm.Gaussian):
            observed[layer] = rng.normal(size=(4, unit.n)).astype(np.float32)
        else:
            states = brute_force.states_of(unit, lengths.get(layer))
            observed[layer] = np.stack([states[i] for i in rng.integers(len(states), size=4)])
    means = mm.mean_field(model, params, observed, num_steps=200, lengths=lengths)
    assert set(means) == set(model.layers)
    for layer in observed:
        np.testing.assert_array_equal(means[layer], observed[layer])
    for row in range(4):
        means_row = {k: v[row] for k, v in means.items()}
        free_lengths = {
            k: float(np.sum(means_row[k]))
            for k, u in model.layers.items()
            if isinstance(u, mm.ReplicatedSoftmax)
        }
        residual = _numpy_fixed_point_residual(model, params, means_row, free_lengths, observed)
        assert residual < 1e-5
    if "text" in model.layers and "text" not in observed:
        np.testing.assert_allclose(means["text"].sum(axis=1), lengths["text"], rtol=1e-5)


def test_damping_reaches_the_same_fixed_point():
    model, _ = TINY_MODELS["dbm"]
    params = brute_force.random_params(model, 21, weight_scale=0.5)
    observed = {"v": jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])}
    plain = mm.mean_field(model, params, observed, num_steps=200)
    damped = mm.mean_field(model, params, observed, num_steps=400, damping=0.5)
    for layer in model.layers:
        np.testing.assert_allclose(plain[layer], damped[layer], atol=1e-5)


def test_one_step_of_mean_field_in_an_rbm_is_the_exact_posterior():
    model, _ = TINY_MODELS["bernoulli_rbm"]
    params = brute_force.random_params(model, 22)
    v = jnp.array([[1.0, 0.0, 1.0, 1.0]])
    means = mm.mean_field(model, params, {"v": v}, num_steps=1)
    np.testing.assert_allclose(
        means["h"][0], mm.conditional_mean(model, params, {"v": v[0]}, "h"), rtol=1e-6
    )


def test_mean_field_compiles_once_per_shape():
    from tests.tracing import count_traces

    model = mm.dbm(mm.Bernoulli(6), [3])
    params = model.init(jax.random.key(0))
    with count_traces() as traces:
        for seed in range(3):
            mm.mean_field(
                model, params, {"v": jax.random.bernoulli(jax.random.key(seed), 0.5, (5, 6))}
            )
    assert traces["mean_field_batch"] == 1
