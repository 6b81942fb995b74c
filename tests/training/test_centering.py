"""Centering against independent references: the centered energy written out by hand, the exact
gradient by enumeration, and the exact log-likelihood across offset updates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.training.centering import centered_gradient, centered_params, standard_params
from tests import brute_force
from tests.models import TINY_MODELS


def random_offsets(model, seed):
    """Offsets in the range of each statistic: probabilities, word shares, standard scores."""
    rng = np.random.default_rng(seed)
    offsets = {}
    for name, unit in model.layers.items():
        if isinstance(unit, mm.ReplicatedSoftmax):
            value = rng.dirichlet(np.ones(unit.n))
        elif isinstance(unit, mm.Gaussian):
            value = rng.normal(size=unit.n)
        else:
            value = rng.uniform(0.1, 0.9, unit.n)
        offsets[name] = jnp.asarray(value, jnp.float32)
    return offsets


def centered_energy(model, centered, offsets, state):
    """The centered energy from its formula, in NumPy: self-energies with the centered biases,
    couplings ``-(s_a - M_a mu_a)^T W (s_b - M_b mu_b)``."""
    sigma = {k: np.exp(np.asarray(v, np.float64)) for k, v in centered.log_sigma.items()}
    lengths = {
        n: state[n].sum() for n, u in model.layers.items() if isinstance(u, mm.ReplicatedSoftmax)
    }
    value = 0.0
    for name, unit in model.layers.items():
        x, bias = np.asarray(state[name], np.float64), np.asarray(centered.biases[name])
        if isinstance(unit, mm.Gaussian):
            value += np.sum((x - bias) ** 2 / (2 * sigma[name] ** 2))
        else:
            scale = next((lengths[m] for m in model.neighbours(name) if m in lengths), 1.0)
            value -= (scale if isinstance(unit, mm.Bernoulli) else 1.0) * bias @ x

    def centered_statistic(name):
        x = np.asarray(state[name], np.float64)
        statistic = x / sigma[name] if name in sigma else x
        return statistic - lengths.get(name, 1.0) * np.asarray(offsets[name], np.float64)

    for a, b in model.edges:
        weights = np.asarray(centered.weights[f"{a}->{b}"], np.float64)
        value -= centered_statistic(a) @ weights @ centered_statistic(b)
    return value


def random_state(model, lengths, rng):
    state = {}
    for name, unit in model.layers.items():
        if isinstance(unit, mm.Bernoulli):
            state[name] = (rng.random(unit.n) < 0.5).astype(float)
        elif isinstance(unit, mm.Gaussian):
            state[name] = rng.normal(size=unit.n)
        else:
            state[name] = rng.multinomial(lengths[name], np.ones(unit.n) / unit.n).astype(float)
    return state


def lengths_of(model, lengths):
    """Every Replicated Softmax layer's M: the tiny model's own, 3 for the others."""
    return {
        n: lengths.get(n, 3) for n, u in model.layers.items() if isinstance(u, mm.ReplicatedSoftmax)
    }


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_standard_params_give_the_centered_energy_up_to_a_constant(name):
    """Over configurations of the default length, the centered energy of ``centered`` minus
    the standard energy of ``standard_params(centered)`` is one constant."""
    model, lengths = TINY_MODELS[name]
    lengths = lengths_of(model, lengths)
    centered = brute_force.random_params(model, 50).replace(lengths=tuple(lengths.items()))
    offsets = random_offsets(model, 51)
    standard = standard_params(model, centered, offsets)
    rng = np.random.default_rng(52)
    gaps = []
    for _ in range(30):
        state = random_state(model, lengths, rng)
        gaps.append(
            centered_energy(model, centered, offsets, state)
            - brute_force.joint_energy(model, standard, state)
        )
    assert np.ptp(gaps) < 1e-4, gaps
    back = centered_params(model, standard, offsets)
    for got, want in zip(jax.tree.leaves(back), jax.tree.leaves(centered), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def exact_mean_nll(model, lengths):
    data_params = brute_force.random_params(model, 53)
    visible = {
        name: value
        for name, value in mm.sample(
            jax.random.key(54), model, data_params, num_chains=8, num_steps=30, lengths=lengths
        ).items()
        if name in model.visible
    }
    return lambda params: -jnp.mean(mm.exact_log_prob(model, params, visible))


@pytest.mark.parametrize("name", ["bernoulli_rbm", "gaussian_rbm", "replicated_softmax_rbm"])
def test_the_centered_step_is_the_exact_gradient_in_centered_coordinates(name):
    """``centered_gradient`` of the exact gradient is ``J J^T g``: the exact gradient with
    respect to the centered parameters (differentiated through the centered energy's own
    parameter map, written out here), carried back to standard coordinates."""
    model, lengths = TINY_MODELS[name]
    nll = exact_mean_nll(model, lengths)
    offsets = random_offsets(model, 55)
    centered = brute_force.random_params(model, 56, weight_scale=0.5).replace(
        lengths=tuple(lengths.items())
    )

    def to_standard(c):
        """``b_l = c_l - scale_l sum_m W_lm mu_m``, for the two layers of an RBM."""
        weights = c.weights["v->h"]
        sigma = jnp.exp(c.log_sigma["v"]) if "v" in c.log_sigma else 1.0
        return c.replace(
            biases={
                "v": c.biases["v"] - sigma * (weights @ offsets["h"]),
                "h": c.biases["h"] - offsets["v"] @ weights,
            }
        )

    params = to_standard(centered)
    in_centered_coordinates = jax.grad(lambda c: nll(to_standard(c)))(centered)
    in_centered_coordinates = in_centered_coordinates.replace(
        log_sigma=jax.tree.map(jnp.zeros_like, in_centered_coordinates.log_sigma)
    )
    _, expected = jax.jvp(to_standard, (centered,), (in_centered_coordinates,))
    step = centered_gradient(model, params, jax.grad(nll)(params), offsets)
    for got, want in zip(jax.tree.leaves(step), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-5)


def test_the_centered_weight_gradient_is_the_covariance_of_centered_statistics():
    """For a Bernoulli RBM, by enumeration of every (v, h): the weight step is
    ``<(v - mu)(h - lambda)^T>_data - <(v - mu)(h - lambda)^T>_model`` (negated)."""
    model = mm.rbm(mm.Bernoulli(3), 2)
    params = brute_force.random_params(model, 57)
    offsets = random_offsets(model, 58)
    data = jnp.asarray([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], jnp.float32)
    _, configs, log_weights = brute_force.discrete_joint(model, params)
    p = np.exp(log_weights - np.logaddexp.reduce(log_weights))
    mu, lam = (np.asarray(offsets[n], np.float64) for n in ("v", "h"))
    model_term = sum(
        w * np.outer(c["v"] - mu, c["h"] - lam) for w, c in zip(p, configs, strict=True)
    )
    W = np.asarray(params.weights["v->h"], np.float64)
    c_h = np.asarray(params.biases["h"], np.float64)
    h_given_v = 1 / (1 + np.exp(-(np.asarray(data) @ W + c_h)))
    data_term = np.mean(
        [np.outer(v - mu, h - lam) for v, h in zip(np.asarray(data), h_given_v, strict=True)],
        axis=0,
    )
    grads = jax.grad(lambda q: -jnp.mean(mm.exact_log_prob(model, q, {"v": data})))(params)
    step = centered_gradient(model, params, grads, offsets)
    np.testing.assert_allclose(step.weights["v->h"], -(data_term - model_term), atol=1e-5)


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_an_offset_update_leaves_the_exact_log_likelihood_unchanged(name):
    """Moving the offsets and re-parameterising the centered biases keeps the standard
    parameters, so the exact log-likelihood, to 1e-5."""
    model, lengths = TINY_MODELS[name]
    centered = brute_force.random_params(model, 59, weight_scale=0.5).replace(
        lengths=tuple(lengths.items())
    )
    before, after = random_offsets(model, 60), random_offsets(model, 61)
    standard = standard_params(model, centered, before)
    moved = standard_params(model, centered_params(model, standard, after), after)
    log_z = mm.exact_log_partition(model, standard)
    assert abs(mm.exact_log_partition(model, moved) - log_z) < 1e-5 * max(1.0, abs(log_z))


@pytest.mark.parametrize("name", ["bernoulli_rbm", "gaussian_rbm", "replicated_softmax_rbm"])
def test_centered_pcd_averages_to_the_centered_exact_gradient(name):
    """An RBM's data statistics are exact, so the offsets after one estimate are a fixed
    function of the batch, and the centered PCD estimates average to the centered exact
    gradient with those offsets."""
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 62).replace(lengths=tuple(lengths.items()))
    nll = exact_mean_nll(model, lengths)
    data_params = brute_force.random_params(model, 53)
    samples = mm.sample(
        jax.random.key(54), model, data_params, num_chains=8, num_steps=30, lengths=lengths
    )
    batch = {"v": samples["v"]}
    estimator = mm.centered(model, mm.pcd(model, num_gibbs_steps=100, centering=False), rate=0.3)

    def one(key):
        init_key, estimate_key = jax.random.split(key)
        state = estimator.init(init_key, params, 400)
        grads, state, _ = estimator.estimate(estimate_key, params, state, batch)
        return grads, state.offsets

    estimates, offsets = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(63), 48))
    first = jax.tree.map(lambda x: x[0], offsets)
    for leaf in jax.tree.leaves(offsets):
        np.testing.assert_allclose(leaf, np.broadcast_to(leaf[0], leaf.shape), atol=1e-6)
    expected = centered_gradient(model, params, jax.grad(nll)(params), first)
    for path, stack in jax.tree_util.tree_leaves_with_path(estimates):
        target = np.asarray(dict(jax.tree_util.tree_leaves_with_path(expected))[path])
        stack = np.asarray(stack, np.float64)
        error = stack.std(axis=0, ddof=1) / np.sqrt(len(stack))
        assert np.all(np.abs(stack.mean(axis=0) - target) <= 4.5 * error + 2e-4), path


def test_centered_learning_does_not_depend_on_which_value_is_one():
    """An RBM on binarised digits and on the same digits flipped (1 - x): the model class is
    the same, and centered PCD learns both to within half a nat of each other (exact test
    log-likelihoods, every hidden state enumerated); plain PCD does not."""
    digits = mm.datasets.load("mnist_tags")
    train, test = ((digits[s]["image"] >= 0.5).astype(np.float32) for s in ("train", "test"))
    test = test[:300]
    model = mm.rbm(mm.Bernoulli(784), 8)
    gaps = {}
    for centering in (True, False):
        scores = []
        for x, y in ((train, test), (1 - train, 1 - test)):
            params, _ = mm.fit(
                jax.random.key(0),
                model,
                {"v": x},
                num_epochs=10,
                batch_size=100,
                estimator=mm.pcd(model, centering=centering),
                progress=False,
            )
            log_z = mm.exact_log_partition(model, params)
            scores.append(float(jnp.mean(mm.log_likelihood(model, params, {"v": y}, log_z))))
        gaps[centering] = abs(scores[0] - scores[1])
    assert gaps[True] < 0.5, gaps
    assert gaps[False] > 4 * gaps[True], gaps
