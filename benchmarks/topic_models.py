"""Topic-model benchmark: per-word perplexity of held-out Reuters documents under a unigram
model, LDA with 20 and 50 topics and the Replicated Softmax (50 hidden units) trained with
``mm.fit``'s defaults.

Every model scores the same test documents as log-probabilities of count vectors (with the
multinomial coefficient), turned into ``exp(-sum log p / sum of words)``. LDA (scikit-learn,
batch variational Bayes) scores each document with its topic proportions integrated out by the
left-to-right estimator (``experiments.baselines.lda_held_out_log_likelihood``); the Replicated
Softmax by forward and reverse AIS of every test-document length in one call (``mm.ais`` and
``mm.reverse_ais`` with ``lengths``): optimistic and conservative. Salakhutdinov & Hinton (2009)
report the Replicated Softmax below LDA-50 on Reuters. Run: ``python benchmarks/topic_models.py``
(``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import mmdbm as mm
from experiments import baselines

SIZES = {
    "tiny": {"documents": 40, "topics": (3,), "hidden": 8, "epochs": 2, "chains": 8, "betas": 50},
    "full": {
        "documents": None,
        "topics": (20, 50),
        "hidden": 50,
        "epochs": 50,
        "chains": 50,
        "betas": 1000,
    },
}
BATCH = 100
PARTICLES = 20


def unigram_log_likelihood(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Every word drawn from the training word frequencies, add-one smoothed."""
    frequencies = (train.sum(axis=0) + 1) / (train.sum() + train.shape[1])
    coefficients = jax.vmap(mm.ReplicatedSoftmax(train.shape[1]).log_base_measure)(test)
    return np.asarray(coefficients) + test @ np.log(frequencies)


def rsm_log_likelihoods(key, train: np.ndarray, test: np.ndarray, s: dict) -> dict:
    """The Replicated Softmax trained with ``mm.fit``'s defaults, scored by forward and reverse
    AIS of every test length; with each estimate's smallest effective sample size."""
    model = mm.rbm(mm.ReplicatedSoftmax(train.shape[1]), s["hidden"])
    params, _ = mm.fit(
        key, model, {"v": train}, num_epochs=s["epochs"], batch_size=BATCH, progress=False
    )
    lengths = test.sum(axis=1).astype(int)
    distinct = sorted(set(lengths.tolist()))
    settings = {"num_chains": s["chains"], "num_betas": s["betas"], "lengths": {"v": distinct}}
    starts = {"v": np.concatenate([train, test])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.AISWarning)  # the ESS is reported below instead
        estimates = {
            "forward": mm.ais(jax.random.fold_in(key, 1), model, params, **settings),
            "reverse": mm.reverse_ais(
                jax.random.fold_in(key, 2), model, params, starts, **settings
            ),
        }
    scores = {}
    for name, result in estimates.items():
        by_length = dict(zip(distinct, np.asarray(result.log_z).tolist(), strict=True))
        log_z = jnp.array([by_length[m] for m in lengths])
        scores[name] = np.asarray(mm.log_likelihood(model, params, {"v": test}, log_z))
        scores[f"{name} effective sample size"] = float(np.min(result.effective_sample_size))
    return scores


def main(size: str, output: Path) -> list[dict]:
    s = SIZES[size]
    reuters = mm.datasets.load("reuters")
    train, test = reuters["train"]["text"], reuters["test"]["text"][: s["documents"]]
    rows = [("unigram", unigram_log_likelihood(train, test), None)]
    for topics in s["topics"]:
        start = time.perf_counter()
        lda = baselines.lda(train, topics)
        log_p = baselines.lda_held_out_log_likelihood(lda, test, num_particles=PARTICLES)
        rows.append((f"LDA, {topics} topics", log_p, time.perf_counter() - start))
    start = time.perf_counter()
    rsm = rsm_log_likelihoods(jax.random.key(0), train, test, s)
    seconds = time.perf_counter() - start
    for name in ("forward", "reverse"):
        ess = rsm[f"{name} effective sample size"]
        rows.append((f"Replicated Softmax, {name} AIS (ESS >= {ess:.0f})", rsm[name], seconds))
    table = [
        {
            "model": name,
            "perplexity": float(mm.per_word_perplexity(log_p, test)),
            "seconds": seconds,
        }
        for name, log_p, seconds in rows
    ]
    print(f"Reuters: {len(train)} training, {len(test)} test documents")
    print("| model | per-word perplexity |\n|---|---|")
    for row in table:
        print(f"| {row['model']} | {row['perplexity']:.0f} |")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(table, indent=1))
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--output", type=Path, default=Path("results/topic_models.json"))
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
