"""The raw-input baselines of the reports."""

import numpy as np
from scipy import stats

from experiments import baselines


def test_lda_log_likelihood_is_that_of_the_count_vectors():
    rng = np.random.default_rng(0)
    counts = rng.multinomial(12, rng.dirichlet(np.ones(30)), size=40).astype(np.float64)
    model = baselines.lda(counts, 3)
    theta = model.transform(counts[:5])
    theta /= theta.sum(axis=1, keepdims=True)
    beta = model.components_ / model.components_.sum(axis=1, keepdims=True)
    expected = [
        stats.multinomial.logpmf(c, c.sum(), p)
        for c, p in zip(counts[:5], theta @ beta, strict=True)
    ]
    np.testing.assert_allclose(baselines.lda_log_likelihood(model, counts[:5]), expected, rtol=1e-6)
