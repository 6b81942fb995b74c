"""The paper's comparison table: the multimodal DBM against every baseline, over seeds.

For each seed, on that seed's splits: the multimodal DBM and the DBM of the query modality
(``pipeline.train``), the multimodal DBN (``mmdbm.dbn``), the multimodal autoencoder, the
contrastive dual encoder and the raw-input baselines of the report (logistic regression, a
linear SVM, LDA topics). Every representation is scored the same way, by a logistic
regression fitted to the training rows' features (accuracy and MAP; MAP and precision@50
for multi-label data), for both modalities and for queries of the query modality alone; the
dual encoder also scores classes zero-shot where the dataset names words for its classes.
The table gives each row's mean +- standard deviation over the seeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jax
import ml_collections
import numpy as np

from experiments import autoencoder, contrastive, evaluate, generate, pipeline
from experiments.config import check_config
from experiments.figures import classification_chart
from experiments.sweep import expand
from mmdbm import dbn
from mmdbm.workdir_lock import owned

COMPARE_TABLE, COMPARE_RESULTS, COMPARE_FIGURE = "compare.md", "compare.json", "compare.png"
METRICS = ("accuracy", "map", "precision_at_50")


def baseline_rows(experiment: pipeline.Experiment, *, progress: bool) -> list[dict]:
    """The multimodal DBN, autoencoder and dual encoder rows of one seed's table."""
    config = experiment.config
    query = config.query
    others = " + ".join(m for m in experiment.modalities if m != query)
    both = " + ".join(experiment.modalities)
    rows, labels = evaluate.complete_rows(experiment)
    train = experiment.inputs("train")
    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), 2), 4)

    def probed(represent: Callable[[dict], np.ndarray], modalities: tuple[str, ...]) -> dict:
        features = {
            split: np.asarray(represent(experiment.inputs(split, modalities, rows[split])))
            for split in evaluate.SPLITS
        }
        return evaluate.probed(features, labels)

    net = dbn.train_dbn(
        keys[0],
        experiment.model,
        train,
        num_epochs=config.pretrain.num_epochs,
        batch_size=config.pretrain.batch_size,
        learning_rate=pipeline.pretraining_rates(experiment),
        progress=progress,
    )
    steps = config.evaluate.num_inference_steps
    represent_dbn = lambda x: dbn.represent(keys[1], net, x, num_steps=steps)
    encoder = autoencoder.train(keys[2], experiment, train, progress=progress)
    dual = contrastive.train(keys[3], experiment, train, progress=progress)
    table = [
        {"model": "Multimodal DBN", "input": both, **probed(represent_dbn, experiment.modalities)},
        {
            "model": "Multimodal DBN",
            "input": f"{query} only, {others} inferred",
            **probed(represent_dbn, (query,)),
        },
        {
            "model": "Multimodal autoencoder",
            "input": both,
            **probed(lambda x: autoencoder.represent(encoder, x), experiment.modalities),
        },
        {
            "model": "Multimodal autoencoder",
            "input": f"{query} only, {others} zeroed",
            **probed(lambda x: autoencoder.represent(encoder, x), (query,)),
        },
        {
            "model": "Dual encoder (contrastive)",
            "input": both,
            **probed(lambda x: contrastive.represent(dual, x), experiment.modalities),
        },
        {
            "model": "Dual encoder (contrastive)",
            "input": f"{query} only",
            **probed(lambda x: contrastive.represent(dual, x), (query,)),
        },
    ]
    counts = [m for m in experiment.modalities if experiment.is_count(m) and m != query]
    if experiment.class_words and counts:
        documents = np.concatenate(
            [generate.document(experiment, w) for w in experiment.class_words]
        )
        test = experiment.inputs("test", (query,), rows["test"])[query]
        scores = contrastive.zero_shot_scores(dual, query, test, counts[0], documents)
        table.append(
            {
                "model": "Dual encoder, zero-shot",
                "input": f"{query} only, against the class words",
                **evaluate.scores_of(scores, labels["test"]),
            }
        )
    return table


def seed_table(config: ml_collections.ConfigDict, workdir: Path, *, progress: bool) -> list[dict]:
    """Every row of the table for ``config``'s seed; the DBMs' runs go to ``workdir``."""
    params = pipeline.train(config, workdir, progress=progress)
    experiment = pipeline.prepare(config)
    _, query_experiment, query_params = pipeline.restore(workdir / pipeline.QUERY_DIR)
    results = evaluate.multimodal_results(
        experiment, params, query_experiment, query_params, progress=progress
    )
    return results["classification"] + baseline_rows(experiment, progress=progress)


def summarise(tables: list[list[dict]]) -> list[dict]:
    """One row per (model, input) of the seeds' tables: each metric's mean and ``_std``."""
    summary = []
    for first in tables[0]:
        same = [
            next(r for r in table if (r["model"], r["input"]) == (first["model"], first["input"]))
            for table in tables
        ]
        row = {"model": first["model"], "input": first["input"]}
        for metric in METRICS:
            if metric in first:
                values = np.array([r[metric] for r in same])
                row[metric], row[f"{metric}_std"] = float(values.mean()), float(values.std())
        summary.append(row)
    return summary


def markdown(summary: list[dict], num_seeds: int) -> str:
    """The summary as a markdown table of mean +- std."""
    metrics = [m for m in METRICS if m in summary[0]]
    lines = [
        "| model | input | " + " | ".join(m.replace("_", " ") for m in metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for row in summary:
        cells = [f"{row[m]:.3f} +- {row[f'{m}_std']:.3f}" for m in metrics]
        lines.append(f"| {row['model']} | {row['input']} | " + " | ".join(cells) + " |")
    lines.append(f"\nMean +- standard deviation over {num_seeds} seeds; test split.")
    return "\n".join(lines)


def run_compare(
    config: ml_collections.ConfigDict,
    seeds: list[int],
    workdir: str | Path,
    *,
    progress: bool = True,
) -> str:
    """Train and score everything for each seed; write ``compare.md``, ``compare.json``
    (every seed's rows and the summary) and ``compare.png`` to ``workdir``; return the
    markdown."""
    if not config.joint:
        raise ValueError("compare needs a multimodal config (joint > 0)")
    if not seeds:
        raise ValueError("compare needs at least one seed")
    workdir = Path(workdir)
    check_config(config)
    with owned(workdir):
        if (workdir / COMPARE_RESULTS).exists():
            raise ValueError(f"{workdir} already holds a comparison; choose another workdir")
        return _compared(config, seeds, workdir, progress=progress)


def _compared(
    config: ml_collections.ConfigDict, seeds: list[int], workdir: Path, *, progress: bool
) -> str:
    tables = [
        seed_table(run, workdir / f"seed-{run.seed}", progress=progress)
        for _, run in expand(config, seeds, {})
    ]
    summary = summarise(tables)
    text = markdown(summary, len(seeds))
    (workdir / COMPARE_TABLE).write_text(f"# {config.dataset}: the comparison table\n\n{text}\n")
    (workdir / COMPARE_RESULTS).write_text(
        json.dumps({"seeds": seeds, "per_seed": tables, "summary": summary}, indent=2)
    )
    metric = "accuracy" if "accuracy" in summary[0] else "map"
    classification_chart(summary, metric, workdir / COMPARE_FIGURE)
    return text
