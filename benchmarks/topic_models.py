"""Topic-model benchmark: per-word perplexity of held-out documents of two corpora (Reuters
corn/grain and the Lee news corpus) under a unigram model, LDA with 20 and 50 topics and the
Replicated Softmax (50 hidden units) trained by three recipes: ``mm.fit``'s defaults, the
paper's (CD-1 stepped up to CD-5 over training), and ``mm.fit`` with ``optax.adam(1e-3)``.

Two views, every model on the same documents. Held-out likelihood: each test document scored
as a log-probability of its count vector (with the multinomial coefficient), turned into
``exp(-sum log p / sum of words)``; LDA (scikit-learn, batch variational Bayes) with its topic
proportions integrated out by the left-to-right estimator
(``experiments.baselines.lda_held_out_log_likelihood``), the Replicated Softmax by forward and
reverse AIS of every test-document length in one call of each
(``experiments.evaluate.document_log_likelihoods``): optimistic and conservative. Document
completion (``experiments.document_completion``): each document's words split at random in
halves, the second half scored given the first. Salakhutdinov & Hinton (2009) report the Replicated
Softmax below LDA-50 on Reuters. Run: ``python benchmarks/topic_models.py`` (``--size tiny``
to check that it runs).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import optax

import mmdbm as mm
from experiments import baselines, document_completion, evaluate

SIZES = {
    "tiny": {
        "train_documents": 200,
        "test_documents": 12,
        "completion_documents": 4,
        "topics": (3,),
        "hidden": 8,
        "epochs": 5,
        "chains": 8,
        "betas": 50,
        "completion_betas": 20,
    },
    "full": {
        "train_documents": None,
        "test_documents": None,
        "completion_documents": 100,
        "topics": (20, 50),
        "hidden": 50,
        "epochs": 50,
        "chains": 50,
        "betas": 1000,
        "completion_betas": 300,
    },
}
CORPORA = ("reuters", "lee")
BATCH = 100
PARTICLES = 20
CD_STEPS = (1, 2, 3, 4, 5)


def unigram_log_likelihood(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Every word drawn from the training word frequencies, add-one smoothed."""
    frequencies = (train.sum(axis=0) + 1) / (train.sum() + train.shape[1])
    coefficients = jax.vmap(mm.ReplicatedSoftmax(train.shape[1]).log_base_measure)(test)
    return np.asarray(coefficients) + test @ np.log(frequencies)


def fit_defaults(key, model, train: np.ndarray, epochs: int) -> mm.Params:
    """``mm.fit`` with every default: centered PCD, momentum SGD."""
    params, _ = mm.fit(
        key, model, {"v": train}, num_epochs=epochs, batch_size=BATCH, progress=False
    )
    return params


def stepped_cd(key, model, train: np.ndarray, epochs: int) -> mm.Params:
    """The paper's recipe: contrastive divergence whose number of Gibbs steps rises from 1 to
    5 in equal stages of the epochs, ``mm.fit``'s default optimizer (started anew each
    stage)."""
    params = None
    for stage, steps in enumerate(CD_STEPS):
        params, _ = mm.fit(
            jax.random.fold_in(key, stage),
            model,
            {"v": train},
            params=params,
            num_epochs=max(1, epochs // len(CD_STEPS)),
            batch_size=BATCH,
            estimator=mm.cd(model, k=steps),
            progress=False,
        )
    return params


def fit_adam(key, model, train: np.ndarray, epochs: int) -> mm.Params:
    """``mm.fit`` with Adam at 1e-3 in place of the default optimizer."""
    params, _ = mm.fit(
        key,
        model,
        {"v": train},
        num_epochs=epochs,
        batch_size=BATCH,
        optimizer=optax.adam(1e-3),
        progress=False,
    )
    return params


RECIPES: dict[str, Callable] = {
    "mm.fit defaults": fit_defaults,
    "CD-1 stepped up to CD-5": stepped_cd,
    "optax.adam(1e-3)": fit_adam,
}


def corpus_rows(name: str, s: dict) -> dict:
    """Every model of the benchmark on one corpus: held-out and completion perplexities, and
    how many documents each view scored."""
    corpus = mm.datasets.load(name)
    train = corpus["train"]["text"][: s["train_documents"]]
    test = corpus["test"]["text"][: s["test_documents"]]
    test = test[test.sum(axis=1) >= 2]  # completion needs a word in each half
    observed, held_out = document_completion.split_words(test[: s["completion_documents"]])

    def perplexity(log_p, documents):
        return float(mm.per_word_perplexity(log_p, documents))

    rows = [
        {
            "model": "unigram",
            "perplexity": perplexity(unigram_log_likelihood(train, test), test),
            "completion": perplexity(unigram_log_likelihood(train, held_out), held_out),
        }
    ]
    for topics in s["topics"]:
        start = time.perf_counter()
        lda = baselines.lda(train, topics)
        log_p = baselines.lda_held_out_log_likelihood(lda, test, num_particles=PARTICLES)
        completion = document_completion.lda_completion_log_prob(
            lda, observed, held_out, num_particles=PARTICLES
        )
        rows.append(
            {
                "model": f"LDA, {topics} topics",
                "perplexity": perplexity(log_p, test),
                "completion": perplexity(completion, held_out),
                "seconds": time.perf_counter() - start,
            }
        )
    model = mm.rbm(mm.ReplicatedSoftmax(train.shape[1]), s["hidden"])
    for index, (recipe, train_with) in enumerate(RECIPES.items()):
        key = jax.random.key(index)
        start = time.perf_counter()
        params = train_with(key, model, train, s["epochs"])
        trained = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mm.AISWarning)  # the ESS is reported instead
            scores = evaluate.document_log_likelihoods(
                jax.random.fold_in(key, 1),
                model,
                params,
                test,
                np.concatenate([train, test]),
                num_chains=s["chains"],
                num_betas=s["betas"],
            )
        completion = document_completion.rsm_completion_log_prob(
            jax.random.fold_in(key, 3),
            model,
            params,
            observed,
            held_out,
            num_chains=s["chains"],
            num_betas=s["completion_betas"],
        )
        rows.append(
            {
                "model": f"Replicated Softmax, {recipe}",
                "perplexity": perplexity(scores[""], test),
                "perplexity_reverse": perplexity(scores["reverse_"], test),
                "completion": perplexity(completion[""], held_out),
                "completion_reverse": perplexity(completion["reverse_"], held_out),
                **{
                    f"{view}{prefix}effective_sample_size": result[f"{prefix}effective_sample_size"]
                    for view, result in (("", scores), ("completion_", completion))
                    for prefix in ("", "reverse_")
                },
                "train_seconds": trained,
                "seconds": time.perf_counter() - start,
            }
        )
        print(f"  {name}: {rows[-1]['model']}: {rows[-1]['perplexity']:.0f}", flush=True)
    return {"training": len(train), "test": len(test), "completion": len(held_out), "rows": rows}


def print_table(name: str, corpus: dict) -> None:
    def pair(row, key):
        reverse = row.get(f"{key}_reverse")
        return f"{row[key]:.0f}" + ("" if reverse is None else f" / {reverse:.0f}")

    print(
        f"\n{name}, {corpus['training']} training documents: per-word perplexity of "
        f"{corpus['test']} test documents, and of the second halves of {corpus['completion']} "
        "given their first (forward / reverse AIS for the Replicated Softmax)"
    )
    print("| model | held-out documents | document completion |\n|---|---|---|")
    for row in corpus["rows"]:
        print(f"| {row['model']} | {pair(row, 'perplexity')} | {pair(row, 'completion')} |")


def main(size: str, output: Path) -> dict:
    s = SIZES[size]
    results = {}
    for name in CORPORA:
        print(name, flush=True)
        results[name] = corpus_rows(name, s)
    for name, corpus in results.items():
        print_table(name, corpus)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--output", type=Path, default=Path("runs/topic_models.json"))
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
