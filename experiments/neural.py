"""What the neural baselines share: MLP encoders in Flax, their inputs, and an Optax loop.

A count modality enters a network as ``log(1 + counts)``; a real one as it is (standardised by
the experiment's preprocessing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

Array = jax.Array


class MLP(nn.Module):
    """Dense layers of ``widths``, ReLU between them, the last one linear."""

    widths: Sequence[int]

    @nn.compact
    def __call__(self, x: Array) -> Array:
        for i, width in enumerate(self.widths):
            x = nn.Dense(width)(x)
            if i < len(self.widths) - 1:
                x = nn.relu(x)
        return x


def network_input(values: np.ndarray | Array, is_count: bool) -> Array:
    """A modality as a network sees it: ``log(1 + counts)`` for counts, else the values."""
    values = jnp.asarray(values, jnp.float32)
    return jnp.log1p(values) if is_count else values


def fit(
    rng_key: Array,
    params: object,
    loss: Callable[[object, dict[str, Array], Array], Array],
    data: dict[str, np.ndarray],
    *,
    num_epochs: int,
    batch_size: int,
    learning_rate: float,
    description: str,
    progress: bool = True,
) -> object:
    """Minimise ``loss(params, batch, key)`` with Adam over shuffled minibatches of ``data``
    (the remainder of each epoch's permutation sits out); every epoch is one ``lax.scan``.
    A non-finite loss raises ``FloatingPointError``."""
    optimizer = optax.adam(learning_rate)
    data = {name: jnp.asarray(values) for name, values in data.items()}
    num_batches = len(next(iter(data.values()))) // batch_size
    if num_batches == 0:
        raise ValueError(f"{description}: batch_size={batch_size} is larger than the data")

    @jax.jit
    def epoch(params, opt_state, key):
        order_key, step_key = jax.random.split(key)
        order = jax.random.permutation(order_key, num_batches * batch_size)
        order = order.reshape(num_batches, batch_size)

        def step(carry, inputs):
            params, opt_state = carry
            indices, key = inputs
            batch = {name: values[indices] for name, values in data.items()}
            value, grads = jax.value_and_grad(loss)(params, batch, key)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        keys = jax.random.split(step_key, num_batches)
        (params, opt_state), values = jax.lax.scan(step, (params, opt_state), (order, keys))
        return params, opt_state, jnp.mean(values)

    opt_state = optimizer.init(params)
    bar = tqdm(total=num_epochs, desc=description, unit="epoch", disable=not progress)
    for key in jax.random.split(rng_key, num_epochs):
        # Adam's bias correction mixes an integer count with floats, which JAX's strict
        # promotion (a setting users and the tests may choose) refuses.
        with jax.numpy_dtype_promotion("standard"):
            params, opt_state, value = epoch(params, opt_state, key)
        if not np.isfinite(float(value)):
            raise FloatingPointError(f"{description}: the loss became {float(value)}")
        bar.set_postfix(loss=f"{float(value):.4f}")
        bar.update()
    bar.close()
    return params
