"""AIS against the enumeration oracle on tiny models of every unit mix."""

import jax
import jax.numpy as jnp
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


def model_samples(model, params, num):
    """Long Gibbs runs: exact samples of a tiny model, as far as a test can tell."""
    samples = mm.sample(jax.random.key(5), model, params, num_chains=num, num_steps=300)
    return {name: samples[name] for name in model.visible}


def per_chain_estimates(result, direction):
    """Each chain's own estimate of ``log Z`` (forward: ``log Z_0 + log w``; reverse:
    ``log Z_0 - log w``): independent runs of one chain each."""
    log_weights = np.asarray(result.log_weights, np.float64)
    mean_weight = jax.nn.logsumexp(log_weights) - np.log(len(log_weights))
    log_z_base = float(result.log_z) - direction * float(mean_weight)
    return log_z_base + direction * log_weights


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_reverse_ais_from_model_samples_is_within_a_tenth_of_a_nat(name):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 60).replace(lengths=tuple(lengths.items()))
    exact = mm.exact_log_partition(model, params)
    data = model_samples(model, params, 100)
    result = mm.reverse_ais(jax.random.key(1), model, params, data, num_chains=100, num_betas=1000)
    assert abs(float(result.log_z) - exact) < 0.1, (float(result.log_z), exact)
    assert float(result.log_z_low) <= exact <= float(result.log_z_high), result
    assert float(result.effective_sample_size) > 50


@pytest.mark.filterwarnings("ignore::mmdbm.AISWarning")
@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_forward_ais_falls_short_of_log_z_and_reverse_ais_exceeds_it(name):
    """Averaged over runs, forward AIS underestimates log Z and reverse AIS from model samples
    overestimates it (Jensen; the gap of each is a KL divergence between the annealing's
    forward and backward processes). Each chain is an independent run of one chain; a short
    schedule from the model's own biases makes the gaps large enough to see."""
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, 60, weight_scale=1.5)
    params = params.replace(lengths=tuple(lengths.items()))
    exact = mm.exact_log_partition(model, params)
    settings = {"num_chains": 1000, "num_betas": 10, "base": params}
    forward = per_chain_estimates(mm.ais(jax.random.key(0), model, params, **settings), 1)
    data = model_samples(model, params, 1000)
    reverse = mm.reverse_ais(jax.random.key(1), model, params, data, **settings)
    reverse = per_chain_estimates(reverse, -1)
    for estimates, sign in ((forward, -1), (reverse, 1)):
        standard_error = estimates.std() / np.sqrt(len(estimates))
        assert sign * (estimates.mean() - exact) > 3 * standard_error, (estimates.mean(), exact)


def test_the_marginal_base_holds_where_the_model_own_biases_fail():
    """Large biases cancelled by large weights, as in centered models: under its own biases
    the base puts every unit off, the weights then hold the chains there, and AIS reports the
    mass of that mode alone, 18 nats short, with a tight interval and every chain agreeing. The
    base with the model's marginals starts where the model is."""
    model = mm.rbm(mm.Bernoulli(10), 6)
    params = model.init(jax.random.key(0)).replace(
        weights={"v->h": jnp.full((10, 6), 2.5)},
        biases={"v": jnp.full(10, -6.0), "h": jnp.full(6, -12.0)},
    )
    exact = mm.exact_log_partition(model, params)
    own = mm.ais(jax.random.key(0), model, params, num_chains=100, num_betas=1000, base=params)
    assert float(own.log_z_high) < exact - 10 and float(own.effective_sample_size) > 99
    result = mm.ais(jax.random.key(0), model, params, num_chains=100, num_betas=1000)
    assert abs(float(result.log_z) - exact) < 0.1
    assert float(result.log_z_low) <= exact <= float(result.log_z_high)


def test_degenerate_weights_are_reported_with_the_effective_sample_size():
    """Importance sampling straight from the base to the model (no intermediate inverse
    temperatures): a few chains carry nearly all the weight."""
    model, _ = TINY_MODELS["gaussian_rbm"]
    params = brute_force.random_params(model, 60, weight_scale=2.0)
    straight = {"num_chains": 200, "schedule": np.array([0.0, 1.0]), "base": params}
    with pytest.warns(mm.AISWarning, match=r"effective sample size is [\d.]+ of 200 chains"):
        result = mm.ais(jax.random.key(0), model, params, **straight)
    assert float(result.effective_sample_size) < 20


def test_reverse_ais_needs_every_visible_layer_and_documents_of_the_length():
    model, lengths = TINY_MODELS["multimodal_dbm"]
    params = brute_force.random_params(model, 1).replace(lengths=tuple(lengths.items()))
    images, texts = np.zeros((2, 2)), np.array([[1, 1, 0], [0, 2, 0]])
    with pytest.raises(ValueError, match=r"layers \['text'\] are missing"):
        mm.reverse_ais(jax.random.key(0), model, params, {"image": images})
    with pytest.raises(
        ValueError, match=r"no example has the evaluated document lengths \(.text.: 3\)"
    ):
        mm.reverse_ais(jax.random.key(0), model, params, {"image": images, "text": texts})


def test_every_document_length_in_one_call_matches_its_exact_log_z():
    """One ``log Z`` per entry of a list of lengths, in groups of similar lengths; the groups
    share one compiled program."""
    model = mm.rbm(mm.ReplicatedSoftmax(4), 2)
    params = brute_force.random_params(model, 8).replace(lengths=(("v", 3),))
    lengths = list(range(1, mm.evaluation.ais.LENGTHS_PER_PROGRAM + 5))
    exact = [mm.exact_log_partition(model, params, lengths={"v": m}) for m in lengths]
    with count_traces() as traces:
        result = mm.ais(jax.random.key(0), model, params, num_betas=300, lengths={"v": lengths})
    assert traces["_ais_log_weights"] == 1
    assert result.log_z.shape == (len(lengths),) and result.log_weights.shape == (len(lengths), 100)
    np.testing.assert_allclose(result.log_z, exact, atol=0.1)
    documents = np.array([[3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    reverse = mm.reverse_ais(
        jax.random.key(1), model, params, {"v": documents}, num_betas=300, lengths={"v": [4, 1, 8]}
    )
    np.testing.assert_allclose(reverse.log_z, [exact[3], exact[0], exact[7]], atol=0.1)


def test_lists_of_lengths_must_agree():
    model, lengths = TINY_MODELS["multimodal_dbm"]
    params = brute_force.random_params(model, 1).replace(lengths=tuple(lengths.items()))
    with pytest.raises(ValueError, match="one common size"):
        mm.ais(jax.random.key(0), model, params, lengths={"text": [[1, 2]]})
    with pytest.raises(ValueError, match=r"needs a positive whole total count M, got 2\.5"):
        mm.ais(jax.random.key(0), model, params, lengths={"text": [3, 2.5]})
