"""Log-likelihoods: exact for RBMs, a lower bound with a small gap for DBMs."""

import jax
import numpy as np
import pytest
from scipy.stats import multinomial

import mmdbm as mm
from tests import brute_force
from tests.models import TINY_MODELS

GAP = 0.3  # nats: the largest mean-field gap accepted on these tiny models


def _visible_and_exact(name, seed):
    model, lengths = TINY_MODELS[name]
    params = brute_force.random_params(model, seed, weight_scale=0.7).replace(
        lengths=tuple(lengths.items())
    )
    samples = mm.sample(jax.random.key(seed), model, params, num_chains=6, num_steps=50)
    visible = {layer: samples[layer] for layer in model.visible}
    exact = np.array(
        [
            float(
                mm.exact_log_prob(model, params, {k: v[i : i + 1] for k, v in visible.items()})[0]
            )
            for i in range(6)
        ]
    )
    return model, params, visible, exact


@pytest.mark.parametrize("name", ["bernoulli_rbm", "gaussian_rbm", "replicated_softmax_rbm"])
def test_rbm_log_likelihood_is_exact(name):
    model, params, visible, exact = _visible_and_exact(name, 70)
    log_z = mm.exact_log_partition(model, params)
    np.testing.assert_allclose(mm.log_likelihood(model, params, visible, log_z), exact, atol=1e-4)


@pytest.mark.parametrize("name", ["dbm", "multimodal_dbm"])
def test_deep_models_get_a_lower_bound_with_a_small_gap(name):
    model, params, visible, exact = _visible_and_exact(name, 71)
    bound = np.asarray(
        mm.log_likelihood(model, params, visible, mm.exact_log_partition(model, params))
    )
    assert np.all(bound <= exact + 1e-5), (bound, exact)
    assert np.all(exact - bound < GAP), exact - bound


def test_the_bound_tightens_as_mean_field_converges():
    model, params, visible, exact = _visible_and_exact("dbm", 72)
    log_z = mm.exact_log_partition(model, params)
    gaps = [
        np.mean(
            exact
            - np.asarray(mm.log_likelihood(model, params, visible, log_z, num_mean_field_steps=s))
        )
        for s in (0, 30)
    ]
    assert gaps[1] < gaps[0]


def test_per_word_perplexity_is_that_of_the_word_sequences():
    documents = np.array([[2, 1, 0], [0, 0, 4], [1, 1, 1]])
    words = np.array([0.5, 0.3, 0.2])
    log_probs = [multinomial.logpmf(d, d.sum(), words) for d in documents]
    per_word = [np.sum(d * np.log(words)) / d.sum() for d in documents]
    np.testing.assert_allclose(
        mm.per_word_perplexity(np.array(log_probs), documents),
        np.exp(-np.mean(per_word)),
        rtol=1e-5,
    )


def test_every_visible_layer_is_needed():
    model, _ = TINY_MODELS["multimodal_dbm"]
    params = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"layers \['text'\] are missing"):
        mm.log_likelihood(model, params, {"image": np.zeros((2, 2))}, 0.0)
    both = {"image": np.zeros((2, 2)), "text": np.array([[3, 0, 0], [1, 1, 1]])}
    with pytest.raises(ValueError, match="log_z must be a scalar or one value per example"):
        mm.log_likelihood(model, params, both, np.zeros(3), lengths={"text": 3})


def test_one_log_z_for_documents_of_several_lengths_is_refused():
    model = mm.rbm(mm.ReplicatedSoftmax(4), 2)
    params = brute_force.random_params(model, 3).replace(lengths=(("v", 3),))
    documents = np.array([[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"layer 'v': the documents have 2 different lengths"):
        mm.log_likelihood(model, params, {"v": documents}, 1.0)
    per_document = [mm.exact_log_partition(model, params, lengths={"v": m}) for m in (3, 4)]
    exact = [float(mm.exact_log_prob(model, params, {"v": d[None]})[0]) for d in documents]
    np.testing.assert_allclose(
        mm.log_likelihood(model, params, {"v": documents}, np.array(per_document)), exact, atol=1e-4
    )
