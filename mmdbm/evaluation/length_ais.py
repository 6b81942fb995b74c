"""AIS of a Replicated Softmax RBM at every document length in one run, the length as the
inverse temperature.

Summing the words out of a Replicated Softmax RBM (words ``v``, ``sum_k v_k = M``; Bernoulli
hidden units ``h`` whose bias ``a`` is scaled by M) leaves, by the multinomial theorem,

    p_M(h) ∝ exp(M f(h)),   f(h) = a.h + logsumexp_k(b_k + W_k h),

so ``Z_M = sum_h exp(M f(h))``: every length tempers the same function ``f``. One annealing
run along ``p_t(h) ∝ exp(t f(h))``, ``t`` from 0 (uniform hidden units, ``Z_0 = 2^H``) up to
the longest length, passes every length on the way: the log-weight a chain has gathered when
``t`` reaches ``M``, ``sum_{t_k <= M} (t_k - t_{k-1}) f(h_{k-1})``, is its AIS log-weight of
``Z_M / Z_0`` along the geometric path from the uniform base to ``p_M`` (inverse temperatures
``t_k / M``). Its transitions are sweeps of single-unit Gibbs updates under ``p_t``, exact for
any real ``t``: no words are drawn, so a chain costs the same at every length, and more
lengths cost only the points of the schedule they add.

The path also mixes where the annealing of the weights (``mm.ais``) can fail: as M grows,
``p_M`` gathers on the hidden states of largest ``f``, and chains that move with sampled words
can stay near the data and miss them. On a Replicated Softmax RBM 2000-50 trained on Reuters,
``mm.ais`` with 100 chains x 10,000 inverse temperatures put ``log Z`` of 497-word documents at
435.3 and 435.2 (two keys, effective sample sizes 82 and 84), below the single term
``497 f(h) = 449.4`` of a hidden state found by ascent (every term of the sum is a lower bound
on ``log Z``); this path gives 449.5 and 449.7 (``benchmarks/length_ais.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from mmdbm import distributed
from mmdbm.evaluation.ais import AISResult, finished, length_table, progress_pieces, summarise
from mmdbm.graph import Model
from mmdbm.params import Params, edge_key
from mmdbm.units import Bernoulli, ReplicatedSoftmax
from mmdbm.validation import check_count, check_params

Array = jax.Array


def _check_replicated_softmax_rbm(model: Model) -> tuple[str, str]:
    """The count layer and the hidden layer of a Replicated Softmax RBM, or a ``ValueError``."""
    counts = [name for name, unit in model.layers.items() if isinstance(unit, ReplicatedSoftmax)]
    others = [name for name in model.layers if name not in counts]
    if (
        len(model.layers) != 2
        or len(counts) != 1
        or not isinstance(model.layers[others[0]], Bernoulli)
    ):
        raise ValueError(
            "ais_over_lengths: needs a Replicated Softmax RBM (one Replicated Softmax layer and "
            f"one Bernoulli layer); got layers {dict(model.layers)}"
        )
    return counts[0], others[0]


def temperatures(lengths: Sequence[float], num_betas: int) -> np.ndarray:
    """The path's points ``t``: ``num_betas`` of them from 0 to the longest length, spaced as
    ``exp(u log(1 + M_max)) - 1`` for ``u`` even on [0, 1] (about ``(t + 1) log(1 + M_max) /
    num_betas`` apart), joined with the ``lengths`` themselves. A length M gets a share
    ``log(1 + M) / log(1 + M_max)`` of the points."""
    num_betas = check_count("num_betas", num_betas, minimum=3)
    longest = float(np.max(lengths))
    points = np.expm1(np.linspace(0.0, np.log1p(longest), num_betas))
    points[-1] = longest
    return np.union1d(points, np.asarray(lengths, np.float64))


def word_logits(params: Params, words: str, hidden: str, h: Array) -> Array:
    """``b + W h``: the words' logits given the hidden units."""
    return params.biases[words] + h @ params.weights[edge_key(words, hidden)].T


def per_word_log_marginal(hidden_bias: Array, h: Array, logits: Array) -> Array:
    """``f(h) = a.h + logsumexp_k(b_k + W_k h)`` (``logits = b + W h``): ``log p*_M(h) / M``
    of the hidden units with the words summed out, the same for every length M."""
    return h @ hidden_bias + jax.nn.logsumexp(logits)


class Columns(NamedTuple):
    """Each hidden unit's weights as factors of the words' softmax: ``up[j] = exp(W_j - c_j)``
    and ``down[j] = exp(-W_j - d_j)`` (shifted by ``c_j = max W_j``, ``d_j = max -W_j``, so
    nothing overflows), with ``c_j`` and the unit's bias ``a_j``."""

    up: Array
    down: Array
    up_shift: Array
    bias: Array

    @classmethod
    def of(cls, params: Params, words: str, hidden: str) -> Columns:
        weights = params.weights[edge_key(words, hidden)]
        up_shift, down_shift = jnp.max(weights, axis=0), jnp.max(-weights, axis=0)
        return cls(
            up=jnp.exp(weights.T - up_shift[:, None]),
            down=jnp.exp(-weights.T - down_shift[:, None]),
            up_shift=up_shift,
            bias=params.biases[hidden],
        )


def gibbs_sweep(rng_key: Array, columns: Columns, t: Array, h: Array, logits: Array) -> Array:
    """One sweep of single-unit Gibbs updates of ``h`` under ``p_t(h) ∝ exp(t f(h))``:

        p_t(h_j = 1 | h_-j) = sigmoid(t (a_j + logsumexp(l + W_j) - logsumexp(l))),

    ``l = b + W h`` with ``h_j = 0``. The words' softmax, from the ``logits`` of ``h``, is
    carried from unit to unit and moved by the ``columns``' factors."""
    uniforms = jax.random.uniform(rng_key, h.shape)

    def update(probabilities, inputs):
        was_on, up, down, up_shift, bias, uniform = inputs
        off = jnp.where(was_on > 0, probabilities * down, probabilities)
        on = off * up
        off_sum, on_sum = jnp.sum(off), jnp.sum(on)
        logit = t * (bias + up_shift + jnp.log(on_sum) - jnp.log(off_sum))
        now_on = uniform < jax.nn.sigmoid(logit)
        return jnp.where(now_on, on / on_sum, off / off_sum), now_on.astype(h.dtype)

    _, h = jax.lax.scan(update, jax.nn.softmax(logits), (h, *columns, uniforms))
    return h


@partial(jax.jit, static_argnames=("words", "hidden"))
def _anneal(
    params: Params,
    words: str,
    hidden: str,
    points: Array,
    slots: Array,
    keys: Array,
    h: Array,
    log_weights: Array,
    recorded: Array,
) -> tuple[Array, Array, Array]:
    """The chains from ``points[0]`` through ``points[1:]``: each adds ``(t_k - t_{k-1}) f(h)``
    to its log-weight, the log-weights are written to row ``slots[k]`` of ``recorded`` (the
    last row when ``t_k`` is not an evaluated length), then every chain makes a sweep at
    ``t_k``."""
    num_chains = h.shape[0]
    columns = Columns.of(params, words, hidden)

    def one_chain(key, t, h):
        """A chain's ``f(h)`` and its sweep at ``t``, from one product for the logits."""
        logits = word_logits(params, words, hidden, h)
        return per_word_log_marginal(columns.bias, h, logits), gibbs_sweep(
            key, columns, t, h, logits
        )

    def step(carry, inputs):
        h, log_w, recorded = carry
        before, now, slot, key = inputs
        f, h_next = jax.vmap(one_chain, (0, None, 0))(jax.random.split(key, num_chains), now, h)
        log_w = log_w + (now - before) * f
        recorded = recorded.at[slot].set(log_w)
        return (h_next, log_w, recorded), None

    (h, log_weights, recorded), _ = jax.lax.scan(
        step, (h, log_weights, recorded), (points[:-1], points[1:], slots, keys)
    )
    return h, log_weights, recorded


def ais_over_lengths(
    rng_key: Array,
    model: Model,
    params: Params,
    lengths: Mapping[str, int | Sequence[int]],
    *,
    num_chains: int = 100,
    num_betas: int = 10_000,
    progress: bool = False,
    mesh: Mesh | None = None,
) -> AISResult:
    """``log Z`` of a Replicated Softmax RBM at every document length in one AIS run, the
    length as the inverse temperature of the hidden units' marginal (see the module doc).

    Args:
      rng_key: a JAX PRNG key.
      model: a Replicated Softmax RBM (``mm.rbm(mm.ReplicatedSoftmax(V), H)``).
      params: its parameters.
      lengths: ``{count layer: M or [M, ...]}``, the document lengths to evaluate.
      num_chains: independent AIS runs (at least 2), shared by every length.
      num_betas: points of the path from 0 to the longest length (``temperatures``; the
        lengths are added to them).
      progress: show a progress bar (the path then runs in pieces; the result is the same).
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``) to split the chains over;
        ``num_chains`` must be a multiple of its size.

    Returns:
      An ``AISResult`` (with a leading axis over the entries of list-valued ``lengths``), a
      stochastic lower bound on each ``log Z_M``; an ``AISWarning`` says when an effective
      sample size is too small for its interval to mean anything.
    """
    words, hidden = _check_replicated_softmax_rbm(model)
    check_params(model, params)
    num_chains = check_count("num_chains", num_chains, minimum=2)
    table, batched = length_table(model, params, lengths)
    distinct, position = np.unique(table[words].astype(np.float64), return_inverse=True)
    points = temperatures(distinct, num_betas)
    slots = np.full(len(points) - 1, len(distinct))
    slots[np.searchsorted(points, distinct) - 1] = np.arange(len(distinct))
    num_hidden = model.layers[hidden].n
    start_key, run_key = jax.random.split(rng_key)
    h = jax.random.bernoulli(start_key, 0.5, (num_chains, num_hidden)).astype(jnp.float32)
    log_w = jnp.zeros(num_chains)
    recorded = jnp.zeros((len(distinct) + 1, num_chains))
    if mesh is not None:
        distributed.check_divisible("num_chains", num_chains, mesh)
        h, log_w = jax.device_put((h, log_w), distributed.sharded(mesh))
        recorded = jax.device_put(
            recorded, NamedSharding(mesh, PartitionSpec(None, distributed.DATA_AXIS))
        )
    steps = len(points) - 1
    keys = jax.random.split(run_key, steps)
    bounds = progress_pieces(steps, progress)
    points_on_device = jnp.asarray(points, jnp.float32)
    with tqdm(total=steps, desc="AIS over lengths", unit="t", disable=not progress) as bar:
        for first, last in itertools.pairwise(bounds):
            h, log_w, recorded = _anneal(
                params,
                words,
                hidden,
                points_on_device[first : last + 1],
                jnp.asarray(slots[first:last]),
                keys[first:last],
                h,
                log_w,
                recorded,
            )
            bar.update(last - first)
    log_z_base = jnp.full(len(position), num_hidden * np.log(2.0), jnp.float32)
    return finished(recorded[position], log_z_base, summarise, batched, len(points))
