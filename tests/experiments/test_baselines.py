"""The raw-input baselines of the reports."""

import itertools

import numpy as np
from scipy.special import gammaln

from experiments import baselines


def exact_lda_log_prob(topic_word, alpha, words):
    """log p(w) by enumerating every topic assignment, theta integrated out in closed form."""
    log_terms = []
    for topics in itertools.product(range(len(alpha)), repeat=len(words)):
        n = np.bincount(topics, minlength=len(alpha))
        log_prior = gammaln(alpha.sum()) - gammaln(alpha.sum() + len(words))
        log_prior += np.sum(gammaln(alpha + n) - gammaln(alpha))
        log_terms.append(log_prior + np.log(topic_word[topics, words]).sum())
    return np.logaddexp.reduce(log_terms)


def test_left_to_right_estimates_are_unbiased_against_enumeration():
    rng = np.random.default_rng(0)
    topic_word = rng.dirichlet(np.full(5, 0.5), size=3)
    alpha = np.array([0.3, 0.5, 0.8])
    counts = np.array([[2, 0, 1, 0, 2], [0, 3, 0, 1, 0], [1, 1, 1, 1, 1]])
    exact = [exact_lda_log_prob(topic_word, alpha, np.repeat(np.arange(5), c)) for c in counts]
    runs = np.array(
        [
            baselines.left_to_right_log_prob(topic_word, alpha, counts, num_particles=200, seed=s)
            for s in range(50)
        ]
    )
    # p(w) is estimated without bias: the mean of the estimates of p, not of log p
    mean = np.log(np.mean(np.exp(runs), axis=0))
    standard_error = np.std(np.exp(runs), axis=0) / np.sqrt(len(runs)) / np.exp(exact)
    assert np.all(np.abs(mean - exact) < 4 * standard_error + 1e-3)
    assert np.all(np.abs(runs - exact).mean(axis=0) < 0.1)
