"""AIS against the enumeration oracle on tiny models of every unit mix."""

import jax
import numpy as np
import pytest

import mmdbm as mm
from tests import brute_force
from tests.models import TINY_MODELS
from tests.tracing import count_traces


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_ais_is_within_a_tenth_of_a_nat_and_its_interval_holds_the_exact_value(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 60).replace(lengths=tuple(lengths.items()))
    exact = mm.exact_log_partition(model, params)
    result = mm.ais(jax.random.key(0), model, params, num_chains=100, num_betas=1000)
    assert abs(float(result.log_z) - exact) < 0.1, (float(result.log_z), exact)
    assert float(result.log_z_low) <= exact <= float(result.log_z_high), result
    assert result.log_weights.shape == (100,)
    assert 0 < float(result.log_z_std) < 0.1


def test_a_base_rate_model_from_data_gives_the_same_answer():
    model = mm.rbm(mm.Bernoulli(8), 4)
    params = brute_force.random_params(model, 61)
    data = {"v": mm.sample(jax.random.key(1), model, params, num_chains=500, num_steps=50)["v"]}
    base = model.init(jax.random.key(2), data)
    result = mm.ais(jax.random.key(3), model, params, num_chains=100, num_betas=1000, base=base)
    assert abs(float(result.log_z) - mm.exact_log_partition(model, params)) < 0.1


def test_more_betas_shrink_the_spread_of_the_weights():
    model, _ = TINY_MODELS["dbm"]
    params = brute_force.random_params(model, 62, weight_scale=1.5)
    few = mm.ais(jax.random.key(0), model, params, num_chains=200, num_betas=20)
    many = mm.ais(jax.random.key(0), model, params, num_chains=200, num_betas=2000)
    assert float(np.std(many.log_weights)) < float(np.std(few.log_weights)) / 3
    assert float(few.effective_sample_size) < float(many.effective_sample_size) <= 200
    assert float(many.effective_sample_size) > 150


def test_the_annealing_compiles_once_for_repeated_calls():
    model = mm.dbm(mm.Bernoulli(5), [4, 3])
    with count_traces() as traces:
        for seed in range(3):
            params = brute_force.random_params(model, seed)
            mm.ais(jax.random.key(seed), model, params, num_chains=10, num_betas=50)
    assert traces["_ais_log_weights"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schedule": np.array([0.0, 0.5, 0.9])}, "from 0 to 1"),
        ({"schedule": np.array([0.0, 0.6, 0.5, 1.0])}, "non-decreasing"),
        ({"num_betas": 2}, "at least 3"),
        ({"num_chains": 0}, "num_chains must be a positive int"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    model, _ = TINY_MODELS["bernoulli_rbm"]
    with pytest.raises(ValueError, match=message):
        mm.ais(jax.random.key(0), model, model.init(jax.random.key(0)), **kwargs)


def test_a_progress_bar_leaves_the_estimate_unchanged():
    model = mm.dbm(mm.Bernoulli(5), [4, 3])
    params = brute_force.random_params(model, 4)
    quiet = mm.ais(jax.random.key(1), model, params, num_chains=20, num_betas=200)
    shown = mm.ais(jax.random.key(1), model, params, num_chains=20, num_betas=200, progress=True)
    np.testing.assert_allclose(shown.log_weights, quiet.log_weights, rtol=1e-5, atol=1e-5)
