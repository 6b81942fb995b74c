"""Layer-probe benchmark: how much of the class each layer of a DBM keeps as joint training
goes on, and how much of it reaches the tags generated from an image, on the quality
benchmark's two tag datasets (``benchmarks/quality.py``: ``digits_tags``, scikit-learn's 8x8
digits with generated tags, 1,347 training images; ``mnist_tags``).

Each dataset's multimodal DBM of the quality benchmark is pretrained with ``mm.pretrain``'s
defaults, then trained by ``mm.fit`` with its defaults for each budget of epochs (each budget its
own run, its learning-rate schedule that of its length); budget 0 is pretraining alone. Each row
gives logistic probes (test accuracy) of the mean-field means of each layer of the image pathway
and of the joint layer given the image alone (the tags inferred), of the joint layer given both,
and of the image pathway's top with the joint layer given the image; the tags generated from the
image by ``mm.infer_missing`` (Gibbs), as the share of the floor-to-ceiling gap of precision@5
they close; and the same probes of a unimodal DBM of the images (the image pathway and the joint
layer's widths), trained alike. The quality benchmark's "query only" and "gap closed" figures
are those of 50 epochs; this benchmark shows where along training they are won or lost.
Run: ``python benchmarks/layer_probes.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the paired datasets, models and probe of the quality benchmark

SIZES = {
    "tiny": {"quality": "tiny", "budgets": (0, 1)},
    "full": {"quality": "full", "budgets": (0, 1, 5, 15, 50)},
}
DATASETS = ("digits_tags", "mnist_tags")
PROBES = {
    "image_h1 from image": (("image",), ("image_h1",)),
    "image_h2 from image": (("image",), ("image_h2",)),
    "joint from image": (("image",), ("joint",)),
    "joint from both": (("image", "text"), ("joint",)),
    "image_h2 + joint from image": (("image",), ("image_h2", "joint")),
}
UNIMODAL_PROBES = ("h1", "h2", "h3")


def probe_layers(dataset: dict, model: mm.Model, params: mm.Params, observed, layers) -> float:
    """The test accuracy of a logistic probe on the mean-field means of ``layers`` given the
    modalities ``observed``."""
    labels = {split: dataset[split]["labels"] for split in ("train", "test")}
    return quality.probe(quality.represented(dataset, model, params, observed, layers), labels)


def trained(key, model, data, pretrained: mm.Params, epochs: int) -> mm.Params:
    """``pretrained`` after ``epochs`` of ``mm.fit`` with its defaults (none: itself)."""
    if epochs == 0:
        return pretrained
    params, _ = mm.fit(
        key,
        model,
        data,
        params=pretrained,
        num_epochs=epochs,
        batch_size=quality.MULTIMODAL_BATCH,
        progress=False,
    )
    return params


def dataset_rows(dataset: dict, budgets: tuple[int, ...]) -> list[dict]:
    """One row per budget of joint training of the dataset's multimodal and unimodal DBMs."""
    train, test = dataset["train"], dataset["test"]
    model = quality.paired_model(dataset)
    data = {"image": train["image"], "text": train["text"]}
    query_hidden, _, joint = dataset["hidden"]
    unimodal = mm.dbm(mm.Gaussian(train["image"].shape[1]), [*query_hidden, joint])
    pretrained = mm.pretrain(jax.random.key(10), model, data, progress=False)
    unimodal_pretrained = mm.pretrain(
        jax.random.key(11), unimodal, {"v": train["image"]}, progress=False
    )
    rows = []
    for epochs in budgets:
        params = trained(jax.random.key(12), model, data, pretrained, epochs)
        unimodal_params = trained(
            jax.random.key(13), unimodal, {"v": train["image"]}, unimodal_pretrained, epochs
        )
        row = {"dataset": dataset["name"], "epochs": epochs}
        for label, (observed, layers) in PROBES.items():
            row[label] = probe_layers(dataset, model, params, observed, layers)
        tags = mm.infer_missing(jax.random.key(14), model, params, {"image": test["image"]})
        row["tags gap closed"] = quality.gap_closed(
            *quality.generation_score(dataset, np.asarray(tags["text"]))
        )
        for layer in UNIMODAL_PROBES:
            row[f"unimodal {layer}"] = probe_layers(
                dataset, unimodal, unimodal_params, ("image",), (layer,)
            )
        print(
            f"  {dataset['name']}, {epochs} epochs: joint from image "
            f"{row['joint from image']:.3f}, tags gap closed {row['tags gap closed']:.2f}",
            flush=True,
        )
        rows.append(row)
    return rows


def main(size: str, output: Path | None) -> list[dict]:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    datasets = quality.paired_datasets(quality.SIZES[s["quality"]])
    rows, raw = [], {}
    for dataset in (d for d in datasets if d["name"] in DATASETS):
        rows += dataset_rows(dataset, s["budgets"])
        raw[dataset["name"]] = quality.probe(
            {split: dataset[split]["image"] for split in ("train", "test")},
            {split: dataset[split]["labels"] for split in ("train", "test")},
        )
    print_table(rows, raw)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(rows, indent=2))
        print(f"written: {output}")
    return rows


def print_table(rows: list[dict], raw: dict[str, float]) -> None:
    columns = [*PROBES, "tags gap closed", *(f"unimodal {layer}" for layer in UNIMODAL_PROBES)]
    for name, accuracy in raw.items():
        print(
            f"{name}: raw pixels {accuracy:.3f} (the quality benchmark's target for the image "
            f"alone: 0.95 x that = {0.95 * accuracy:.3f}; for the tags, a gap closed of 0.6)"
        )
    print("\n| dataset | epochs of joint training | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for row in rows:
        figures = " | ".join(
            f"{row[c]:.3f}" if "gap" not in c else f"{row[c]:.2f}" for c in columns
        )
        print(f"| {row['dataset']} | {row['epochs']} | {figures} |")


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, SIZES)
    args = parser.parse_args()
    main(args.size, args.output or Path("runs") / f"layer-probes-{args.size}.json")
