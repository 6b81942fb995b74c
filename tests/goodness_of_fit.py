"""Goodness-of-fit of sample frequencies to exact probabilities."""

import numpy as np
from scipy import stats

LEVEL = 1e-3  # significance level of every goodness-of-fit test; the seeds are fixed


def chi_square_pvalue(cells: np.ndarray, probabilities: np.ndarray, min_expected: float = 5.0):
    """Pearson chi-square p-value of observed cell indices against cell probabilities.

    Cells whose expected count is below ``min_expected`` are pooled into one cell.
    """
    probabilities = np.asarray(probabilities, np.float64)
    probabilities = probabilities / probabilities.sum()
    observed = np.bincount(cells, minlength=len(probabilities)).astype(np.float64)
    expected = probabilities * len(cells)
    small = expected < min_expected
    observed = np.append(observed[~small], observed[small].sum())
    expected = np.append(expected[~small], expected[small].sum())
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    statistic = np.sum((observed - expected) ** 2 / expected)
    return stats.chi2.sf(statistic, len(expected) - 1)
