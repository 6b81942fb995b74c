"""Layer-probe benchmark: how much of the class each layer of a DBM keeps as joint training
goes on, on the quality benchmark's ``digits_tags`` (``benchmarks/quality.py``: scikit-learn's
8x8 digits, standardised, with generated tags; 1,347 training images).

The multimodal DBM of the quality benchmark (image pathway 64-64, tag pathway 32-32, joint 64)
is pretrained with ``mm.pretrain``'s defaults, then trained by ``mm.fit`` with its defaults for
each budget of epochs (each budget its own run, its learning-rate schedule that of its length);
budget 0 is pretraining alone. Each row gives logistic probes (test accuracy) of the mean-field
means of each layer of the image pathway and of the joint layer given the image alone (the tags
inferred), of the joint layer given both, and of the image pathway's top with the joint layer
given the image; beside them the same probes of a unimodal DBM 64-64-64 of the images, trained
alike. The quality benchmark's "query only" figure is the joint layer given the image after 50
epochs; this benchmark shows where along training it is lost.
Run: ``python benchmarks/layer_probes.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import jax

import mmdbm as mm

sys.path.insert(0, str(Path(__file__).parent))
import quality  # the paired datasets, models and probe of the quality benchmark

SIZES = {
    "tiny": {"quality": "tiny", "budgets": (0, 1)},
    "full": {"quality": "full", "budgets": (0, 1, 5, 15, 50)},
}
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
    modalities ``observed`` (renamed ``v`` for a one-pathway model)."""
    train, test = dataset["train"], dataset["test"]
    rename = {"image": "v"} if "v" in model.layers else {}
    features = {
        split: mm.represent(
            model, params, {rename.get(m, m): data[m] for m in observed}, layers=layers
        )
        for split, data in (("train", train), ("test", test))
    }
    return quality.probe(features, {"train": train["labels"], "test": test["labels"]})


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


def main(size: str, output: Path | None) -> list[dict]:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    (dataset,) = [
        d
        for d in quality.paired_datasets(quality.SIZES[s["quality"]])
        if d["name"] == "digits_tags"
    ]
    train = dataset["train"]
    model = quality.paired_model(dataset)
    data = {"image": train["image"], "text": train["text"]}
    query_hidden, _, joint = dataset["hidden"]
    unimodal = mm.dbm(mm.Gaussian(train["image"].shape[1]), [*query_hidden, joint])
    pretrained = mm.pretrain(jax.random.key(10), model, data, progress=False)
    unimodal_pretrained = mm.pretrain(
        jax.random.key(11), unimodal, {"v": train["image"]}, progress=False
    )
    rows = []
    for epochs in s["budgets"]:
        params = trained(jax.random.key(12), model, data, pretrained, epochs)
        unimodal_params = trained(
            jax.random.key(13), unimodal, {"v": train["image"]}, unimodal_pretrained, epochs
        )
        row = {"epochs": epochs}
        for label, (observed, layers) in PROBES.items():
            row[label] = probe_layers(dataset, model, params, observed, layers)
        for layer in UNIMODAL_PROBES:
            row[f"unimodal {layer}"] = probe_layers(
                dataset, unimodal, unimodal_params, ("image",), (layer,)
            )
        print(f"  {epochs} epochs: joint from image {row['joint from image']:.3f}", flush=True)
        rows.append(row)
    print_table(
        rows,
        quality.probe(
            {split: dataset[split]["image"] for split in ("train", "test")},
            {split: dataset[split]["labels"] for split in ("train", "test")},
        ),
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(rows, indent=2))
        print(f"written: {output}")
    return rows


def print_table(rows: list[dict], raw: float) -> None:
    columns = [*PROBES, *(f"unimodal {layer}" for layer in UNIMODAL_PROBES)]
    print(
        f"\nraw pixels: {raw:.3f} (the quality benchmark's target for the image alone: "
        f"0.95 x that = {0.95 * raw:.3f})"
    )
    print("\n| epochs of joint training | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        print(f"| {row['epochs']} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    main(args.size, args.output or Path("runs") / f"layer-probes-{args.size}.json")
