"""Training state and the pure functions that advance it: one step, one epoch."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from mmdbm.compilation import StaticOptimizer
from mmdbm.params import Params
from mmdbm.training.estimators import EstimatorInfo, GradientEstimator

Array = jax.Array


# The divergence guard's bounds. A Boltzmann machine's weights act on unit states of order one
# (Gaussian units enter as v / sigma), so past WEIGHT_BOUND every unit is saturated and the
# gradient is noise; LOG_SIGMA_BOUND keeps a learned sigma within [2e-9, 5e8] of the data's scale.
WEIGHT_BOUND = 1e3
LOG_SIGMA_BOUND = 20.0


class TrainingDivergedError(FloatingPointError):
    """Training produced non-finite numbers or parameters past the guard's bounds."""


@struct.dataclass
class TrainState:
    """Everything that changes during training; a pytree, so it jits, scans and checkpoints.

    Attributes:
      params: the model parameters.
      opt_state: the Optax optimiser state.
      chains: the estimator's persistent chains (``None`` for CD).
      rng_key: the key the next step splits.
      step: number of updates made so far.
    """

    params: Params
    opt_state: optax.OptState
    chains: Any
    rng_key: Array
    step: Array

    @classmethod
    def create(
        cls,
        rng_key: Array,
        params: Params,
        optimizer: optax.GradientTransformation,
        estimator: GradientEstimator,
        *,
        num_chains: int = 100,
        lengths: Mapping[str, int] | None = None,
        data: Mapping[str, Array] | None = None,
    ) -> TrainState:
        """A fresh state: optimiser and chains initialised (at examples of ``data`` when
        given, see the estimator), step zero."""
        chain_key, rng_key = jax.random.split(rng_key)
        options = {} if data is None else {"data": data}
        chains = estimator.init(chain_key, params, num_chains, lengths, **options)
        return cls(params, optimizer.init(params), chains, rng_key, jnp.zeros((), jnp.int32))


def train_step(
    state: TrainState,
    batch: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: optax.GradientTransformation,
) -> tuple[TrainState, EstimatorInfo]:
    """One update: estimate the gradient on ``batch`` and apply the optimiser."""
    rng_key, step_key = jax.random.split(state.rng_key)
    grads, chains, info = estimator.estimate(step_key, state.params, state.chains, batch)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    return TrainState(params, opt_state, chains, rng_key, state.step + 1), info


def all_finite(tree: Any) -> Array:
    """Whether every leaf of ``tree`` is finite."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def _largest_magnitude(arrays: Mapping[str, Array]) -> Array:
    return jnp.max(jnp.stack([jnp.max(jnp.abs(a)) for a in arrays.values()] or [jnp.zeros(())]))


def is_sound(state: TrainState, info: EstimatorInfo) -> Array:
    """The divergence guard's test of one step: every number in the state and the step's
    reconstruction error finite, every weight within ``WEIGHT_BOUND`` and every log sigma
    within ``LOG_SIGMA_BOUND`` in magnitude."""
    return (
        all_finite((state.params, state.opt_state))
        & jnp.isfinite(info.reconstruction_error)
        & (_largest_magnitude(state.params.weights) <= WEIGHT_BOUND)
        & (_largest_magnitude(state.params.log_sigma) <= LOG_SIGMA_BOUND)
    )


def unsoundness(state: TrainState, infos: EstimatorInfo) -> str:
    """What ``is_sound`` finds wrong with the state and infos at the end of an epoch, in words."""
    problems = []
    for kind, arrays, bound in (
        ("weights", state.params.weights, WEIGHT_BOUND),
        ("log sigmas", state.params.log_sigma, LOG_SIGMA_BOUND),
        ("biases", state.params.biases, np.inf),
    ):
        for name, values in arrays.items():
            values = np.asarray(values)
            if not np.all(np.isfinite(values)):
                problems.append(f"the {kind} of '{name}' are not finite")
            elif np.max(np.abs(values), initial=0.0) > bound:
                problems.append(
                    f"the {kind} of '{name}' reach {np.max(np.abs(values)):.3g} (bound {bound:g})"
                )
    if not np.all(np.isfinite(np.asarray(infos.reconstruction_error))):
        problems.append("the reconstruction error is not finite")
    if not problems and not bool(all_finite(state.opt_state)):
        problems.append("the optimizer's state is not finite")
    return "; ".join(problems) or "the parameters left the guard's bounds during the epoch"


def train_epoch(
    state: TrainState,
    data: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    batch_sharding: jax.sharding.Sharding | None = None,
) -> tuple[TrainState, EstimatorInfo, Array]:
    """One pass over device-resident ``data`` in shuffled minibatches, as one compiled
    ``lax.scan``.

    The ``num_examples // batch_size`` minibatches are drawn from a fresh permutation; the
    remainder sits out this epoch and takes part in later ones. With ``batch_sharding``
    (``mmdbm.distributed.sharded(mesh)``) each minibatch is split over the devices. The program
    is compiled once for equal settings: estimators compare by their settings, optimizers by
    what they compute (``mmdbm.compilation.StaticOptimizer``), so a fresh ``optax.sgd(0.01)``
    reuses the program of the last one.

    Returns:
      The new state, the info of every step (leading axis: steps) and whether each step was
      sound (``is_sound``: finite, within the divergence guard's bounds).
    """
    return _train_epoch(
        state,
        data,
        estimator=estimator,
        optimizer=StaticOptimizer.of(optimizer, state.params),
        batch_size=batch_size,
        batch_sharding=batch_sharding,
    )


@partial(jax.jit, static_argnames=("estimator", "optimizer", "batch_size", "batch_sharding"))
def _train_epoch(
    state: TrainState,
    data: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: StaticOptimizer,
    batch_size: int,
    batch_sharding: jax.sharding.Sharding | None,
) -> tuple[TrainState, EstimatorInfo, Array]:
    num_examples = jax.tree.leaves(data)[0].shape[0]
    num_batches = num_examples // batch_size
    rng_key, permutation_key = jax.random.split(state.rng_key)
    order = jax.random.permutation(permutation_key, num_examples)[: num_batches * batch_size]

    def one_step(
        state: TrainState, indices: Array
    ) -> tuple[TrainState, tuple[EstimatorInfo, Array]]:
        batch = {name: values[indices] for name, values in data.items()}
        if batch_sharding is not None:
            batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        state, info = train_step(state, batch, estimator=estimator, optimizer=optimizer)
        return state, (info, is_sound(state, info))

    state, (infos, sound) = jax.lax.scan(
        one_step, state.replace(rng_key=rng_key), order.reshape(num_batches, batch_size)
    )
    return state, infos, sound


def train_epoch_many(
    states: TrainState,
    data: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    vectorize: bool | None = None,
) -> tuple[TrainState, EstimatorInfo, Array]:
    """``train_epoch`` of several models at once: ``states`` and ``data`` carry a leading
    model axis (one state and one dataset per model, as ``jnp.stack`` makes them), and the
    models train as one compiled program.

    With ``vectorize`` the models are vmapped, so each matrix product of one model becomes a
    batched product of all: that fills an accelerator. Without it they run one after another
    inside the program (``lax.map``), which on a CPU is as fast as a batched product of small
    matrices and no slower than separate calls. The default is ``vectorize`` on GPUs and TPUs
    and not on CPUs.

    Returns:
      As ``train_epoch``, each with the leading model axis.
    """
    vectorize = jax.default_backend() != "cpu" if vectorize is None else vectorize
    params = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype), states.params)
    return _train_epoch_many(
        states,
        data,
        estimator=estimator,
        optimizer=StaticOptimizer.of(optimizer, params),
        batch_size=batch_size,
        vectorize=vectorize,
    )


@partial(jax.jit, static_argnames=("estimator", "optimizer", "batch_size", "vectorize"))
def _train_epoch_many(
    states: TrainState,
    data: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: StaticOptimizer,
    batch_size: int,
    vectorize: bool,
) -> tuple[TrainState, EstimatorInfo, Array]:
    def one_model(state: TrainState, model_data: Mapping[str, Array]):
        return _train_epoch(
            state,
            model_data,
            estimator=estimator,
            optimizer=optimizer,
            batch_size=batch_size,
            batch_sharding=None,
        )

    if vectorize:
        return jax.vmap(one_model)(states, data)
    return jax.lax.map(lambda both: one_model(*both), (states, data))
