"""Replicated Softmax AIS at long document lengths: the annealing of the weights
(``mm.ais``) against the length as the inverse temperature (``mm.ais_over_lengths``), held to
a bound that no honest estimate can fall below.

The words summed out, a Replicated Softmax RBM gives its hidden units the unnormalised
marginal ``exp(M f(h))``, ``f(h) = a.h + logsumexp(b + W h)``, so every hidden state's term is
a deterministic lower bound, ``log Z_M >= M f(h)``. The benchmark trains the Replicated Softmax
of the topic benchmark (Reuters, 2000 words, 50 hidden units) with its best recipe
(``optax.adam(1e-3)``), finds a hidden state of high ``f`` by steepest single-unit ascent from
random starts, and estimates ``log Z`` at lengths spread over the Reuters test split with both
estimators, twice each (different keys), with their effective sample sizes; and times
``mm.ais_over_lengths`` over every distinct length of the test split in one call.
Run: ``python benchmarks/length_ais.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import jax
import numpy as np
import optax
from scipy.special import logsumexp

import mmdbm as mm

SIZES = {
    "tiny": {"documents": 200, "hidden": 8, "epochs": 2, "chains": 10, "betas": 50, "starts": 5},
    "full": {
        "documents": None,
        "hidden": 50,
        "epochs": 30,
        "chains": 100,
        "betas": 10_000,
        "starts": 200,
    },
}
QUANTILES = (0.0, 0.5, 0.9, 0.99, 1.0)
KEYS = (11, 12)


def highest_f(params: mm.Params, starts: int, seed: int = 0) -> float:
    """The largest ``f(h)`` found by steepest single-unit ascent from ``starts`` uniform random
    hidden states (float64): a lower bound on ``max_h f(h)``."""
    weights = np.asarray(params.weights["v->h"], np.float64)
    word_bias = np.asarray(params.biases["v"], np.float64)
    hidden_bias = np.asarray(params.biases["h"], np.float64)
    rng = np.random.default_rng(seed)
    best = -np.inf
    for _ in range(starts):
        h = (rng.random(weights.shape[1]) < 0.5).astype(np.float64)
        while True:
            logits = word_bias + weights @ h
            value = h @ hidden_bias + logsumexp(logits)
            signs = 1 - 2 * h  # +1 switches a unit on, -1 off
            flipped = h @ hidden_bias + hidden_bias * signs
            flipped = flipped + logsumexp(logits[:, None] + weights * signs, axis=0)
            j = int(np.argmax(flipped))
            if flipped[j] <= value + 1e-12:
                break
            h[j] = 1 - h[j]
        best = max(best, value)
    return float(best)


def trained_rsm(documents: np.ndarray, hidden: int, epochs: int) -> tuple[mm.Model, mm.Params]:
    """A Replicated Softmax RBM of ``documents`` trained by ``mm.fit`` with Adam at 1e-3."""
    model = mm.rbm(mm.ReplicatedSoftmax(documents.shape[1]), hidden)
    params, _ = mm.fit(
        jax.random.key(0),
        model,
        {"v": documents},
        num_epochs=epochs,
        batch_size=100,
        optimizer=optax.adam(1e-3),
        progress=False,
    )
    return model, params


def main(size: str, output: Path | None) -> dict:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    reuters = mm.datasets.load("reuters")
    train = reuters["train"]["text"][: s["documents"]]
    test_lengths = reuters["test"]["text"].sum(axis=1).astype(int)
    every = sorted(set(test_lengths.tolist()))
    chosen = sorted({int(np.quantile(test_lengths, q, method="nearest")) for q in QUANTILES})
    model, params = trained_rsm(train, s["hidden"], s["epochs"])
    f_star = highest_f(params, s["starts"])
    settings = {"num_chains": s["chains"], "num_betas": s["betas"]}
    estimates = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.AISWarning)  # the ESS is reported instead
        for key in KEYS:
            estimates[("weights", key)] = mm.ais(
                jax.random.key(key), model, params, lengths={"v": chosen}, **settings
            )
            estimates[("length", key)] = mm.ais_over_lengths(
                jax.random.key(key), model, params, {"v": chosen}, **settings
            )
        start = time.perf_counter()
        whole = mm.ais_over_lengths(jax.random.key(1), model, params, {"v": every}, **settings)
        whole.log_z.block_until_ready()
        whole_seconds = time.perf_counter() - start
    rows = []
    for index, length in enumerate(chosen):
        row = {"length": length, "bound": length * f_star}
        for (name, key), result in estimates.items():
            row[f"{name} {key}"] = float(result.log_z[index])
            row[f"{name} {key} ess"] = float(result.effective_sample_size[index])
        rows.append(row)
    results = {
        "settings": s,
        "rows": rows,
        "whole_split": {"lengths": len(every), "seconds": whole_seconds},
    }
    print_table(results)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2))
        print(f"written: {output}")
    return results


def print_table(results: dict) -> None:
    s = results["settings"]
    print(
        f"\nlog Z of a Replicated Softmax 2000-{s['hidden']} at lengths M of the Reuters test "
        f"split, {s['chains']} chains x {s['betas']:,} inverse temperatures, two keys each "
        "(effective sample size); bound: M f(h) of the best hidden state found"
    )
    print("\n| M | bound | mm.ais (weights) | mm.ais_over_lengths (length) |")
    print("|---|---|---|---|")
    for row in results["rows"]:
        cells = [
            ", ".join(
                f"{row[f'{name} {key}']:.1f} ({row[f'{name} {key} ess']:.0f})" for key in KEYS
            )
            for name in ("weights", "length")
        ]
        print(f"| {row['length']} | {row['bound']:.1f} | {cells[0]} | {cells[1]} |")
    whole = results["whole_split"]
    print(
        f"\nmm.ais_over_lengths, the whole test split ({whole['lengths']} lengths) in one call: "
        f"{whole['seconds']:.1f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    main(args.size, args.output or Path("runs") / f"length-ais-{args.size}.json")
