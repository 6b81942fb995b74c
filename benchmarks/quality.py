"""Quality benchmark: an RBM and a 2-layer DBM on binarized digits, scored by AIS log-likelihood.

Until the bundled MNIST digits exist, the data are scikit-learn's 1,797 handwritten digits
(8x8 pixels, 64 visible units), thresholded at half intensity and split 1,400 / 397. Each model
is trained (the DBM after greedy pretraining), its log Z is estimated by AIS with the +-3 sigma
interval, and the average test log-likelihood is printed: exact given log Z for the RBM, the
mean-field lower bound for the DBM. Figures depend on the machine only through time.

Run: ``python benchmarks/quality.py`` (``--help`` for sizes and lengths of training).
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits

import mmdbm as mm


def binarized_digits(num_train: int = 1400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test splits of scikit-learn's digits as binary vectors ``[n, 64]``."""
    images = (load_digits().data >= 8).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[:num_train]], images[order[num_train:]]


def evaluate(key, model, params, train, test, num_betas, base) -> dict:
    """AIS log Z and the average train and test log-likelihood (or bound)."""
    result = mm.ais(key, model, params, num_chains=100, num_betas=num_betas, base=base)
    scores = {
        split: float(jnp.mean(mm.log_likelihood(model, params, {"v": data}, result.log_z)))
        for split, data in (("train", train), ("test", test))
    }
    return {
        "log_z": float(result.log_z),
        "interval": (float(result.log_z_low), float(result.log_z_high)),
        **scores,
    }


def main(hidden: list[int], num_epochs: int, num_betas: int, learning_rate: float) -> None:
    train, test = binarized_digits()
    print(f"binarized digits: {len(train)} train, {len(test)} test, 64 pixels")
    print(f"machine: {platform.machine()} {platform.processor() or ''}, JAX on {jax.devices()}")
    data_bias = jnp.asarray(mm.Bernoulli(64).data_bias(train), jnp.float32)
    rows = []
    for name, model in (
        (f"RBM 64-{hidden[0]}", mm.rbm(mm.Bernoulli(64), hidden[0])),
        (f"DBM 64-{'-'.join(map(str, hidden))}", mm.dbm(mm.Bernoulli(64), hidden)),
    ):
        start = time.perf_counter()
        params = None
        if len(model.layers) > 2:
            params = mm.pretrain(
                jax.random.key(1),
                model,
                {"v": train},
                num_epochs=num_epochs,
                batch_size=100,
                learning_rate=0.05,
            )
        num_steps = num_epochs * (len(train) // 100)
        params, _ = mm.fit(
            jax.random.key(2),
            model,
            {"v": train},
            params=params,
            num_epochs=num_epochs,
            batch_size=100,
            optimizer=mm.default_optimizer(num_steps, learning_rate=learning_rate),
        )
        trained = time.perf_counter() - start
        model_base = params.replace(biases={**params.biases, "v": data_bias})
        scores = evaluate(jax.random.key(3), model, params, train, test, num_betas, model_base)
        rows.append((name, scores, trained, time.perf_counter() - start - trained))
    print(f"\nAIS: 100 chains x {num_betas} inverse temperatures, base-rate model from the data")
    print(
        f"{'model':<22}{'log Z':>10}{'+-3 sigma interval':>24}{'train':>10}{'test':>10}"
        f"{'train s':>9}{'AIS s':>8}"
    )
    for name, s, trained, ais_seconds in rows:
        low, high = s["interval"]
        print(
            f"{name:<22}{s['log_z']:>10.2f}{f'[{low:.2f}, {high:.2f}]':>24}{s['train']:>10.2f}"
            f"{s['test']:>10.2f}{trained:>9.1f}{ais_seconds:>8.1f}"
        )
    print("(nats per image; the DBM figures are mean-field lower bounds)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--num-epochs", type=int, default=30)
    parser.add_argument("--num-betas", type=int, default=10_000)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    args = parser.parse_args()
    main(args.hidden, args.num_epochs, args.num_betas, args.learning_rate)
