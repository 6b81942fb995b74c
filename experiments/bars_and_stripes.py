"""An RBM learns the 4x4 bars-and-stripes patterns; its exact log-likelihood is tracked.

Bars and stripes (MacKay 2003, "Information Theory, Inference, and Learning Algorithms"): the 4x4
binary images whose rows are all equal or whose columns are all equal, 30 distinct patterns, so
the best possible average log-likelihood is ``-log 30 = -3.40`` nats.

Training is ``mm.fit`` with its defaults: persistent contrastive divergence (Tieleman 2008)
with 100 persistent chains and 5 Gibbs steps per update, SGD with momentum 0.5 -> 0.9, weight
decay and a learning rate decayed to zero. The model is small enough for ``mm.exact_log_prob``
to give the exact log-likelihood (it enumerates 2^16 states), which is what this job prints.

Run: ``make demo`` (or ``python experiments/bars_and_stripes.py``).
"""

from __future__ import annotations

import argparse
import math

import jax
import jax.numpy as jnp
import numpy as np

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


def train(
    rng_key: jax.Array,
    data: np.ndarray,
    *,
    num_epochs: int = 1500,
    batch_size: int = 10,
    learning_rate: float = 0.02,
    progress: bool = True,
) -> tuple[mm.Params, tuple[float, float]]:
    """Train the RBM by PCD; return the parameters and the exact log-likelihood before and after."""
    init_key, fit_key = jax.random.split(rng_key)
    params = MODEL.init(init_key, {"v": data})
    before = average_log_likelihood(params, data)
    num_steps = num_epochs * (len(data) // batch_size)
    params, _ = mm.fit(
        fit_key,
        MODEL,
        {"v": data},
        params=params,
        optimizer=mm.default_optimizer(num_steps, learning_rate=learning_rate),
        num_epochs=num_epochs,
        batch_size=batch_size,
        progress=progress,
    )
    return params, (before, average_log_likelihood(params, data))


def render(images: np.ndarray, size: int = SIZE) -> str:
    """Images side by side as text, one character per pixel."""
    rows = []
    for r in range(size):
        cells = [
            "".join("#" if p else "." for p in image.reshape(size, size)[r]) for image in images
        ]
        rows.append("  ".join(cells))
    return "\n".join(rows)


def main(num_epochs: int = 1500, seed: int = 0) -> None:
    data = bars_and_stripes()
    print(f"{len(data)} bars-and-stripes patterns of {SIZE}x{SIZE} pixels:")
    print(render(data[:: max(1, len(data) // 10)]))
    print(f"\nTraining {MODEL} by PCD; best possible: {-math.log(len(data)):.3f} nats")
    params, (before, after) = train(jax.random.key(seed), data, num_epochs=num_epochs)
    print(f"\nexact average log-likelihood: {before:.3f} -> {after:.3f} nats")

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
    parser.add_argument("--num-epochs", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.num_epochs, args.seed)
