"""How many Gibbs chains a missing modality needs (``mm.infer_missing``, ``dbn.infer_missing``),
measured on the quality benchmark's four paired datasets (``benchmarks/quality.py``).

Each dataset's multimodal DBM is trained with the library's defaults (``mm.pretrain``, then 50
epochs of ``mm.fit``) and its multimodal DBN with ``dbn.train_dbn``'s. The other modality is
generated from the query on the test split by Gibbs sampling, for several numbers of steps and
of chains per example (each chain's conditional means averaged over its second half, then the
chains averaged), and by mean-field for the DBM. Each cell is the share of the floor-to-ceiling
gap closed: for tags, by the precision@5 expected under the tag generator
(``quality.expected_tag_precision``: the test tags' own sampling noise is a fifth to a third of
the gap) and, after the slash, by the precision@5 against the test tags; for a Gaussian view, by
its mean squared error. Every setting of a model uses the same trained parameters, so the rows
differ only in the Monte Carlo error of each example's estimate, which a ranking of words (or a
squared error) pays for: with one chain of 50 averaged draws the tags' ranking keeps much of its
noise. These rows are why ``mm.infer_missing`` runs ``NUM_CHAINS`` chains per example.
Run: ``python benchmarks/missing_modality.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import jax
import numpy as np

import mmdbm as mm
from mmdbm import dbn

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the paired datasets, models and generation scores of the quality benchmark

SIZES = {
    "tiny": {"quality": "tiny", "settings": ((4, 1), (4, 2)), "datasets": ("digits_tags",)},
    "full": {
        "quality": "full",
        "settings": ((100, 1), (100, 3), (100, 10), (100, 30), (400, 10)),
        "datasets": None,
    },
}
MEAN_FIELD = "mean-field"


def gap_closed(dataset: dict, generated: np.ndarray) -> str:
    """The share of the floor-to-ceiling gap closed, as the module doc says."""
    observed = quality.gap_closed(*quality.generation_score(dataset, generated))
    if not dataset["count"]:
        return f"{observed:.2f}"
    expected = quality.gap_closed(*quality.expected_tag_scores(dataset, generated))
    return f"{expected:.2f} / {observed:.2f}"


def dataset_rows(dataset: dict, settings: tuple[tuple[int, int], ...]) -> list[dict]:
    """One row per model and setting of one dataset."""
    query, other, train, test = (dataset[k] for k in ("query", "other", "train", "test"))
    model = quality.paired_model(dataset)
    data = {query: train[query], other: train[other]}
    params = quality.trained_with_defaults(jax.random.key(10), model, data, 50)
    net = dbn.train_dbn(jax.random.key(10), model, data, progress=False)
    observed = {query: test[query]}
    generators = {
        ("DBM", MEAN_FIELD): lambda: mm.infer_missing(
            None, model, params, observed, method="mean_field"
        ),
    }
    for steps, chains in settings:
        generators[("DBM", (steps, chains))] = lambda s=steps, c=chains: mm.infer_missing(
            jax.random.key(12), model, params, observed, num_steps=s, num_chains=c
        )
        generators[("DBN", (steps, chains))] = lambda s=steps, c=chains: dbn.infer_missing(
            jax.random.key(12), net, observed, num_steps=s, num_chains=c
        )
    rows = []
    for (kind, setting), generate in generators.items():
        start = time.perf_counter()
        generated = np.asarray(generate()[other])
        rows.append(
            {
                "dataset": dataset["name"],
                "model": kind,
                "setting": setting if setting == MEAN_FIELD else list(setting),
                "gap_closed": gap_closed(dataset, generated),
                "seconds": time.perf_counter() - start,
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        "\nshare of the floor-to-ceiling gap closed by the generated modality (tags: expected"
        " / against the test tags); seconds of the call, compilation included"
    )
    print("| dataset | model | steps x chains | gap closed | seconds |")
    print("|---|---|---|---|---|")
    for r in rows:
        setting = r["setting"] if r["setting"] == MEAN_FIELD else "{} x {}".format(*r["setting"])
        print(
            f"| {r['dataset']} | {r['model']} | {setting} | {r['gap_closed']} | "
            f"{r['seconds']:.1f} |"
        )


def main(size: str, output: Path | None) -> list[dict]:
    print(f"JAX {jax.__version__} on {jax.devices()}; {platform.machine()}")
    s = SIZES[size]
    rows = []
    for dataset in quality.paired_datasets(quality.SIZES[s["quality"]]):
        if s["datasets"] is None or dataset["name"] in s["datasets"]:
            rows += dataset_rows(dataset, s["settings"])
            print(f"  {dataset['name']}", flush=True)
    print_table(rows)
    command_line.write_rows(rows, output)
    return rows


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, SIZES)
    arguments = parser.parse_args()
    main(arguments.size, arguments.output)
