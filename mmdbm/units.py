"""Unit types of a Boltzmann-machine layer: Bernoulli, Gaussian and Replicated Softmax.

A layer of ``n`` units of one type contributes a self-energy ``E(x)`` and couples to its
neighbours through a statistic ``s(x)``: the energy of a model holds ``-s_a(x_a)^T W s_b(x_b)``
for every edge. Given the field ``phi = sum_m W_lm s_m(x_m)`` from its neighbours, a layer's
conditional distribution is ``p(x | phi) ∝ mu(x) exp(-E(x) + s(x)^T phi)``, where ``mu`` is the
base measure (the multinomial coefficient for count vectors, 1 otherwise). Each unit type gives
that conditional's log-partition, mean and a sampler, all in natural parameters.

Every method works on one configuration (vectors of shape ``[n]``); vmap for batches. The methods
share one signature so that graph code can call any unit type alike: ``bias`` is the layer's
bias ``[n]``, ``log_sigma`` its log standard deviations ``[n]`` (read by Gaussian units only) and
``total`` the count M of a Replicated Softmax layer (read by Replicated Softmax units only).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

Array = jax.Array

_MIN_PROBABILITY = 1e-3
_CONSTANT_STD = 1e-6


def _check_size(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise ValueError(f"a layer needs a positive integer number of units, got {n!r}")


@dataclasses.dataclass(frozen=True)
class Bernoulli:
    """Binary units ``x in {0, 1}^n`` with ``E(x) = -b.x`` and ``s(x) = x``."""

    n: int

    def __post_init__(self) -> None:
        _check_size(self.n)

    def energy(self, x: Array, bias: Array, log_sigma: Array | None = None) -> Array:
        """Self-energy ``E(x) = -b.x``."""
        return -jnp.dot(bias, x)

    def statistic(self, x: Array, log_sigma: Array | None = None) -> Array:
        """Coupling statistic ``s(x) = x``."""
        return x

    def log_partition(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """``log Z(phi) = sum_i softplus(phi_i + b_i)``."""
        return jnp.sum(jax.nn.softplus(field + bias))

    def mean(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """``E[x_i | phi] = sigmoid(phi_i + b_i)``."""
        return jax.nn.sigmoid(field + bias)

    def sample(
        self,
        rng_key: Array,
        field: Array,
        bias: Array,
        log_sigma: Array | None = None,
        total: Array | None = None,
    ) -> Array:
        """``x_i ~ Bernoulli(sigmoid(phi_i + b_i))``, independently."""
        return jax.random.bernoulli(rng_key, self.mean(field, bias)).astype(field.dtype)

    def log_base_measure(self, x: Array) -> Array:
        """Zero: binary vectors are counted once each."""
        return jnp.zeros((), x.dtype)

    def problem_with(self, values: np.ndarray) -> str | None:
        """Why ``values`` cannot be data for this unit type, or ``None``."""
        if np.any((values < 0) | (values > 1)):
            return "values must lie in [0, 1] (binary data or probabilities)"
        return None

    def bias_for_mean(self, mean: Array) -> Array:
        """The bias whose conditional mean with zero field is ``mean``: ``logit(mean)``
        (``mean`` kept ``_MIN_PROBABILITY`` away from 0 and 1)."""
        p = jnp.clip(mean, _MIN_PROBABILITY, 1 - _MIN_PROBABILITY)
        return jnp.log(p) - jnp.log1p(-p)

    def data_bias(self, data: np.ndarray) -> np.ndarray:
        """Bias whose conditional mean with zero field is the data mean."""
        return np.asarray(self.bias_for_mean(data.mean(axis=0)))


@dataclasses.dataclass(frozen=True)
class Gaussian:
    """Real units with ``E(x) = sum_i (x_i - b_i)^2 / (2 sigma_i^2)`` and ``s(x) = x / sigma``.

    Given the field ``phi``, ``x_i ~ N(b_i + sigma_i phi_i, sigma_i^2)``: the image pathway of
    the multimodal DBM (Srivastava & Salakhutdinov 2012, eq. 3), whose coupling is
    ``sum_ij (x_i / sigma_i) W_ij h_j``. ``learn_sigma`` says whether training updates
    ``log sigma``; otherwise it stays where ``Model.init`` put it. As in the papers, give these
    units standardised data (zero mean, unit variance per feature): features that barely vary
    get a tiny sigma, and ``x / sigma`` then makes learning unstable.
    """

    n: int
    learn_sigma: bool = False

    def __post_init__(self) -> None:
        _check_size(self.n)

    def energy(self, x: Array, bias: Array, log_sigma: Array | None = None) -> Array:
        """Self-energy ``E(x) = sum_i (x_i - b_i)^2 / (2 sigma_i^2)``."""
        return 0.5 * jnp.sum(jnp.square((x - bias) * jnp.exp(-log_sigma)))

    def statistic(self, x: Array, log_sigma: Array | None = None) -> Array:
        """Coupling statistic ``s(x) = x / sigma``."""
        return x * jnp.exp(-log_sigma)

    def log_partition(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """Closed-form Gaussian integral ``log Z(phi) = sum_i [b_i phi_i / sigma_i + phi_i^2 / 2
        + log sigma_i + log(2 pi) / 2]``."""
        return jnp.sum(
            bias * field * jnp.exp(-log_sigma)
            + 0.5 * jnp.square(field)
            + log_sigma
            + 0.5 * math.log(2 * math.pi)
        )

    def mean(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """``E[x_i | phi] = b_i + sigma_i phi_i``."""
        return bias + jnp.exp(log_sigma) * field

    def sample(
        self,
        rng_key: Array,
        field: Array,
        bias: Array,
        log_sigma: Array | None = None,
        total: Array | None = None,
    ) -> Array:
        """``x_i ~ N(b_i + sigma_i phi_i, sigma_i^2)``, independently."""
        noise = jax.random.normal(rng_key, field.shape, field.dtype)
        return self.mean(field, bias, log_sigma) + jnp.exp(log_sigma) * noise

    def log_base_measure(self, x: Array) -> Array:
        """Zero: the base measure is Lebesgue measure."""
        return jnp.zeros((), x.dtype)

    def problem_with(self, values: np.ndarray) -> str | None:
        """Why ``values`` cannot be data for this unit type, or ``None``."""
        return None

    def bias_for_mean(self, mean: Array) -> Array:
        """The bias whose conditional mean with zero field is ``mean``: ``mean`` itself."""
        return jnp.asarray(mean)

    def data_bias(self, data: np.ndarray) -> np.ndarray:
        """Bias equal to the data mean."""
        return np.asarray(self.bias_for_mean(data.mean(axis=0)))

    def data_log_sigma(self, data: np.ndarray) -> np.ndarray:
        """Log standard deviation of the data; zero (sigma = 1) for a constant feature, whose
        data say nothing of its spread and whose tiny sigma would make learning blow up."""
        std = data.std(axis=0)
        return np.log(np.where(std > _CONSTANT_STD, std, 1.0))


@dataclasses.dataclass(frozen=True)
class ReplicatedSoftmax:
    """Word counts ``x in N^n`` with ``sum_i x_i = M``, ``E(x) = -b.x`` and ``s(x) = x``.

    The layer is M softmax units that share their weights (Salakhutdinov & Hinton 2009,
    "Replicated Softmax: an Undirected Topic Model"). Probabilities are those of count vectors:
    the base measure is the multinomial coefficient ``M! / prod_i x_i!``, so the conditional is
    ``Multinomial(M, softmax(b + phi))``. A Bernoulli layer adjacent to this one has its bias
    scaled by M; graph code applies that scaling.
    """

    n: int

    def __post_init__(self) -> None:
        _check_size(self.n)

    def energy(self, x: Array, bias: Array, log_sigma: Array | None = None) -> Array:
        """Self-energy ``E(x) = -b.x``."""
        return -jnp.dot(bias, x)

    def statistic(self, x: Array, log_sigma: Array | None = None) -> Array:
        """Coupling statistic ``s(x) = x``."""
        return x

    def log_partition(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """``log Z(phi) = M logsumexp(b + phi)`` (multinomial theorem)."""
        return total * jax.nn.logsumexp(field + bias)

    def mean(
        self, field: Array, bias: Array, log_sigma: Array | None = None, total: Array | None = None
    ) -> Array:
        """``E[x | phi] = M softmax(b + phi)``."""
        return total * jax.nn.softmax(field + bias)

    def sample(
        self,
        rng_key: Array,
        field: Array,
        bias: Array,
        log_sigma: Array | None = None,
        total: Array | None = None,
    ) -> Array:
        """``x ~ Multinomial(M, softmax(b + phi))``."""
        return multinomial(rng_key, total, jax.nn.softmax(field + bias))

    def log_base_measure(self, x: Array) -> Array:
        """Log multinomial coefficient ``log M! - sum_i log x_i!``."""
        return gammaln(jnp.sum(x) + 1) - jnp.sum(gammaln(x + 1))

    def problem_with(self, values: np.ndarray) -> str | None:
        """Why ``values`` cannot be data for this unit type, or ``None``."""
        if np.any(values < 0):
            return "word counts must be non-negative"
        if np.any(values != np.round(values)):
            return "word counts must be whole numbers"
        return None

    def bias_for_mean(self, mean: Array) -> Array:
        """The bias whose conditional mean with zero field is proportional to ``mean``: the
        log of each word's share (floored at ``_MIN_PROBABILITY / n``), so softmax(b) fits it."""
        share = jnp.maximum(mean / jnp.maximum(jnp.sum(mean), 1e-30), _MIN_PROBABILITY / self.n)
        return jnp.log(share / jnp.sum(share))

    def data_bias(self, data: np.ndarray) -> np.ndarray:
        """Bias ``log`` of each word's share of all counts, so softmax(b) fits them."""
        return np.asarray(self.bias_for_mean(data.mean(axis=0)))


Unit = Bernoulli | Gaussian | ReplicatedSoftmax


def learns_sigma(unit: Unit) -> bool:
    """Whether training updates the layer's log standard deviations."""
    return isinstance(unit, Gaussian) and unit.learn_sigma


WORDS_PER_ROUND = 32


def blocked_cumsum(values: Array) -> Array:
    """``jnp.cumsum`` of a vector, as matrix products: the vector in blocks of about
    ``sqrt(n)``, each block's running sums by an upper-triangular matrix of ones, plus the
    sums of the blocks before it. A CPU runs it about twice as fast as ``jnp.cumsum``."""
    n = values.shape[-1]
    size = math.isqrt(n - 1) + 1 if n > 1 else 1
    blocks = -(-n // size)
    padded = jnp.pad(values, (0, blocks * size - n)).reshape(blocks, size)
    ones = jnp.triu(jnp.ones((size, size), values.dtype))
    within = jnp.matmul(padded, ones, precision=jax.lax.Precision.HIGHEST)
    before = jnp.cumsum(within[:, -1]) - within[:, -1]
    return (within + before[:, None]).reshape(-1)[:n]


def multinomial(rng_key: Array, total: Array, probabilities: Array) -> Array:
    """One draw of ``Multinomial(total, probabilities)`` over the last axis, by inversion.

    The ``total`` words are independent categorical draws: a uniform scaled to the total
    mass is located in the cumulative sums of ``probabilities`` by binary search, and the
    counts are the histogram of the words located. The words are drawn ``WORDS_PER_ROUND`` at
    a time in a loop that stops when ``total`` are drawn, so ``total`` may be traced (each
    document its own length) and the work is ``O(n + total log n)``, small for short documents.
    """
    total = jnp.round(jnp.asarray(total)).astype(jnp.int32)
    cumulative = blocked_cumsum(probabilities)
    last = probabilities.shape[-1] - 1

    def draw_round(carry: tuple[Array, Array]) -> tuple[Array, Array]:
        done, counts = carry
        key = jax.random.fold_in(rng_key, done)
        uniforms = jax.random.uniform(key, (WORDS_PER_ROUND,), probabilities.dtype)
        words = jnp.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
        wanted = done + jnp.arange(WORDS_PER_ROUND) < total
        counts = counts.at[jnp.minimum(words, last)].add(wanted.astype(counts.dtype))
        return done + WORDS_PER_ROUND, counts

    start = (jnp.zeros((), jnp.int32), jnp.zeros_like(probabilities))
    return jax.lax.while_loop(lambda carry: carry[0] < total, draw_round, start)[1]
