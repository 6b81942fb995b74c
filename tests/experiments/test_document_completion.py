"""Document completion: the split, the conditional Replicated Softmax against enumeration of
the whole model, and both models' estimators against exact completion probabilities."""

import itertools

import jax
import numpy as np
import pytest
from scipy.special import gammaln

import mmdbm as mm
from experiments import document_completion
from tests.experiments.test_baselines import exact_lda_log_prob


def _log_multinomial(counts):
    counts = np.asarray(counts, np.float64)
    return gammaln(counts.sum() + 1) - gammaln(counts + 1).sum()


def _count_vectors(words, total):
    return [
        np.bincount(np.array(c, int), minlength=words).astype(np.float32)
        for c in itertools.combinations_with_replacement(range(words), total)
    ]


def _tiny_rsm(seed=0):
    model = mm.rbm(mm.ReplicatedSoftmax(3), 2)
    rng = np.random.default_rng(seed)
    params = mm.Params(
        weights={"v->h": rng.normal(0, 1.0, (3, 2)).astype(np.float32)},
        biases={"v": rng.normal(0, 0.5, 3).astype(np.float32), "h": np.float32([0.3, -0.4])},
        log_sigma={},
        lengths=(("v", 5),),
    )
    return model, params


def test_split_words_halves_every_document():
    counts = np.array([[3, 0, 2, 1], [0, 1, 0, 0], [5, 5, 0, 1]])
    observed, held_out = document_completion.split_words(counts, seed=3)
    np.testing.assert_array_equal(observed + held_out, counts)
    np.testing.assert_array_equal(observed.sum(1), counts.sum(1) // 2)
    again = document_completion.split_words(counts, seed=3)
    np.testing.assert_array_equal(again[0], observed)


def test_the_conditional_rsm_is_the_whole_models_conditional_by_enumeration():
    model, params = _tiny_rsm()
    observed = np.float32([1, 0, 1])
    held_length = 3
    whole_length = int(observed.sum()) + held_length
    log_z = mm.exact_log_partition(model, params, lengths={"v": whole_length})

    def log_sequence_prob(rest):  # log p of one word order of observed + rest, length M
        counts = observed + rest
        log_p = mm.log_likelihood(model, params, {"v": counts[None]}, log_z)[0]
        return float(log_p) - _log_multinomial(counts)

    rests = _count_vectors(3, held_length)
    log_normaliser = np.logaddexp.reduce(
        [_log_multinomial(r) + log_sequence_prob(r) for r in rests]
    )
    conditional = document_completion.conditional_rsm(params, observed, held_length)
    conditional_log_z = mm.exact_log_partition(model, conditional, lengths={"v": held_length})
    for rest in rests:
        expected = _log_multinomial(rest) + log_sequence_prob(rest) - log_normaliser
        got = mm.log_likelihood(model, conditional, {"v": rest[None]}, conditional_log_z)[0]
        assert float(got) == pytest.approx(expected, abs=1e-4)


@pytest.mark.filterwarnings("ignore::mmdbm.AISWarning")
def test_rsm_completion_brackets_the_exact_completion_probability():
    model, params = _tiny_rsm(seed=1)
    observed = np.float32([[2, 0, 1], [0, 1, 0]])
    held_out = np.float32([[0, 1, 1], [1, 0, 2]])
    estimates = document_completion.rsm_completion_log_prob(
        jax.random.key(0), model, params, observed, held_out, num_chains=200, num_betas=300
    )
    for row in range(2):
        length = int(held_out[row].sum())
        conditional = document_completion.conditional_rsm(params, observed[row], length)
        log_z = mm.exact_log_partition(model, conditional, lengths={"v": length})
        exact = float(mm.log_likelihood(model, conditional, {"v": held_out[row][None]}, log_z)[0])
        assert estimates[""][row] == pytest.approx(exact, abs=0.05)
        assert estimates["reverse_"][row] == pytest.approx(exact, abs=0.05)
    with pytest.raises(ValueError, match="at least one held-out word"):
        document_completion.rsm_completion_log_prob(
            jax.random.key(0), model, params, observed, 0 * held_out, num_chains=2, num_betas=3
        )


def test_lda_completion_matches_enumeration():
    rng = np.random.default_rng(0)
    topic_word = rng.dirichlet(np.full(4, 0.5), size=3)

    class Fitted:  # what lda_completion_log_prob reads of scikit-learn's model
        components_ = 10 * topic_word
        n_components = 3
        doc_topic_prior_ = 0.4

    alpha = np.full(3, 0.4)
    observed = np.array([[1, 0, 2, 0], [0, 1, 0, 0]])
    held_out = np.array([[0, 1, 1, 0], [2, 0, 0, 1]])
    runs = np.array(
        [
            document_completion.lda_completion_log_prob(
                Fitted(), observed, held_out, num_particles=200, seed=s
            )
            for s in range(10)
        ]
    )
    for row in range(2):
        first = np.repeat(np.arange(4), observed[row])
        whole = np.concatenate([first, np.repeat(np.arange(4), held_out[row])])
        exact = (
            exact_lda_log_prob(topic_word, alpha, whole)
            - exact_lda_log_prob(topic_word, alpha, first)
            + _log_multinomial(held_out[row])
        )
        assert np.abs(runs[:, row] - exact).mean() < 0.05
