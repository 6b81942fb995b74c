"""Generation diagnosis: where do tags generated from an image lose the image's class?

For the quality benchmark's two tagged datasets (``benchmarks/quality.py``: mnist_tags and the
8x8 digits with generated tags), the multimodal DBM is trained as there (library defaults, 50
epochs), and tags are generated four ways, each scored by precision@5 against the most
frequent tags (floor) and the class-conditional ones (ceiling):

* ``from the image``: ``mm.infer_missing`` given the image (Gibbs), as in the quality table;
* ``joint from the image``: the text pathway run with the joint layer clamped at its
  mean-field means given the image alone;
* ``joint from both``: the same with the joint layer's means given the image and the true
  tags: the best the joint layer can tell the text pathway about a pair;
* ``text top from both``: the text pathway's top hidden layer clamped at its means given both.

With the clamped layer made a visible layer of the text pathway's sub-model (its edge turned
round, the weights transposed), each is ``mm.infer_missing`` of that sub-model. If ``joint from
both`` stays near the floor while ``text top from both`` reaches the ceiling, the joint layer
does not carry the class to the text pathway: the bound is the joint coupling learnt, not
inference from the image. Run: ``python benchmarks/generation_diagnosis.py`` (``--size tiny``
to check that it runs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm
from mmdbm.params import edge_key

sys.path.insert(0, str(Path(__file__).parent))
import quality  # the paired datasets, training and scores of the quality benchmark


def clamped_text_pathway(
    model: mm.Model, params: mm.Params, top: str
) -> tuple[mm.Model, mm.Params]:
    """The text pathway of a multimodal DBM from its visible layer ``text`` up to ``top`` (a
    layer of the pathway, or ``"joint"``), with ``top`` turned into a visible layer: its edge
    to the layer below points down, so that ``top`` can be observed."""
    chain = ["text"]
    while chain[-1] != top:
        chain.append(next(b for a, b in model.edges if a == chain[-1]))
    edges = [*itertools.pairwise(chain[:-1]), (top, chain[-2])]
    weights = {edge_key(a, b): params.weights[edge_key(a, b)] for a, b in edges[:-1]} | {
        edge_key(top, chain[-2]): params.weights[edge_key(chain[-2], top)].T
    }
    sub_model = mm.Model({name: model.layers[name] for name in chain}, edges)
    sub_params = mm.Params(
        weights,
        {name: params.biases[name] for name in chain},
        {},
        params.lengths,
    )
    return sub_model, sub_params


def diagnose(dataset: dict, epochs: int) -> dict:
    """One row: precision@5 of the tags generated each way, with the floor and ceiling."""
    train, test = dataset["train"], dataset["test"]
    model = quality.paired_model(dataset)
    data = {"image": train["image"], "text": train["text"]}
    params = quality.trained_with_defaults(jax.random.key(10), model, data, epochs)
    truth, floor, ceiling = quality.tag_floor_and_ceiling(train, test)
    both = {"image": test["image"], "text": test["text"]}
    means = {
        "image": mm.mean_field(model, params, {"image": test["image"]}),
        "both": mm.mean_field(model, params, both),
    }
    text_top = [name for name in model.layers if name.startswith("text_h")][-1]
    scores = {
        "from the image": mm.infer_missing(
            jax.random.key(12), model, params, {"image": test["image"]}
        )["text"]
    }
    for name, top, given in (
        ("joint from the image", "joint", "image"),
        ("joint from both", "joint", "both"),
        ("text top from both", text_top, "both"),
    ):
        sub_model, sub_params = clamped_text_pathway(model, params, top)
        scores[name] = mm.infer_missing(
            jax.random.key(13), sub_model, sub_params, {top: means[given][top]}
        )["text"]
    row = {"dataset": dataset["name"], "floor": floor, "ceiling": ceiling}
    for name, generated in scores.items():
        precision = quality.top_words_precision(np.asarray(generated), truth)
        row[name] = precision
        row[f"{name}, gap closed"] = (precision - floor) / (ceiling - floor)
    print(
        f"  {row['dataset']}: " + ", ".join(f"{k} {row[k + ', gap closed']:.2f}" for k in scores),
        flush=True,
    )
    return row


def main(size: str, output: Path) -> list[dict]:
    settings = quality.SIZES[size]
    datasets = [d for d in quality.paired_datasets(settings) if d["count"]]
    rows = [diagnose(dataset, settings["multimodal_epochs"]) for dataset in datasets]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(rows, indent=1))
    columns = ["floor", "ceiling", "from the image", "joint from the image", "joint from both"]
    columns.append("text top from both")
    print("| dataset | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        print(f"| {row['dataset']} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(quality.SIZES), default="full")
    parser.add_argument("--output", type=Path, default=Path("results/generation_diagnosis.json"))
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
