"""Training state and the pure functions that advance it: one step, one epoch."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from mmdbm.params import Params
from mmdbm.training.estimators import EstimatorInfo, GradientEstimator

Array = jax.Array


class TrainingDivergedError(FloatingPointError):
    """Training produced non-finite parameters."""


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
    ) -> TrainState:
        """A fresh state: optimiser and chains initialised, step zero."""
        chain_key, rng_key = jax.random.split(rng_key)
        chains = estimator.init(chain_key, params, num_chains, lengths)
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


@partial(jax.jit, static_argnames=("estimator", "optimizer", "batch_size", "batch_sharding"))
def train_epoch(
    state: TrainState,
    data: Mapping[str, Array],
    *,
    estimator: GradientEstimator,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    batch_sharding: jax.sharding.Sharding | None = None,
) -> tuple[TrainState, EstimatorInfo, Array]:
    """One pass over device-resident ``data`` in shuffled minibatches, as one ``lax.scan``.

    The ``num_examples // batch_size`` minibatches are drawn from a fresh permutation; the
    remainder sits out this epoch and takes part in later ones. With ``batch_sharding``
    (``mmdbm.distributed.sharded(mesh)``) each minibatch is split over the devices.

    Returns:
      The new state, the info of every step (leading axis: steps) and whether the parameters
      were finite after each step.
    """
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
        return state, (info, all_finite(state.params))

    state, (infos, finite) = jax.lax.scan(
        one_step, state.replace(rng_key=rng_key), order.reshape(num_batches, batch_size)
    )
    return state, infos, finite
