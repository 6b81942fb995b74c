"""Collapse benchmark: the two training settings that decide whether a multimodal DBM's upper
layers give every input the same representation, measured on the quality benchmark's four
paired datasets (``benchmarks/quality.py``).

For every dataset and every setting of (pretraining epochs a layer, Gibbs steps per update of the
persistent chains), the multimodal DBM is pretrained with ``mm.pretrain``'s defaults but its number
of epochs, then trained by ``mm.fit`` with its default optimizer and its default estimator but the
Gibbs steps (``default_estimator(model, num_gibbs_steps=...)``). Each row gives the spread of the
joint representation (``mm.represent``) of the test split after pretraining and at the end (the
standard deviation of its means across examples, averaged over units, as in the quality benchmark),
the lowest spread of any hidden layer's data-phase means in the last epoch, the first epoch at which
the joint layer's data-phase spread fell below ``mm.training.loop.COLLAPSE_SPREAD`` after having
been above it, and a logistic probe of the joint representation of the test split. The long rows
train ``digits_tags`` four times longer, where the learning rate stays high for longer, with the
learning rate of ``default_optimizer`` as a third setting.

These rows are why ``mm.pretrain`` trains each RBM for 50 epochs and ``mm.fit``'s default
estimator takes ``FIT_GIBBS_STEPS`` = 20 Gibbs steps per update (the mean-field sweeps are
measured in ``benchmarks/tag_documents.py``).
Run: ``python benchmarks/collapse.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import platform
import sys
import warnings
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm
from mmdbm.training.loop import COLLAPSE_SPREAD, default_estimator

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the paired datasets and the probe of the quality benchmark

SIZES = {
    "tiny": {"quality": "tiny", "epochs": 2, "long_epochs": 3, "settings": ((1, 1), (2, 2))},
    "full": {
        "quality": "full",
        "epochs": 50,
        "long_epochs": 200,
        "settings": ((10, 5), (50, 5), (10, 20), (50, 20)),
    },
}
LONG_RUNS = ((50, 5, 0.005), (50, 20, 0.005), (50, 20, 0.002))


def first_collapse(spreads: list[float]) -> int | None:
    """The first epoch (from 1) whose spread is below ``COLLAPSE_SPREAD`` after an epoch above."""
    for epoch, spread in enumerate(spreads, start=1):
        if spread < COLLAPSE_SPREAD and max(spreads[:epoch], default=0.0) >= COLLAPSE_SPREAD:
            return epoch
    return None


def collapse_row(
    dataset: dict, pretrain_epochs: int, gibbs_steps: int, epochs: int, learning_rate: float
) -> dict:
    """Pretrain and train the dataset's multimodal DBM under one setting; score its layers."""
    query, other = dataset["query"], dataset["other"]
    train, test = dataset["train"], dataset["test"]
    model = quality.paired_model(dataset)
    data = {query: train[query], other: train[other]}
    key = jax.random.key(10)
    params = mm.pretrain(key, model, data, num_epochs=pretrain_epochs, progress=False)
    pretrained_spread = float(
        np.asarray(mm.represent(model, params, {m: test[m] for m in data})).std(axis=0).mean()
    )
    steps = epochs * (len(train[query]) // quality.MULTIMODAL_BATCH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.CollapseWarning)
        params, history = mm.fit(
            jax.random.fold_in(key, 1),
            model,
            data,
            params=params,
            optimizer=mm.default_optimizer(steps, learning_rate=learning_rate, model=model),
            estimator=default_estimator(model, num_gibbs_steps=gibbs_steps),
            num_epochs=epochs,
            batch_size=quality.MULTIMODAL_BATCH,
            progress=False,
        )
    features = {
        split: mm.represent(model, params, {m: split_data[m] for m in data})
        for split, split_data in (("train", train), ("test", test))
    }
    row = {
        "dataset": dataset["name"],
        "pretrain_epochs": pretrain_epochs,
        "gibbs_steps": gibbs_steps,
        "learning_rate": learning_rate,
        "epochs": epochs,
        "pretrained_joint_spread": pretrained_spread,
        "joint_spread": float(np.asarray(features["test"]).std(axis=0).mean()),
        "lowest_spread": min(history[-1]["spread"].values()),
        "collapse_epoch": first_collapse([entry["spread"]["joint"] for entry in history]),
        "joint_probe": quality.probe(features, {"train": train["labels"], "test": test["labels"]}),
    }
    print(
        f"  {row['dataset']}, pretraining {pretrain_epochs}, {gibbs_steps} Gibbs steps, "
        f"rate {learning_rate}: joint spread {row['joint_spread']:.3f}, "
        f"probe {row['joint_probe']:.3f}",
        flush=True,
    )
    return row


def print_table(rows: list[dict]) -> None:
    print(
        "\n| dataset | pretraining epochs | Gibbs steps | rate | epochs | joint spread pretrained "
        "| joint spread | lowest spread | collapsed at | joint probe |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['pretrain_epochs']} | {r['gibbs_steps']} | "
            f"{r['learning_rate']} | {r['epochs']} | {r['pretrained_joint_spread']:.3f} | "
            f"{r['joint_spread']:.3f} | {r['lowest_spread']:.3f} | "
            f"{r['collapse_epoch'] or ''} | {r['joint_probe']:.3f} |"
        )


def main(size: str, output: Path | None) -> list[dict]:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    datasets = quality.paired_datasets(quality.SIZES[s["quality"]])
    rows = [
        collapse_row(dataset, pretrain_epochs, gibbs_steps, s["epochs"], 0.005)
        for dataset in datasets
        for pretrain_epochs, gibbs_steps in s["settings"]
    ]
    digits = next(d for d in datasets if d["name"] == "digits_tags")
    rows += [
        collapse_row(digits, pretrain_epochs, gibbs_steps, s["long_epochs"], rate)
        for pretrain_epochs, gibbs_steps, rate in LONG_RUNS
    ]
    print_table(rows)
    command_line.write_rows(rows, output)
    return rows


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, SIZES)
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
