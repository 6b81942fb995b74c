"""Tag-documents benchmark: how far the tags generated from ``digits_tags`` images are bound by
the number of tagged documents, and what more documents do to joint training's defaults.

``digits_tags`` (``benchmarks/quality.py``) has 1,096 tagged training images, the fewest of the
quality benchmark's tag sets. Here each training image is given one and then four documents,
drawn independently by the same tag generator (``quality.digits_tags_splits``); the test split
is the quality benchmark's. For each number of documents: the two label-free scikit-learn peers
of the quality benchmark (``quality.peer_predictions``), and the multimodal DBM pretrained with
``mm.pretrain``'s defaults and trained by ``mm.fit`` for 50 epochs at batch 50, with its
defaults and with one of three changes: the papers' 10 mean-field sweeps for the data phase in
place of ``FIT_MEAN_FIELD_STEPS``, momentum 0.5 throughout (``default_optimizer``'s
``final_momentum``), or a batch as many times larger as there are documents an image, which
keeps the number of updates of one document an image. Each DBM row gives the expected share
of the floor-to-ceiling gap that the tags generated from the image close
(``quality.expected_tag_scores``), the logistic probe of the joint representation of the image
alone, the joint layer's data-phase spread in the last epoch, and the epoch, if any, at which
it fell below ``COLLAPSE_SPREAD`` (``collapse.first_collapse``).
Run: ``python benchmarks/tag_documents.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import platform
import sys
import warnings
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm
from mmdbm.training.loop import FIT_MEAN_FIELD_STEPS, default_estimator
from mmdbm.training.optimizer import default_optimizer

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the digits_tags splits, the model, the peers and the scores
from collapse import first_collapse

SIZES = {
    "tiny": {"quality": "tiny", "epochs": 2, "documents": (1, 2), "keys": (10,)},
    "full": {"quality": "full", "epochs": 50, "documents": (1, 4), "keys": (10, 11)},
}
BATCH = quality.MULTIMODAL_BATCH
SETTINGS = {  # default_optimizer's arguments, whether the batch grows with the documents, and
    # the data phase's mean-field sweeps
    "defaults": ({}, False, FIT_MEAN_FIELD_STEPS),
    "10 mean-field sweeps": ({}, False, 10),
    "momentum 0.5": ({"final_momentum": 0.5}, False, FIT_MEAN_FIELD_STEPS),
    "batch x documents": ({}, True, FIT_MEAN_FIELD_STEPS),
}


def digits_tags(documents_per_image: int, size: dict) -> dict:
    """The quality benchmark's ``digits_tags``, each training image with that many documents."""
    dataset = next(d for d in quality.paired_datasets(size) if d["name"] == "digits_tags")
    train, test = quality.digits_tags_splits(documents_per_image)
    return quality.limited_and_standardised(
        {**dataset, "train": train, "test": test}, size["multimodal_rows"]
    )


def dbm_row(key: int, dataset: dict, documents: int, setting: str, epochs: int) -> dict:
    """Train the multimodal DBM of ``dataset`` with one setting and score it."""
    train, test = dataset["train"], dataset["test"]
    model = quality.paired_model(dataset)
    data = {"image": train["image"], "text": train["text"]}
    arguments, batch_grows, sweeps = SETTINGS[setting]
    batch = BATCH * documents if batch_grows else BATCH
    steps = epochs * (len(train["labels"]) // batch)
    optimizer = default_optimizer(steps, model=model, **arguments)
    params = mm.pretrain(jax.random.key(key), model, data, progress=False)
    params, history = mm.fit(
        jax.random.fold_in(jax.random.key(key), 1),
        model,
        data,
        params=params,
        num_epochs=epochs,
        batch_size=batch,
        optimizer=optimizer,
        estimator=default_estimator(model, num_mean_field_steps=sweeps),
        progress=False,
    )
    tags = mm.infer_missing(jax.random.key(12), model, params, {"image": test["image"]})["text"]
    labels = {"train": train["labels"], "test": test["labels"]}
    row = {
        "documents": documents,
        "model": f"DBM, {setting}",
        "key": key,
        "expected_gap_closed": quality.gap_closed(
            *quality.expected_tag_scores(dataset, np.asarray(tags))
        ),
        "query_only": quality.probe(
            quality.represented(dataset, model, params, ("image",)), labels
        ),
        "joint_spread": history[-1]["spread"]["joint"],
        "collapse_epoch": first_collapse([entry["spread"]["joint"] for entry in history]),
    }
    print(f"  {row}", flush=True)
    return row


def peer_rows(dataset: dict, documents: int) -> list[dict]:
    """The label-free peers' rows (``quality.peer_predictions``)."""
    return [
        {
            "documents": documents,
            "model": f"peer {name}",
            "expected_gap_closed": quality.gap_closed(
                *quality.expected_tag_scores(dataset, predicted)
            ),
        }
        for name, predicted in quality.peer_predictions(dataset).items()
    ]


def print_table(rows: list[dict]) -> None:
    print(
        "\n| documents an image | model | key | expected gap closed | image-only probe "
        "| joint spread | collapsed at |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        dbm = f"{r['query_only']:.3f} | {r['joint_spread']:.3f}" if "key" in r else " | "
        print(
            f"| {r['documents']} | {r['model']} | {r.get('key', '')} | "
            f"{r['expected_gap_closed']:.2f} | {dbm} | {r.get('collapse_epoch') or ''} |"
        )


def main(size: str, output: Path | None) -> list[dict]:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    warnings.simplefilter("ignore", mm.CollapseWarning)  # the table's last column says it
    rows = []
    for documents in s["documents"]:
        dataset = digits_tags(documents, quality.SIZES[s["quality"]])
        print(f"{documents} document(s) an image: {len(dataset['train']['labels'])} tagged")
        rows += peer_rows(dataset, documents)
        settings = ("defaults",) if documents == 1 else tuple(SETTINGS)
        rows += [
            dbm_row(key, dataset, documents, setting, s["epochs"])
            for setting in settings
            for key in s["keys"]
        ]
    print_table(rows)
    command_line.write_rows(rows, output)
    return rows


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, SIZES)
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
