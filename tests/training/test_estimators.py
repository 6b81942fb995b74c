"""Averages of PCD and CD estimates against the exact gradient computed by enumeration."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.training.estimators import stratified_rows
from tests import brute_force

NUM_ESTIMATES = 48  # independent estimates; their spread gives the Monte-Carlo standard error
NUM_CHAINS = 400
BURN_IN = 100  # Gibbs steps before each estimate: the chains start at equilibrium


def exact_gradient(model, params, data):
    """d/dtheta of the mean negative log-likelihood of ``data``, by enumeration."""
    return jax.grad(lambda p: -jnp.mean(mm.exact_log_prob(model, p, data)))(params)


def assert_within_monte_carlo_error(estimates, exact, z=4.5):
    """Every parameter's mean estimate is within z standard errors (plus float32 slack)."""
    for path, stack in jax.tree_util.tree_leaves_with_path(estimates):
        target = np.asarray(dict(jax.tree_util.tree_leaves_with_path(exact))[path])
        stack = np.asarray(stack, np.float64)
        mean = stack.mean(axis=0)
        standard_error = stack.std(axis=0, ddof=1) / np.sqrt(len(stack))
        assert np.all(np.abs(mean - target) <= z * standard_error + 2e-4), (path, mean, target)


def pcd_estimates(model, params, batch, **chain_options):
    estimator = mm.pcd(model, num_gibbs_steps=BURN_IN, centering=False)

    def one(key):
        init_key, estimate_key = jax.random.split(key)
        chains = estimator.init(init_key, params, NUM_CHAINS, **chain_options)
        grads, _, _ = estimator.estimate(estimate_key, params, chains, batch)
        return grads

    return jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), NUM_ESTIMATES))


def _data(model, params, observed_layers, lengths, num, seed):
    samples = mm.sample(
        jax.random.key(seed), model, params, num_chains=num, num_steps=50, lengths=lengths
    )
    return {name: samples[name] for name in observed_layers}


RBMS = {
    "bernoulli": (mm.rbm(mm.Bernoulli(4), 3), {}),
    "gaussian_learning_sigma": (mm.rbm(mm.Gaussian(2, learn_sigma=True), 3), {}),
    "replicated_softmax": (mm.rbm(mm.ReplicatedSoftmax(4), 2), {"v": 3}),
}


@pytest.mark.parametrize("name", list(RBMS))
def test_pcd_on_an_rbm_averages_to_the_exact_gradient(name):
    model, lengths = RBMS[name]
    params = brute_force.random_params(model, 30).replace(lengths=tuple(lengths.items()))
    data = _data(model, brute_force.random_params(model, 31), ["v"], lengths, 16, 31)
    estimates = pcd_estimates(model, params, data)
    exact = exact_gradient(model, params, data)
    assert_within_monte_carlo_error(estimates, exact)


def test_chains_started_at_documents_of_mixed_lengths_average_to_the_exact_gradient():
    """A Replicated Softmax model is conditioned on each document's length, so the exact
    gradient takes each document's model term at its own M. Chains started at the data keep
    its lengths in proportion and average to it; chains all of the mean length do not."""
    model = mm.rbm(mm.ReplicatedSoftmax(4), 2)
    params = brute_force.random_params(model, 38)
    source = brute_force.random_params(model, 39)
    short, long = (_data(model, source, ["v"], {"v": m}, n, 39 + m) for m, n in ((1, 12), (6, 4)))
    data = {"v": jnp.concatenate([short["v"], long["v"]])}

    def negative_log_likelihood(p):
        return -sum(jnp.sum(mm.exact_log_prob(model, p, part)) for part in (short, long)) / 16

    exact = jax.grad(negative_log_likelihood)(params)
    assert_within_monte_carlo_error(pcd_estimates(model, params, data, data=data), exact)
    mean_length = pcd_estimates(model, params, data, lengths={"v": 2})
    with pytest.raises(AssertionError):
        assert_within_monte_carlo_error(mean_length, exact)


def test_chains_at_the_data_take_every_length_in_proportion():
    model = mm.rbm(mm.ReplicatedSoftmax(3), 2)
    lengths = np.repeat([1, 2, 5], [10, 25, 5])
    documents = np.zeros((40, 3), np.float32)
    documents[:, 0] = lengths
    data = {"v": jnp.asarray(documents)}
    for seed in range(3):
        rows = np.asarray(stratified_rows(jax.random.key(seed), model, data, 80))
        assert np.bincount(lengths[rows], minlength=6)[[1, 2, 5]].tolist() == [20, 50, 10]
    rows = np.asarray(stratified_rows(jax.random.key(0), model, data, 40))
    assert sorted(rows.tolist()) == list(range(40))  # as many chains as examples: each once


def test_pcd_with_one_colour_class_observed_averages_to_the_exact_gradient():
    """Observing v and h2 of a DBM leaves h1 and h3 to be summed out exactly, so the data term
    is exact and the average estimate is the exact gradient of -log p(v, h2)."""
    model = mm.dbm(mm.Bernoulli(3), [3, 2, 2])
    params = brute_force.random_params(model, 32)
    data = _data(model, brute_force.random_params(model, 33), ["v", "h2"], {}, 16, 33)
    assert_within_monte_carlo_error(
        pcd_estimates(model, params, data), exact_gradient(model, params, data)
    )


def test_pcd_on_the_multimodal_dbm_averages_to_the_exact_gradient():
    """Gaussian (sigma learned) and Replicated Softmax pathways; the observed layers are a whole
    colour class plus the text, so the data term is exact."""
    model = mm.multimodal_dbm(
        {
            "image": (mm.Gaussian(2, learn_sigma=True), [2, 2]),
            "text": (mm.ReplicatedSoftmax(3), [2]),
        },
        joint=2,
    )
    params = brute_force.random_params(model, 34).replace(lengths=(("text", 3),))
    observed = ["image", "image_h2", "text_h1", "text"]
    data = _data(model, brute_force.random_params(model, 35), observed, {"text": 3}, 16, 35)
    assert_within_monte_carlo_error(
        pcd_estimates(model, params, data), exact_gradient(model, params, data)
    )


def test_cd_with_long_chains_averages_to_the_exact_gradient():
    """CD-k is biased for small k; with k = 100 steps from the data it is at equilibrium."""
    model, _ = RBMS["bernoulli"]
    params = brute_force.random_params(model, 36)
    data = _data(model, brute_force.random_params(model, 37), ["v"], {}, 400, 37)
    estimator = mm.cd(model, k=100, centering=False)
    keys = jax.random.split(jax.random.key(1), NUM_ESTIMATES)
    estimates = jax.jit(jax.vmap(lambda key: estimator.estimate(key, params, None, data)[0]))(keys)
    assert_within_monte_carlo_error(estimates, exact_gradient(model, params, data))


def test_the_estimate_is_wrong_for_a_wrong_model():
    """The comparison has power: estimates for other parameters miss the exact gradient."""
    model, _ = RBMS["bernoulli"]
    params = brute_force.random_params(model, 30)
    data = _data(model, brute_force.random_params(model, 31), ["v"], {}, 16, 31)
    estimates = pcd_estimates(model, brute_force.random_params(model, 38), data)
    with pytest.raises(AssertionError):
        assert_within_monte_carlo_error(estimates, exact_gradient(model, params, data))


def test_fixed_sigmas_get_zero_gradient_and_learned_hidden_sigmas_are_refused():
    model = mm.rbm(mm.Gaussian(2), 3)
    params = brute_force.random_params(model, 39)
    estimator = mm.pcd(model, num_gibbs_steps=1)
    chains = estimator.init(jax.random.key(0), params, 10)
    grads, _, info = estimator.estimate(jax.random.key(1), params, chains, {"v": jnp.ones((4, 2))})
    np.testing.assert_array_equal(grads.log_sigma["v"], 0.0)
    assert float(info.reconstruction_error) > 0
    learned = mm.Gaussian(2, learn_sigma=True)
    hidden_gaussian = mm.dbm(mm.Bernoulli(2), [learned, learned])
    params = hidden_gaussian.init(jax.random.key(0))
    estimator = mm.pcd(hidden_gaussian)
    chains = estimator.init(jax.random.key(0), params, 4)
    with pytest.raises(ValueError, match=r"layers \['h1'\] learn sigma but are neither observed"):
        estimator.estimate(jax.random.key(1), params, chains, {"v": jnp.ones((2, 2))})


@pytest.mark.parametrize("centering", [True, False], ids=["centered", "plain"])
def test_persistent_chains_started_at_the_data_hold_training_examples(centering):
    """``init(..., data=)`` starts each chain at a training example: the visible layers are rows
    of the data (a document keeps its own length), the hidden layers binary draws."""
    model = mm.multimodal_dbm(
        {"image": (mm.Gaussian(2), [2, 2]), "text": (mm.ReplicatedSoftmax(3), [2])}, joint=2
    )
    rng = np.random.default_rng(0)
    data = {
        "image": rng.normal(size=(5, 2)).astype(np.float32),
        "text": rng.multinomial(rng.integers(1, 6), [0.2, 0.3, 0.5], size=5).astype(np.float32),
    }
    data["text"][:, 0] += np.arange(5)  # documents of different lengths
    params = model.init(jax.random.key(0), data)
    state = mm.pcd(model, centering=centering).init(jax.random.key(1), params, 8, data=data)
    chains = (state.inner if centering else state).layers
    for name, values in data.items():
        rows = np.asarray(chains[name])
        assert rows.shape == (8, values.shape[1])
        assert all(any(np.array_equal(row, example) for example in values) for row in rows)
    for name in model.layers:
        if name not in data:
            assert set(np.unique(np.asarray(chains[name]))) <= {0.0, 1.0}
