"""Unit types against SciPy/NumPy closed forms, quadrature and goodness-of-fit of samples."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special, stats

import mmdbm as mm
from tests.brute_force import states_of
from tests.goodness_of_fit import LEVEL, chi_square_pvalue

RNG = np.random.default_rng(0)
FIELD = RNG.normal(size=4).astype(np.float32) * 2
BIAS = RNG.normal(size=4).astype(np.float32)
LOG_SIGMA = RNG.normal(size=4).astype(np.float32) * 0.5
SIGMA = np.exp(LOG_SIGMA.astype(np.float64))


def test_bernoulli_matches_closed_forms():
    unit = mm.Bernoulli(4)
    np.testing.assert_allclose(unit.mean(FIELD, BIAS), special.expit(FIELD + BIAS), rtol=1e-6)
    log_z = sum(np.logaddexp(0, f + b) for f, b in zip(FIELD, BIAS, strict=True))
    np.testing.assert_allclose(unit.log_partition(FIELD, BIAS), log_z, rtol=1e-6)
    x = np.array([1.0, 0.0, 1.0, 1.0], np.float32)
    np.testing.assert_allclose(unit.energy(x, BIAS), -(BIAS @ x), rtol=1e-6)


def test_bernoulli_log_partition_is_stable_for_large_fields():
    unit = mm.Bernoulli(2)
    field = jnp.array([500.0, -500.0])
    np.testing.assert_allclose(unit.log_partition(field, jnp.zeros(2)), 500.0, rtol=1e-6)


def test_gaussian_log_partition_matches_quadrature():
    unit = mm.Gaussian(4)
    expected = 0.0
    for phi, b, sigma in zip(FIELD, BIAS, SIGMA, strict=True):
        integrand = lambda x, phi=phi, b=b, sigma=sigma: np.exp(
            -((x - b) ** 2) / (2 * sigma**2) + x * phi / sigma
        )
        centre = b + sigma * phi
        value, _ = integrate.quad(integrand, centre - 40 * sigma, centre + 40 * sigma)
        expected += np.log(value)
    np.testing.assert_allclose(unit.log_partition(FIELD, BIAS, LOG_SIGMA), expected, rtol=1e-5)


def test_gaussian_conditional_matches_normal_density():
    """p(x | phi) = exp(-E(x) + s(x).phi - log Z(phi)) is the N(b + sigma phi, sigma^2) density."""
    unit = mm.Gaussian(4)
    x = RNG.normal(size=4).astype(np.float32)
    log_density = (
        -unit.energy(x, BIAS, LOG_SIGMA)
        + unit.statistic(x, LOG_SIGMA) @ FIELD
        - unit.log_partition(FIELD, BIAS, LOG_SIGMA)
    )
    expected = stats.norm.logpdf(x, BIAS + SIGMA * FIELD, SIGMA).sum()
    np.testing.assert_allclose(log_density, expected, rtol=1e-5)
    np.testing.assert_allclose(unit.mean(FIELD, BIAS, LOG_SIGMA), BIAS + SIGMA * FIELD, rtol=1e-5)


def test_replicated_softmax_log_partition_sums_over_count_vectors():
    unit = mm.ReplicatedSoftmax(4)
    total = 5
    terms = [
        np.log(stats.multinomial.pmf(c, total, np.full(4, 0.25)))
        + total * np.log(4)
        + (FIELD + BIAS) @ c
        for c in states_of(unit, total)
    ]
    np.testing.assert_allclose(
        unit.log_partition(FIELD, BIAS, total=jnp.float32(total)),
        np.logaddexp.reduce(terms),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        unit.mean(FIELD, BIAS, total=jnp.float32(total)),
        total * special.softmax(FIELD + BIAS),
        rtol=1e-5,
    )


def test_replicated_softmax_base_measure_is_multinomial_coefficient():
    counts = np.array([2.0, 0.0, 3.0, 1.0], np.float32)
    expected = math.log(math.factorial(6) / (2 * 6 * 1))
    np.testing.assert_allclose(
        mm.ReplicatedSoftmax(4).log_base_measure(counts), expected, rtol=1e-6
    )


def _draws(unit, num, **kwargs):
    keys = jax.random.split(jax.random.key(1), num)
    return np.asarray(jax.vmap(lambda k: unit.sample(k, FIELD, BIAS, **kwargs))(keys))


def test_bernoulli_samples_fit_their_probabilities():
    draws = _draws(mm.Bernoulli(4), 20000)
    p = special.expit(FIELD + BIAS)
    z = (draws.mean(0) - p) / np.sqrt(p * (1 - p) / len(draws))
    assert np.all(np.abs(z) < 4), z


def test_gaussian_samples_fit_their_normal():
    draws = _draws(mm.Gaussian(4), 5000, log_sigma=LOG_SIGMA)
    for i in range(4):
        result = stats.kstest(draws[:, i], stats.norm(BIAS[i] + SIGMA[i] * FIELD[i], SIGMA[i]).cdf)
        assert result.pvalue > LEVEL, (i, result)


@pytest.mark.parametrize(("n", "total"), [(1, 3), (4, 3), (5, 3), (7, 3), (2, 70)])
def test_replicated_softmax_samples_are_multinomial(n, total):
    """Chi-square test of sampled count vectors against Multinomial(M, softmax), for several
    widths, and for a document longer than one round of the sampler's words."""
    unit = mm.ReplicatedSoftmax(n)
    rng = np.random.default_rng(n)
    field, bias = (rng.normal(size=n).astype(np.float32) for _ in range(2))
    keys = jax.random.split(jax.random.key(n), 20000)
    draws = np.asarray(
        jax.vmap(lambda k: unit.sample(k, field, bias, total=jnp.float32(total)))(keys)
    )
    assert np.all(draws.sum(1) == total) and np.all(draws == np.round(draws))
    states = states_of(unit, total)
    index = {tuple(s.astype(int)): i for i, s in enumerate(states)}
    cells = np.array([index[tuple(d.astype(int))] for d in draws])
    probabilities = stats.multinomial.pmf(np.array(states), total, special.softmax(field + bias))
    if n == 1:
        assert np.all(cells == 0)
    else:
        assert chi_square_pvalue(cells, probabilities) > LEVEL


@pytest.mark.parametrize("n", [1, 2, 3, 10, 99, 2000, 2001])
def test_blocked_cumsum_is_the_running_sum(n):
    """The word sampler's running sums, as matrix products, against float64 ``np.cumsum``: to
    float32 rounding, every block boundary and padding included."""
    values = np.random.default_rng(n).random(n).astype(np.float32)
    expected = np.cumsum(values.astype(np.float64))
    np.testing.assert_allclose(mm.units.blocked_cumsum(values), expected, rtol=2e-6, atol=1e-6)


def test_replicated_softmax_draws_each_document_its_own_length():
    """Under vmap each row draws its own M words (traced totals), with the right means."""
    unit = mm.ReplicatedSoftmax(3)
    totals = jnp.asarray(np.tile([1.0, 5.0, 33.0, 100.0], 5000), jnp.float32)
    field, bias = jnp.zeros(3), jnp.log(jnp.array([0.2, 0.3, 0.5]))
    keys = jax.random.split(jax.random.key(0), len(totals))
    draws = np.asarray(jax.vmap(lambda k, m: unit.sample(k, field, bias, total=m))(keys, totals))
    np.testing.assert_array_equal(draws.sum(1), np.asarray(totals))
    for total in (1.0, 5.0, 33.0, 100.0):
        rows = draws[np.asarray(totals) == total]
        expected = total * np.array([0.2, 0.3, 0.5])
        spread = np.sqrt(total * np.array([0.16, 0.21, 0.25]) / len(rows))
        assert np.all(np.abs(rows.mean(0) - expected) < 4 * spread), (total, rows.mean(0))


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_units_reject_bad_sizes(n):
    with pytest.raises(ValueError, match="positive integer"):
        mm.Bernoulli(n)
