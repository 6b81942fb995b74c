"""A run's report: evaluate the trained model, draw the figures, write ``report.md`` and
``results.json`` into the run's workdir."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm
from experiments import evaluate, figures, generate
from experiments.pipeline import QUERY_DIR, Experiment, restore

REPORT_FILE = "report.md"
RESULTS_FILE = "results.json"
NUM_SHOWN = 8


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of ``columns`` of ``rows`` (numbers to three decimals)."""

    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(c.replace("_", " ") for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _describe(experiment: Experiment) -> str:
    config, model = experiment.config, experiment.model
    pathways = "; ".join(
        f"{m} {model.layers[experiment.layer_of(m)].n} {spec.unit} -> "
        + " -> ".join(str(w) for w in spec.hidden)
        for m, spec in config.modalities.items()
    )
    joint = f"; joint {config.joint}" if config.joint else ""
    sizes = ", ".join(f"{s} {int(experiment.complete(s).sum())}" for s in ("train", "test"))
    pretraining = (
        f"Pretraining {config.pretrain.num_epochs} epochs per RBM, then "
        if len(model.layers) > 2 and config.pretrain.num_epochs
        else ""
    )
    return (
        f"Dataset `{config.dataset}` (seed {config.seed}); model: {pathways}{joint}. "
        f"Rows with every modality present: {sizes}. {pretraining}PCD training "
        f"{config.train.num_epochs} epochs."
    )


def claims(table: list[dict], metric: str, num_test: int) -> list[str]:
    """The paper's two claims, checked against the first four rows of the table, with the
    binomial standard error of an accuracy on ``num_test`` rows for scale."""
    both, query_inferred, query_dbm, others = table[:4]

    def holds(better: bool) -> str:
        return "**holds**" if better else "**does not hold**"

    best_single = max(query_dbm[metric], others[metric])
    p = both[metric]
    scale = (
        [f"Each accuracy has a standard error of about {np.sqrt(p * (1 - p) / num_test):.3f}."]
        if metric == "accuracy"
        else []
    )
    return [
        f"The multimodal representation beats either unimodal one: {both[metric]:.3f} "
        f"({both['input']}) against {query_dbm[metric]:.3f} ({query_dbm['model']}, "
        f"{query_dbm['input']}) and {others[metric]:.3f} ({others['input']}): "
        f"{holds(both[metric] > best_single)}.",
        f"Inferring the missing modalities helps queries that have only one: "
        f"{query_inferred[metric]:.3f} ({query_inferred['input']}) against "
        f"{query_dbm[metric]:.3f} ({query_dbm['model']}, {query_dbm['input']}): "
        f"{holds(query_inferred[metric] > query_dbm[metric])}.",
        *scale,
    ]


def multimodal_report(
    workdir: Path, experiment: Experiment, params: mm.Params, *, progress: bool
) -> tuple[str, dict]:
    """The report of a multimodal run and its JSON-ready results."""
    _, query_experiment, query_params = restore(workdir / QUERY_DIR)
    results = evaluate.multimodal_results(
        experiment, params, query_experiment, query_params, progress=progress
    )
    table = results["classification"]
    metric = "accuracy" if "accuracy" in table[0] else "map"
    columns = ["model", "input", *[c for c in table[0] if c not in ("model", "input")]]
    figures.classification_chart(table, metric, workdir / "classification.png")
    sections = [
        f"# {experiment.config.dataset}: multimodal DBM",
        _describe(experiment),
        "## Classification (test split, logistic regression on each representation)",
        markdown_table(table, columns),
        "![classification](classification.png)",
        "## The paper's two claims",
        "\n".join(
            f"- {line}" for line in claims(table, metric, int(experiment.complete("test").sum()))
        ),
        "## Retrieval (test queries against the training rows; relevant: same label)",
        markdown_table(results["retrieval"], ["query", "database", "map"]),
    ]
    if "tags" in results:
        sections += tag_sections(workdir, experiment, params, results)
    results.pop("features")
    return "\n\n".join(sections) + "\n", results


def tag_sections(
    workdir: Path, experiment: Experiment, params: mm.Params, results: dict
) -> list[str]:
    """Tag generation and, for picture data, its figure and images retrieved for words."""
    tags, query = results["tags"], experiment.config.query
    sections = [
        "## Tag generation (words inferred from the image alone)",
        f"Precision@5 against the test images' own tags: {tags['precision_at_5']:.3f}. For "
        "reference, the five tags most frequent in training, the same for every image: "
        f"{tags['frequent_words_precision_at_5']:.3f}"
        + (
            "; the five most frequent among training images of the image's true class, a "
            f"ceiling: {tags['class_words_precision_at_5']:.3f}."
            if "class_words_precision_at_5" in tags
            else "."
        ),
    ]
    rows = experiment.complete("test")
    images = experiment.unscaled(query, experiment.splits["test"][query][rows])
    if figures.as_picture(images[0]) is None:
        return sections
    words = generate.vocabulary(experiment)
    own = [
        list(words[np.flatnonzero(row)])
        for row in experiment.splits["test"][tags["modality"]][rows][:NUM_SHOWN]
    ]
    figures.words_for_images(
        images[:NUM_SHOWN], tags["words"][:NUM_SHOWN], own, workdir / "tags.png"
    )
    queries = typical_words(experiment, tags["modality"])
    inferred, found = generate.images_for(
        jax.random.key(experiment.config.seed),
        experiment,
        params,
        queries,
        images,
    )
    figures.images_for_words(
        [" ".join(q) for q in queries],
        inferred,
        [images[i] for i in found],
        workdir / "retrieval.png",
    )
    return [
        *sections,
        "![generated tags](tags.png)",
        "Images for bags of words: the image inferred from each query by Gibbs sampling "
        "(left), then the test images nearest to it:",
        "![retrieval](retrieval.png)",
    ]


def typical_words(
    experiment: Experiment, text: str, *, num_queries: int = 4, k: int = 3
) -> list[list[str]]:
    """Queries of ``k`` words typical of a class each: the words most over-represented in the
    training documents of that class (for the first ``num_queries`` classes with words)."""
    train = experiment.splits["train"]
    labels = train["labels"]
    present = train[text] > 0
    overall = present.mean(axis=0) + 1e-3
    words = generate.vocabulary(experiment)
    queries = []
    for label in np.unique(labels)[:num_queries] if labels.ndim == 1 else range(num_queries):
        members = labels == label if labels.ndim == 1 else labels[:, label] > 0
        in_class = present[members].mean(axis=0)
        score = np.where(in_class >= 0.05, in_class / overall, 0.0)
        queries.append(list(words[np.argsort(-score, kind="stable")[:k]]))
    return queries


def density_report(
    workdir: Path, experiment: Experiment, params: mm.Params, *, progress: bool
) -> tuple[str, dict]:
    """The report of a single-pathway run: AIS log-likelihood or perplexity, and samples."""
    config = experiment.config
    key = jax.random.key(config.seed)
    results = evaluate.density_results(key, experiment, params, progress=progress)
    sections = [
        f"# {config.dataset}: {'RBM' if len(experiment.model.layers) == 2 else 'DBM'}",
        _describe(experiment),
    ]
    chains, betas = config.evaluate.num_ais_chains, config.evaluate.num_ais_betas
    if "perplexity" in results:
        sections += [
            f"## Per-word test perplexity ({results['num_documents']} test documents)",
            f"Z by AIS for each document length, {chains} chains x {betas} inverse "
            "temperatures: forward AIS underestimates it on average, so its perplexity is "
            "optimistic; reverse AIS from documents of each length overestimates it as far as "
            "they are samples of the model, so its perplexity is conservative.",
            markdown_table(
                [
                    {
                        "model": "Replicated Softmax, forward AIS",
                        "perplexity": results["perplexity"],
                    },
                    {
                        "model": "Replicated Softmax, reverse AIS",
                        "perplexity": results["reverse_perplexity"],
                    },
                    {
                        "model": f"LDA, {results['lda_num_topics']} topics "
                        "(held out, left-to-right)",
                        "perplexity": results["lda_perplexity"],
                    },
                ],
                ["model", "perplexity"],
            ),
        ]
        return "\n\n".join(sections) + "\n", results
    kind = "exact given log Z" if results["exact"] else "mean-field lower bound"
    estimates = []
    for prefix, name in (("", "forward AIS"), ("reverse_", "reverse AIS from the training rows")):
        low, high = results[f"{prefix}log_z_interval"]
        estimates.append(
            f"{name}: log Z = {results[f'{prefix}log_z']:.2f}, +-3 sigma interval "
            f"[{low:.2f}, {high:.2f}], effective sample size "
            f"{results[f'{prefix}effective_sample_size']:.1f}"
        )
    sections += [
        f"## Log-likelihood (nats per example, {kind})",
        f"AIS with {chains} chains x {betas} inverse temperatures; {estimates[0]}; "
        f"{estimates[1]}. Forward AIS underestimates log Z on average (its log-likelihood is "
        "optimistic), reverse AIS overestimates it as far as the training rows are samples of "
        "the model (its log-likelihood is conservative).",
        markdown_table(
            [
                {
                    "split": s,
                    "log_likelihood": results[f"{s}_log_likelihood"],
                    "conservative": results[f"reverse_{s}_log_likelihood"],
                }
                for s in ("train", "test")
            ],
            ["split", "log_likelihood", "conservative"],
        ),
    ]
    (modality,) = experiment.modalities
    if figures.as_picture(experiment.splits["test"][modality][0]) is not None:
        samples = mm.sample(
            jax.random.fold_in(key, 1), experiment.model, params, num_chains=30, num_steps=1000
        )
        figures.image_grid(
            np.asarray(samples["v"]),
            "Samples (30 chains, 1,000 Gibbs steps)",
            workdir / "samples.png",
        )
        sections.append("![samples](samples.png)")
    return "\n\n".join(sections) + "\n", results


def write_report(workdir: str | Path, *, progress: bool = True) -> str:
    """Evaluate the run in ``workdir``; write ``report.md`` (with its figures) and
    ``results.json`` there and return the report."""
    workdir = Path(workdir)
    config, experiment, params = restore(workdir)
    make = multimodal_report if config.joint else density_report
    report, results = make(workdir, experiment, params, progress=progress)
    (workdir / REPORT_FILE).write_text(report)
    (workdir / RESULTS_FILE).write_text(json.dumps(results, indent=2))
    return report
