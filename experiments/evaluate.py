"""Evaluating a trained run: the numbers of its report.

A multimodal run is scored as in the paper (Srivastava & Salakhutdinov 2012, section 5):
classification from the joint representation with both modalities, with the query modality
alone (the others inferred), with the query modality in a DBM of its own (no inference) and
with the other modalities alone; raw-input baselines on the same rows; tag generation
(precision@5 of the inferred words); and retrieval MAP. Representations are mean-field
posteriors of the top layer, missing modalities inferred by mean-field together with the
hidden layers. A single-pathway run is scored by its AIS log-likelihood (per-word perplexity
for counts, beside LDA).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

import mmdbm as mm
from experiments import baselines, generate
from experiments.pipeline import Experiment

TOP_WORDS = 5
SPLITS = ("train", "test")


def scores_of(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy and MAP for class indices; MAP and precision@50 for multi-labels."""
    if labels.ndim == 1:
        onehot = np.eye(scores.shape[1], dtype=bool)[labels]
        return {
            "accuracy": mm.metrics.accuracy(scores.argmax(axis=1), labels),
            "map": mm.metrics.mean_average_precision(scores, onehot),
        }
    return {
        "map": mm.metrics.mean_average_precision(scores, labels),
        "precision_at_50": mm.metrics.precision_at_k(scores, labels, min(50, len(labels))),
    }


def representations(
    experiment: Experiment,
    params: mm.Params,
    modalities: tuple[str, ...],
    rows: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """``{split: top-layer features}`` of ``rows`` of the train and test splits given
    ``modalities`` alone."""
    return {
        split: np.asarray(
            mm.represent(
                experiment.model,
                params,
                experiment.inputs(split, modalities, rows[split]),
                num_steps=experiment.config.evaluate.num_inference_steps,
            )
        )
        for split in SPLITS
    }


def complete_rows(experiment: Experiment) -> tuple[dict, dict]:
    """``({split: rows with every modality}, {split: their labels})`` of train and test."""
    rows = {split: experiment.complete(split) for split in SPLITS}
    return rows, {split: experiment.splits[split]["labels"][rows[split]] for split in SPLITS}


def probed(features: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> dict[str, float]:
    """Test scores of a logistic regression fitted to the training features."""
    scores = mm.metrics.logistic_probe(features["train"], labels["train"], features["test"])
    return scores_of(scores, labels["test"])


def summary(experiment: Experiment, params: mm.Params) -> dict[str, float]:
    """The headline numbers of a run, for sweeps: classification from both modalities and
    from the query modality alone (multimodal), or the test log-likelihood (perplexity for
    counts)."""
    if not experiment.config.joint:
        results = density_results(
            jax.random.key(experiment.config.seed), experiment, params, progress=False
        )
        return {k: v for k, v in results.items() if k in ("test_log_likelihood", "perplexity")}
    rows, labels = complete_rows(experiment)
    numbers = {}
    for name, modalities in (
        ("both", experiment.modalities),
        ("query", (experiment.config.query,)),
    ):
        scores = probed(representations(experiment, params, modalities, rows), labels)
        numbers.update({f"{name}_{metric}": value for metric, value in scores.items()})
    return numbers


def multimodal_results(
    experiment: Experiment,
    params: mm.Params,
    query_experiment: Experiment,
    query_params: mm.Params,
    *,
    progress: bool = True,
) -> dict:
    """Everything the report of a multimodal run shows, on the complete test rows.

    Returns:
      ``{"classification": rows of {model, input, accuracy and map (or map and
      precision_at_50)}, "retrieval": rows of {query, map}, "tags": tag generation (when a
      count modality is inferred), "features": test features of the multimodal rows}``.
    """
    query = experiment.config.query
    others = tuple(m for m in experiment.modalities if m != query)
    rows, labels = complete_rows(experiment)
    inputs = {
        "both": " + ".join(experiment.modalities),
        "query": f"{query} only",
        "others": f"{' + '.join(others)} only",
    }
    runs = {
        "both": ("Multimodal DBM", inputs["both"], experiment, params, experiment.modalities),
        "query_inferred": (
            "Multimodal DBM",
            f"{inputs['query']}, {' + '.join(others)} inferred",
            experiment,
            params,
            (query,),
        ),
        "query_dbm": (
            f"{query.capitalize()} DBM",
            f"{inputs['query']}, no inference",
            query_experiment,
            query_params,
            query_experiment.modalities,
        ),
        "others_only": (
            "Multimodal DBM",
            f"{inputs['others']}, {query} inferred",
            experiment,
            params,
            others,
        ),
    }
    table, features = [], {}
    for name, (model, described, e, p, modalities) in tqdm(
        runs.items(), desc="evaluating", unit="representation", disable=not progress
    ):
        features[name] = representations(e, p, modalities, rows)
        table.append({"model": model, "input": described, **probed(features[name], labels)})
    table += baseline_rows(experiment, rows, labels, inputs)
    retrieval = [
        {
            "query": runs[name][1],
            "database": runs[database][1],
            "map": mm.metrics.retrieval_map(
                features[name]["test"], labels["test"], features[database]["train"], labels["train"]
            ),
        }
        for name, database in (
            ("both", "both"),
            ("query_inferred", "both"),
            ("query_dbm", "query_dbm"),
        )
    ]
    results = {
        "classification": table,
        "retrieval": retrieval,
        "features": {name: f["test"] for name, f in features.items()},
    }
    counts = [m for m in others if experiment.is_count(m)]
    if counts:
        results["tags"] = tag_generation(experiment, params, counts[0], rows)
    return results


def baseline_rows(
    experiment: Experiment, rows: dict, labels: dict, inputs: dict[str, str]
) -> list[dict]:
    """Logistic regression on each raw modality and on their concatenation, a linear SVM on
    the concatenation, and logistic regression on LDA topics of each count modality."""
    config = experiment.config
    everything = list(experiment.modalities)
    others = [m for m in everything if m != config.query]
    topics = config.evaluate.num_topics
    regression = baselines.logistic_regression
    svm = partial(baselines.linear_svm, seed=config.seed)
    runs = [
        ("Logistic regression", f"raw {inputs['query']}", [config.query], regression),
        ("Logistic regression", f"raw {inputs['others']}", others, regression),
        ("Logistic regression", f"raw {inputs['both']}", everything, regression),
        ("Linear SVM", f"raw {inputs['both']}", everything, svm),
        *[
            (
                f"LDA ({topics} topics)",
                f"{m} only",
                [m],
                partial(baselines.lda_topics, num_topics=topics, seed=config.seed),
            )
            for m in others
            if experiment.is_count(m)
        ],
    ]

    def raw(split: str, modalities: list[str]) -> np.ndarray:
        return np.concatenate([experiment.splits[split][m][rows[split]] for m in modalities], 1)

    return [
        {
            "model": model,
            "input": described,
            **scores_of(fit(raw("train", ms), labels["train"], raw("test", ms)), labels["test"]),
        }
        for model, described, ms, fit in runs
    ]


def tag_generation(experiment: Experiment, params: mm.Params, text: str, rows: dict) -> dict:
    """Words inferred from the query modality for the complete test rows, scored by
    precision@5 against their own words. Two references: the words most frequent in training
    (a floor), and, for class labels, the words most frequent among training rows of the test
    row's true class (a ceiling no model of the image alone can pass by much)."""
    inputs = experiment.inputs("test", (experiment.config.query,), rows["test"])
    probabilities, words = generate.words_for(experiment, params, inputs, k=TOP_WORDS)
    truth = experiment.splits["test"][text][rows["test"]] > 0
    present = experiment.splits["train"][text][rows["train"]] > 0
    results = {
        "modality": text,
        "precision_at_5": words_precision(probabilities, truth),
        "frequent_words_precision_at_5": words_precision(
            np.broadcast_to(present.mean(axis=0), truth.shape), truth
        ),
        "words": words,
    }
    train_labels = experiment.splits["train"]["labels"][rows["train"]]
    test_labels = experiment.splits["test"]["labels"][rows["test"]]
    if train_labels.ndim == 1:
        classes = np.eye(max(train_labels.max(), test_labels.max()) + 1)[train_labels]
        by_class = classes.T @ present / np.maximum(classes.sum(axis=0), 1)[:, None]
        results["class_words_precision_at_5"] = words_precision(by_class[test_labels], truth)
    return results


def words_precision(scores: np.ndarray, truth: np.ndarray, k: int = TOP_WORDS) -> float:
    """Mean over rows of the fraction of the ``k`` best-scored words that the row holds."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.take_along_axis(truth, top, axis=1)))


def density_results(
    key: jax.Array, experiment: Experiment, params: mm.Params, *, progress: bool = True
) -> dict:
    """``log Z`` by forward AIS and by reverse AIS from the training rows, and the average
    log-likelihood each gives (exact for an RBM, a lower bound for a DBM) of the train and
    test rows: forward optimistic, reverse conservative; for counts, per-word perplexity
    beside LDA's."""
    config, model = experiment.config, experiment.model
    (modality,) = experiment.modalities
    evaluate = config.evaluate
    if experiment.is_count(modality):
        return _perplexity_results(key, experiment, params, progress=progress)
    settings = {"num_chains": evaluate.num_ais_chains, "num_betas": evaluate.num_ais_betas}
    forward_key, reverse_key = jax.random.split(key)
    estimates = {
        "": mm.ais(forward_key, model, params, progress=progress, **settings),
        "reverse_": mm.reverse_ais(
            reverse_key, model, params, experiment.inputs("train"), progress=progress, **settings
        ),
    }
    results = {"exact": len(model.layers) == 2}
    for prefix, result in estimates.items():
        results |= {
            f"{prefix}log_z": float(result.log_z),
            f"{prefix}log_z_interval": [float(result.log_z_low), float(result.log_z_high)],
            f"{prefix}effective_sample_size": float(result.effective_sample_size),
        }
        for split in SPLITS:
            scores = mm.log_likelihood(model, params, experiment.inputs(split), result.log_z)
            results[f"{prefix}{split}_log_likelihood"] = float(jnp.mean(scores))
    return results


def document_log_likelihoods(
    key: jax.Array,
    model: mm.Model,
    params: mm.Params,
    documents: np.ndarray,
    starts: np.ndarray,
    *,
    num_chains: int,
    num_betas: int,
    progress: bool = False,
) -> dict:
    """Each document's log-likelihood under a Replicated Softmax RBM by forward AIS
    (optimistic; ``mm.ais_over_lengths``, the length as the inverse temperature) and by reverse
    AIS (``mm.reverse_ais``, conservative as far as the data are samples of the model), keyed
    ``""`` and ``"reverse_"``: every distinct length of ``documents`` in one call of each (Z
    depends on the length M), reverse AIS starting at the ``starts`` documents of each length
    (so they must hold every length); with each direction's smallest effective sample size
    (``{prefix}effective_sample_size``).
    """
    lengths = documents.sum(axis=1).astype(int)
    distinct = sorted(set(lengths.tolist()))
    settings = {"num_chains": num_chains, "num_betas": num_betas, "progress": progress}
    forward_key, reverse_key = jax.random.split(key)
    estimates = {
        "": mm.ais_over_lengths(forward_key, model, params, {"v": distinct}, **settings),
        "reverse_": mm.reverse_ais(
            reverse_key, model, params, {"v": starts}, lengths={"v": distinct}, **settings
        ),
    }
    results = {}
    for prefix, result in estimates.items():
        by_length = dict(zip(distinct, np.asarray(result.log_z).tolist(), strict=True))
        log_z = np.array([by_length[m] for m in lengths])
        results[prefix] = np.asarray(mm.log_likelihood(model, params, {"v": documents}, log_z))
        results[f"{prefix}effective_sample_size"] = float(np.min(result.effective_sample_size))
    return results


def _perplexity_results(
    key: jax.Array, experiment: Experiment, params: mm.Params, *, progress: bool
) -> dict:
    """Per-word perplexity of a Replicated Softmax model on ``evaluate.num_documents`` test
    documents, by forward and reverse AIS (``document_log_likelihoods``, reverse AIS starting
    at the training and evaluated documents), and LDA's on the same documents (held out: topic
    proportions integrated out by the left-to-right estimator,
    ``baselines.lda_held_out_log_likelihood``)."""
    config, model = experiment.config, experiment.model
    evaluate = config.evaluate
    documents = experiment.inputs("test")["v"][: evaluate.num_documents]
    scores = document_log_likelihoods(
        key,
        model,
        params,
        documents,
        np.concatenate([experiment.inputs("train")["v"], documents]),
        num_chains=evaluate.num_ais_chains,
        num_betas=evaluate.num_ais_betas,
        progress=progress,
    )
    topics = baselines.lda(experiment.inputs("train")["v"], evaluate.num_topics, seed=config.seed)
    lda_log_likelihoods = baselines.lda_held_out_log_likelihood(topics, documents, seed=config.seed)
    results = {
        "num_documents": len(documents),
        "lda_num_topics": evaluate.num_topics,
        "lda_perplexity": float(mm.per_word_perplexity(lda_log_likelihoods, documents)),
    }
    for prefix in ("", "reverse_"):
        perplexity = mm.per_word_perplexity(scores[prefix], documents)
        results[f"{prefix}perplexity"] = float(perplexity)
    return results
