"""AIS over document lengths against the enumeration oracle and the exact tempered marginal."""

import itertools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mmdbm as mm
from mmdbm.evaluation.length_ais import (
    Columns,
    gibbs_sweep,
    per_word_log_marginal,
    temperatures,
    word_logits,
)
from tests import brute_force
from tests.goodness_of_fit import LEVEL, chi_square_pvalue
from tests.tracing import count_traces

LENGTHS = [1, 2, 3, 7, 20, 40]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_length_is_within_a_tenth_of_a_nat_and_its_interval_holds_it(seed):
    model = mm.rbm(mm.ReplicatedSoftmax(5), 4)
    params = brute_force.random_params(model, seed).replace(lengths=(("v", 3),))
    exact = [mm.exact_log_partition(model, params, lengths={"v": m}) for m in LENGTHS]
    with count_traces() as traces:
        result = mm.ais_over_lengths(jax.random.key(seed), model, params, {"v": LENGTHS})
    assert traces["_anneal"] <= 1  # every length in one program (none when cached)
    assert result.log_z.shape == (len(LENGTHS),) and result.log_weights.shape == (6, 100)
    np.testing.assert_allclose(result.log_z, exact, atol=0.1)
    assert np.all(result.log_z_low <= np.array(exact)) and np.all(
        np.array(exact) <= result.log_z_high
    )
    single = mm.ais_over_lengths(jax.random.key(seed), model, params, {"v": 7}, num_betas=1000)
    assert single.log_z.shape == () and abs(float(single.log_z) - exact[3]) < 0.1
    repeated = mm.ais_over_lengths(jax.random.key(seed), model, params, {"v": [40, 2, 40]})
    np.testing.assert_allclose(repeated.log_z, [exact[5], exact[1], exact[5]], atol=0.1)
    np.testing.assert_array_equal(repeated.log_weights[0], repeated.log_weights[2])


def test_the_estimate_falls_short_of_log_z_on_average_and_its_weights_are_unbiased():
    """AIS's weights estimate ``Z_M / Z_0`` without bias, so their mean over runs is 1 in units
    of the exact ratio and the mean ``log Z`` lies at or below the exact one (Jensen)."""
    model = mm.rbm(mm.ReplicatedSoftmax(5), 4)
    params = brute_force.random_params(model, 3).replace(lengths=(("v", 3),))
    exact = np.array([mm.exact_log_partition(model, params, lengths={"v": m}) for m in LENGTHS])
    with warnings.catch_warnings():  # two chains each: their ESS is always small
        warnings.simplefilter("ignore", mm.AISWarning)
        runs = np.array(
            [
                mm.ais_over_lengths(
                    jax.random.key(k), model, params, {"v": LENGTHS}, num_chains=2, num_betas=30
                ).log_z
                for k in range(200)
            ]
        )
    errors = runs - exact
    standard_errors = errors.std(axis=0) / np.sqrt(len(runs))
    assert np.all(errors.mean(axis=0) < 3 * standard_errors), errors.mean(axis=0)
    assert np.all(errors.mean(axis=0)[-2:] < 0), errors.mean(axis=0)
    ratios = np.exp(errors)
    np.testing.assert_allclose(
        ratios.mean(axis=0), 1.0, atol=4 * float(np.max(ratios.std(axis=0))) / np.sqrt(len(runs))
    )


def test_a_sweep_leaves_the_tempered_marginal_invariant():
    """Long runs of sweeps at a fractional length ``t`` visit the hidden states with the
    frequencies ``exp(t f(h)) / Z_t`` of the enumerated marginal."""
    model = mm.rbm(mm.ReplicatedSoftmax(5), 4)
    params = brute_force.random_params(model, 0)
    states = np.array(list(itertools.product([0.0, 1.0], repeat=4)), np.float32)
    t = 2.5
    f = jax.vmap(
        lambda h: per_word_log_marginal(params.biases["h"], h, word_logits(params, "v", "h", h))
    )(jnp.asarray(states))
    columns = Columns.of(params, "v", "h")
    probabilities = np.asarray(jax.nn.softmax(t * f), np.float64)

    def chain(key):
        def sweep(h, step_key):
            logits = word_logits(params, "v", "h", h)
            h = gibbs_sweep(step_key, columns, jnp.float32(t), h, logits)
            return h, h

        return jax.lax.scan(sweep, jnp.zeros(4), jax.random.split(key, 2000))[1]

    visits = jax.jit(jax.vmap(chain))(jax.random.split(jax.random.key(0), 10))
    visits = np.asarray(visits)[:, 100::5].reshape(-1, 4)
    cells = (visits @ 2 ** np.arange(3, -1, -1)).astype(int)
    assert chi_square_pvalue(cells, probabilities) > LEVEL


def test_the_path_holds_every_length_and_spreads_its_points_by_their_size():
    points = temperatures(np.array([2.0, 35.0, 497.0]), 1000)
    assert points[0] == 0 and points[-1] == 497 and np.all(np.diff(points) > 0)
    assert {2.0, 35.0, 497.0} <= set(points.tolist())
    below = [np.sum(points < m) for m in (2.0, 35.0, 497.0)]
    np.testing.assert_allclose(
        below[:2], [1000 * np.log(3) / np.log(498), 1000 * np.log(36) / np.log(498)], atol=3
    )


def test_a_progress_bar_leaves_the_estimate_unchanged():
    model = mm.rbm(mm.ReplicatedSoftmax(5), 3)
    params = brute_force.random_params(model, 4)
    settings = {"num_chains": 10, "num_betas": 100}
    quiet = mm.ais_over_lengths(jax.random.key(1), model, params, {"v": [3, 8]}, **settings)
    shown = mm.ais_over_lengths(
        jax.random.key(1), model, params, {"v": [3, 8]}, progress=True, **settings
    )
    np.testing.assert_allclose(shown.log_weights, quiet.log_weights, rtol=1e-5, atol=1e-5)


def test_only_a_replicated_softmax_rbm_and_whole_lengths_are_taken():
    rbm = mm.rbm(mm.Bernoulli(4), 2)
    with pytest.raises(ValueError, match="needs a Replicated Softmax RBM"):
        mm.ais_over_lengths(jax.random.key(0), rbm, brute_force.random_params(rbm, 0), {})
    deep = mm.dbm(mm.ReplicatedSoftmax(4), [3, 2])
    with pytest.raises(ValueError, match="needs a Replicated Softmax RBM"):
        mm.ais_over_lengths(jax.random.key(0), deep, brute_force.random_params(deep, 0), {"v": 3})
    rsm = mm.rbm(mm.ReplicatedSoftmax(4), 2)
    params = brute_force.random_params(rsm, 0)
    with pytest.raises(ValueError, match=r"needs a positive whole total count M, got 2\.5"):
        mm.ais_over_lengths(jax.random.key(0), rsm, params, {"v": [3, 2.5]})
    with pytest.raises(ValueError, match="num_betas must be an int >= 3"):
        mm.ais_over_lengths(jax.random.key(0), rsm, params, {"v": 3}, num_betas=2)
