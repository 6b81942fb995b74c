"""How long the multimodal DBN (``mmdbm.dbn``) trains each of its RBMs, measured on the quality
benchmark's four paired datasets (``benchmarks/quality.py``).

For every dataset and every number of CD-1 epochs a layer, ``dbn.train_dbn`` with its other
defaults builds the multimodal DBN of the quality benchmark's graph. Each row gives logistic
probes of its top layer (``dbn.represent``) on the test split given both modalities and given
the query alone (the other filled in by Gibbs in the top RBM), the spread of the query-only
representation (the standard deviation of its means across examples, averaged over units), and
the other modality generated from the query (``dbn.infer_missing``) against its floor and
ceiling, as in the quality benchmark.

These rows are why ``dbn.train_dbn`` trains each RBM for 50 epochs, as ``mm.pretrain`` does.
Run: ``python benchmarks/dbn_pretraining.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import jax
import numpy as np

from mmdbm import dbn

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the paired datasets, the probe and the generation scores

EPOCHS = {"tiny": (1, 2), "full": (10, 50)}


def dbn_row(dataset: dict, epochs: int) -> dict:
    """One dataset, one number of epochs a layer."""
    query, other, train, test = (dataset[k] for k in ("query", "other", "train", "test"))
    model = quality.paired_model(dataset)
    start = time.perf_counter()
    net = dbn.train_dbn(
        jax.random.key(10),
        model,
        {query: train[query], other: train[other]},
        num_epochs=epochs,
        progress=False,
    )
    seconds = time.perf_counter() - start
    labels = {"train": train["labels"], "test": test["labels"]}

    def features(modalities):
        return {
            split: np.asarray(
                dbn.represent(jax.random.key(3), net, {m: part[m] for m in modalities})
            )
            for split, part in (("train", train), ("test", test))
        }

    query_only = features((query,))
    generated = dbn.infer_missing(jax.random.key(12), net, {query: test[query]})[other]
    score, floor, ceiling = quality.generation_score(dataset, np.asarray(generated))
    return {
        "dataset": dataset["name"],
        "epochs": epochs,
        "joint_probe": quality.probe(features((query, other)), labels),
        "query_only_probe": quality.probe(query_only, labels),
        "query_only_spread": float(query_only["test"].std(axis=0).mean()),
        "generated": score,
        "floor": floor,
        "ceiling": ceiling,
        "gap_closed": quality.gap_closed(score, floor, ceiling),
        "train_seconds": seconds,
    }


def print_table(rows: list[dict]) -> None:
    print(
        "| dataset | epochs | joint probe | query-only probe | query-only spread "
        "| generated | floor | ceiling | gap closed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['epochs']} | {r['joint_probe']:.3f} "
            f"| {r['query_only_probe']:.3f} | {r['query_only_spread']:.3f} "
            f"| {r['generated']:.3f} | {r['floor']:.3f} | {r['ceiling']:.3f} "
            f"| {r['gap_closed']:.2f} |"
        )


def main(size: str, output: Path | None) -> list[dict]:
    print(f"JAX {jax.__version__} on {jax.devices()}; {platform.machine()}")
    rows = []
    for dataset in quality.paired_datasets(quality.SIZES[size]):
        for epochs in EPOCHS[size]:
            rows.append(dbn_row(dataset, epochs))
            print(f"  {dataset['name']}, {epochs} epochs", flush=True)
    print_table(rows)
    command_line.write_rows(rows, output)
    return rows


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, EPOCHS)
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
