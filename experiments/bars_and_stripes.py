"""An RBM learns the 4x4 bars-and-stripes patterns; its exact log-likelihood is tracked.

Bars and stripes (MacKay 2003, "Information Theory, Inference, and Learning Algorithms"): the 4x4
binary images whose rows are all equal or whose columns are all equal, 30 distinct patterns, so
the best possible average log-likelihood is ``-log 30 = -3.40`` nats.

Training is persistent contrastive divergence (Tieleman 2008): the negative log-likelihood
gradient of an RBM is ``E_data[dF(v)/dtheta] - E_model[dF(v)/dtheta]``, so ``jax.grad`` of
``mean F(data) - mean F(chains)`` through ``mm.free_energy``, with the persistent Gibbs chains of
``mm.gibbs`` standing in for the model, is an unbiased-in-the-limit estimate that Optax applies.
The model is small enough for ``mm.exact_log_prob`` to give the exact log-likelihood (it
enumerates 2^16 states), which is what this job prints.

Run: ``make demo`` (or ``python experiments/bars_and_stripes.py``).
"""

from __future__ import annotations

import argparse
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mmdbm as mm

SIZE = 4
MODEL = mm.rbm(mm.Bernoulli(SIZE * SIZE), 16)


def bars_and_stripes(size: int = SIZE) -> np.ndarray:
    """Every distinct bars-or-stripes image, flattened: ``[2^(size+1) - 2, size^2]``."""
    patterns = set()
    for code in range(2**size):
        line = (code >> np.arange(size)) & 1
        patterns.add(tuple(np.repeat(line, size)))  # each row constant: stripes
        patterns.add(tuple(np.tile(line, size)))  # each column constant: bars
    return np.array(sorted(patterns), np.float32)


def average_log_likelihood(params: mm.Params, data: np.ndarray) -> float:
    """Exact mean ``log p(v)`` over ``data``, by enumeration."""
    return float(jnp.mean(mm.exact_log_prob(MODEL, params, {"v": data})))


def pcd_loss(params: mm.Params, data: jax.Array, negatives: jax.Array) -> jax.Array:
    """``mean F(data) - mean F(negatives)``: its gradient is the PCD gradient estimate."""
    free_energy = jax.vmap(lambda v: mm.free_energy(MODEL, params, {"v": v}))
    return jnp.mean(free_energy(data)) - jnp.mean(free_energy(negatives))


@partial(jax.jit, static_argnames=("optimizer", "num_gibbs_steps"))
def train_step(rng_key, params, opt_state, chains, data, optimizer, num_gibbs_steps):
    """One PCD update: advance the persistent chains, then step the optimizer."""
    step = jax.vmap(mm.gibbs(MODEL).step, in_axes=(0, 0, None))

    def gibbs_step(chains, key):
        return step(jax.random.split(key, len(chains.layers["v"])), chains, params), None

    chains, _ = jax.lax.scan(gibbs_step, chains, jax.random.split(rng_key, num_gibbs_steps))
    grads = jax.grad(pcd_loss)(params, data, jax.lax.stop_gradient(chains.layers["v"]))
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, chains


def train(
    rng_key: jax.Array,
    data: np.ndarray,
    *,
    num_updates: int = 4000,
    num_chains: int = 100,
    learning_rate: float = 0.02,
    num_gibbs_steps: int = 5,
    report_every: int = 1000,
) -> tuple[mm.Params, list[tuple[int, float]]]:
    """Train the RBM by PCD; return the parameters and ``(update, exact log-likelihood)`` pairs."""
    init_key, chain_key, run_key = jax.random.split(rng_key, 3)
    params = MODEL.init(init_key, {"v": data})
    optimizer = optax.sgd(optax.linear_schedule(learning_rate, 0.0, num_updates), momentum=0.9)
    opt_state = optimizer.init(params)
    sampler = mm.gibbs(MODEL)
    chains = jax.vmap(sampler.init, in_axes=(0, None))(
        jax.random.split(chain_key, num_chains), params
    )
    history = [(0, average_log_likelihood(params, data))]
    for update, key in enumerate(jax.random.split(run_key, num_updates), start=1):
        params, opt_state, chains = train_step(
            key, params, opt_state, chains, data, optimizer, num_gibbs_steps
        )
        if update % report_every == 0 or update == num_updates:
            history.append((update, average_log_likelihood(params, data)))
            print(f"update {update:5d}: exact average log-likelihood {history[-1][1]:7.3f} nats")
    return params, history


def render(images: np.ndarray, size: int = SIZE) -> str:
    """Images side by side as text, one character per pixel."""
    rows = []
    for r in range(size):
        cells = [
            "".join("#" if p else "." for p in image.reshape(size, size)[r]) for image in images
        ]
        rows.append("  ".join(cells))
    return "\n".join(rows)


def main(num_updates: int = 4000, seed: int = 0) -> None:
    data = bars_and_stripes()
    print(f"{len(data)} bars-and-stripes patterns of {SIZE}x{SIZE} pixels:")
    print(render(data[:: max(1, len(data) // 10)]))
    print(f"\nTraining {MODEL} by PCD; best possible: {-math.log(len(data)):.3f} nats")
    params, history = train(jax.random.key(seed), data, num_updates=num_updates)
    print(f"\nexact average log-likelihood: {history[0][1]:.3f} -> {history[-1][1]:.3f} nats")

    samples = mm.sample(jax.random.key(seed + 1), MODEL, params, num_chains=2000, num_steps=500)
    images = np.asarray(samples["v"])
    valid = {tuple(p) for p in data}
    fraction = np.mean([tuple(image) in valid for image in images])
    print(
        f"\nSamples after 500 Gibbs steps from 2000 independent chains ({fraction:.0%} are valid):"
    )
    print(render(images[:10]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-updates", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.num_updates, args.seed)
