"""Block Gibbs samples against exact distributions (chi-square, Kolmogorov-Smirnov)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import mmdbm as mm
from tests import brute_force
from tests.goodness_of_fit import LEVEL, chi_square_pvalue
from tests.models import TINY_MODELS
from tests.tracing import count_traces

NUM_CHAINS = 20_000
NUM_STEPS = 100


def _cells(samples, names, configs):
    """Index of each chain's discrete state among the brute-force configurations."""
    index = brute_force.cell_of(names, configs)
    rows = np.concatenate([np.asarray(samples[n]) for n in names], axis=1).astype(int)
    return np.array([index[tuple(row)] for row in rows])


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_gibbs_samples_follow_the_exact_joint_distribution(name):
    """The discrete layers' joint frequencies (Gaussian layers marginalised) fit the exact
    probabilities at level LEVEL."""
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 10)
    samples = mm.sample(
        jax.random.key(10),
        model,
        params,
        num_chains=NUM_CHAINS,
        num_steps=NUM_STEPS,
        lengths=lengths,
    )
    assert set(samples) == set(model.layers)
    assert all(samples[n].shape == (NUM_CHAINS, u.n) for n, u in model.layers.items())
    names, configs, log_weights = brute_force.discrete_joint(model, params, lengths)
    assert chi_square_pvalue(_cells(samples, names, configs), np.exp(log_weights)) > LEVEL


def test_gaussian_visible_samples_follow_the_exact_mixture():
    """p(v_0) = sum_h p(h) N(v_0; b_0 + sigma_0 (W h)_0, sigma_0^2), by Kolmogorov-Smirnov."""
    model, _ = TINY_MODELS["gaussian_rbm"]
    params = brute_force.random_params(model, 11)
    samples = mm.sample(jax.random.key(11), model, params, num_chains=5000, num_steps=NUM_STEPS)
    _, configs, log_weights = brute_force.discrete_joint(model, params)
    weights = np.exp(log_weights - np.logaddexp.reduce(log_weights))
    sigma = np.exp(float(params.log_sigma["v"][0]))
    means = [
        float(params.biases["v"][0]) + sigma * float(np.asarray(params.weights["v->h"])[0] @ c["h"])
        for c in configs
    ]

    def mixture_cdf(x):
        return sum(w * stats.norm.cdf(x, m, sigma) for w, m in zip(weights, means, strict=True))

    assert stats.kstest(np.asarray(samples["v"][:, 0]), mixture_cdf).pvalue > LEVEL


@pytest.mark.parametrize(
    ("name", "clamp"),
    [("dbm", {"v": [1.0, 0.0, 1.0]}), ("multimodal_dbm", {"text": [0.0, 1.0, 2.0]})],
)
def test_clamped_gibbs_follows_the_exact_conditional(name, clamp):
    """With the observed layers clamped, the free discrete layers fit p(free | observed)."""
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 12)
    observed = {layer: jnp.array(value) for layer, value in clamp.items()}
    samples = mm.sample(
        jax.random.key(12),
        model,
        params,
        num_chains=NUM_CHAINS,
        num_steps=NUM_STEPS,
        observed=observed,
        lengths=lengths,
    )
    for layer, value in clamp.items():
        np.testing.assert_array_equal(samples[layer], np.broadcast_to(value, samples[layer].shape))
    names, configs, log_weights = brute_force.discrete_joint(model, params, lengths)
    matches = np.array([all(np.array_equal(c[k], v) for k, v in clamp.items()) for c in configs])
    probabilities = np.where(matches, np.exp(log_weights - log_weights.max()), 0.0)
    assert chi_square_pvalue(_cells(samples, names, configs), probabilities) > LEVEL


def test_a_wrong_distribution_is_rejected():
    """The test above has power: samples of one model are rejected under another."""
    model, lengths = TINY_MODELS["dbm"]
    samples = mm.sample(
        jax.random.key(13),
        model,
        brute_force.random_params(model, 13),
        num_chains=NUM_CHAINS,
        num_steps=NUM_STEPS,
    )
    names, configs, log_weights = brute_force.discrete_joint(
        model, brute_force.random_params(model, 14), lengths
    )
    assert chi_square_pvalue(_cells(samples, names, configs), np.exp(log_weights)) < LEVEL


def test_per_chain_observed_values_are_clamped_chain_by_chain():
    model, _ = TINY_MODELS["bernoulli_rbm"]
    params = brute_force.random_params(model, 15)
    observed = jnp.eye(4)[jnp.arange(6) % 4]
    samples = mm.sample(
        jax.random.key(15), model, params, num_chains=6, num_steps=3, observed={"v": observed}
    )
    np.testing.assert_array_equal(samples["v"], observed)


def test_sampler_step_is_a_pure_function_of_key_state_and_params():
    model, lengths = TINY_MODELS["multimodal_dbm"]
    params = brute_force.random_params(model, 16)
    sampler = mm.gibbs(model)
    lengths = {k: jnp.float32(v) for k, v in lengths.items()}
    state = sampler.init(jax.random.key(0), params, {"image": jnp.ones(2)}, lengths)
    assert state.clamped == ("image",)
    step = jax.jit(sampler.step)
    first = step(jax.random.key(1), state, params)
    again = step(jax.random.key(1), state, params)
    chex.assert_trees_all_equal(first.layers, again.layers)
    np.testing.assert_array_equal(first.layers["image"], jnp.ones(2))
    assert float(first.layers["text"].sum()) == 3.0


def test_sample_traces_once_for_repeated_calls():
    model = mm.dbm(mm.Bernoulli(5), [4, 3])
    params = model.init(jax.random.key(0))
    with count_traces() as traces:
        for seed in range(3):
            params = params.replace(biases={k: b + 0.1 for k, b in params.biases.items()})
            mm.sample(jax.random.key(seed), model, params, num_chains=7, num_steps=4)
    assert traces["run_chains"] == 1
