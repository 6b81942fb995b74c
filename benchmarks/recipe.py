"""Recipe benchmark: the joint-training settings of ``mm.fit`` that the quality benchmark takes
as given, each varied alone, on the quality benchmark's four paired datasets and on the MNIST
DBM (``benchmarks/quality.py``).

Every run pretrains with ``mm.pretrain``'s defaults and trains with ``mm.fit``; one setting
differs from those of ``mm.default_optimizer`` and ``mm.fit``'s default estimator:

* ``default``: SGD, momentum 0.5 -> 0.9, L2 weight decay 2e-4 on the weights;
* ``no decay``: the same without weight decay;
* ``max-norm``: no weight decay, each hidden unit's incoming weights (a column of every weight
  matrix) kept within an L2 norm of ``MAX_NORM`` by projection after each update (Srebro,
  Rennie & Jaakkola 2005; the dropout paper's constraint, Srivastava et al. 2014);
* ``momentum 0.5``: momentum 0.5 throughout;
* ``10 mean-field sweeps`` (the papers') and ``30 mean-field sweeps``: the default optimizer,
  and that many mean-field sweeps for the data statistics in place of ``mm.fit``'s
  ``FIT_MEAN_FIELD_STEPS`` (5);
* ``Adam for count layers``: Adam (rate ``COUNT_LAYER_ADAM_RATE`` decayed linearly to zero,
  weight decay as the default's) for the parameters of Replicated Softmax layers (their bias,
  the bias of the layer whose bias they scale, the weights touching them), the default
  optimizer for the others: Adam trains a Replicated Softmax alone far better
  (``benchmarks/topic_models.py``).

Each multimodal row gives the logistic probes of the joint representation and of the query
modality alone, the spread of the joint representation, the share of the floor-to-ceiling gap
that the generated modality closes (as in the quality benchmark; for the tags also in
expectation under their generator), and the largest change of any mean in the last mean-field
sweep of the last epoch (are the sweeps converged?). The MNIST
rows give the DBM's test log-likelihood bound at 30 epochs (forward AIS, 100 x 10,000;
``--mnist-epochs 30,100`` for other budgets).
Run: ``python benchmarks/recipe.py`` (``--size tiny`` to check that it runs).
"""

from __future__ import annotations

import platform
import sys
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mmdbm as mm
from mmdbm.params import edge_key
from mmdbm.training.loop import FIT_MEAN_FIELD_STEPS, default_estimator
from mmdbm.training.optimizer import (
    FIT_UNIT_RATES,
    WEIGHT_DECAY,
    scale_by_unit_rates,
    weights_only,
)

sys.path.insert(0, str(Path(__file__).parent))
import command_line  # the --size and --output these benchmarks share
import quality  # the paired datasets, probes and scores of the quality benchmark

SIZES = {
    "tiny": {"quality": "tiny", "epochs": 2, "mnist_epochs": 1},
    "full": {"quality": "full", "epochs": 50, "mnist_epochs": 30},
}
MAX_NORM = 3.0
VARIANTS = (
    "default",
    "no decay",
    "max-norm",
    "momentum 0.5",
    "10 mean-field sweeps",
    "30 mean-field sweeps",
    "Adam for count layers",
)
MEAN_FIELD_SWEEPS = {"10 mean-field sweeps": 10, "30 mean-field sweeps": 30}
COUNT_LAYER_ADAM_RATE = 1e-3


def max_norm(limit: float) -> optax.GradientTransformation:
    """Change the update of every weight matrix so that, after it, no column (one hidden
    unit's incoming weights) has an L2 norm above ``limit``: the projection onto that set.
    Put it last in a chain; it needs the parameters."""

    def update(updates: mm.Params, state, params: mm.Params):
        def project(weights: jax.Array, step: jax.Array) -> jax.Array:
            moved = weights + step
            norms = jnp.linalg.norm(moved, axis=0, keepdims=True)
            return moved * jnp.minimum(1.0, limit / jnp.maximum(norms, 1e-12)) - weights

        projected = jax.tree.map(project, params.weights, updates.weights)
        return updates.replace(weights=projected), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def optimizer(variant: str, num_steps: int, model: mm.Model) -> optax.GradientTransformation:
    """``mm.default_optimizer`` with one setting changed (see the module doc)."""
    if variant == "default" or variant in MEAN_FIELD_SWEEPS:
        return mm.default_optimizer(num_steps, model=model)
    if variant == "no decay":
        return mm.default_optimizer(num_steps, weight_decay=0.0, model=model)
    if variant == "max-norm":
        return optax.chain(
            mm.default_optimizer(num_steps, weight_decay=0.0, model=model), max_norm(MAX_NORM)
        )
    if variant == "momentum 0.5":
        return mm.default_optimizer(num_steps, final_momentum=0.5, model=model)
    if variant == "Adam for count layers":
        return count_layers_by_adam(num_steps, model)
    raise ValueError(f"unknown variant {variant!r}")


def count_layers_by_adam(num_steps: int, model: mm.Model) -> optax.GradientTransformation:
    """Adam for the parameters of Replicated Softmax layers, ``mm.default_optimizer`` for the
    others; both followed by its unit-type rate factors (Adam's rate is divided by the
    Replicated Softmax factor so that those parameters move at ``COUNT_LAYER_ADAM_RATE``)."""

    def is_count(name: str) -> bool:
        return isinstance(model.layers[name], mm.ReplicatedSoftmax)

    labels = mm.Params(
        weights={
            edge_key(a, b): "count" if is_count(a) or is_count(b) else "other"
            for a, b in model.edges
        },
        biases={
            name: "count" if is_count(model.count_layer_of.get(name, name)) else "other"
            for name in model.layers
        },
        log_sigma={
            name: "other" for name, unit in model.layers.items() if isinstance(unit, mm.Gaussian)
        },
    )
    rate = COUNT_LAYER_ADAM_RATE / FIT_UNIT_RATES["ReplicatedSoftmax"]
    adam = optax.chain(
        optax.add_decayed_weights(WEIGHT_DECAY, mask=weights_only),
        optax.scale_by_adam(),
        optax.scale_by_learning_rate(optax.linear_schedule(rate, 0.0, num_steps)),
    )
    return optax.chain(
        optax.multi_transform(
            {"count": adam, "other": mm.default_optimizer(num_steps)},
            lambda params: labels.replace(lengths=params.lengths),
        ),
        scale_by_unit_rates(model, FIT_UNIT_RATES),
    )


def trained(key, model, data, epochs, batch_size, variant, pretrain_options=None):
    """Default pretraining, then ``fit`` with the variant's optimizer; params and history."""
    params = mm.pretrain(key, model, data, progress=False, **(pretrain_options or {}))
    steps = epochs * (len(next(iter(data.values()))) // batch_size)
    sweeps = MEAN_FIELD_SWEEPS.get(variant, FIT_MEAN_FIELD_STEPS)
    estimator = default_estimator(model, num_mean_field_steps=sweeps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.CollapseWarning)
        return mm.fit(
            jax.random.fold_in(key, 1),
            model,
            data,
            params=params,
            optimizer=optimizer(variant, steps, model),
            estimator=estimator,
            num_epochs=epochs,
            batch_size=batch_size,
            progress=False,
        )


def multimodal_row(dataset: dict, variant: str, epochs: int) -> dict:
    query, other = dataset["query"], dataset["other"]
    train, test = dataset["train"], dataset["test"]
    model = quality.paired_model(dataset)
    data = {query: train[query], other: train[other]}
    params, history = trained(
        jax.random.key(10), model, data, epochs, quality.MULTIMODAL_BATCH, variant
    )
    labels = {"train": train["labels"], "test": test["labels"]}

    def features(modalities):
        return {
            split: mm.represent(model, params, {m: values[m] for m in modalities})
            for split, values in (("train", train), ("test", test))
        }

    both = features((query, other))
    generated = mm.infer_missing(jax.random.key(12), model, params, {query: test[query]})[other]
    score, floor, ceiling = quality.generation_score(dataset, np.asarray(generated))
    row = {
        "dataset": dataset["name"],
        "variant": variant,
        "joint": quality.probe(both, labels),
        "query_only": quality.probe(features((query,)), labels),
        "joint_spread": float(np.asarray(both["test"]).std(axis=0).mean()),
        "gap_closed": quality.gap_closed(score, floor, ceiling),
        "mean_field_change": history[-1]["mean_field_change"],
    }
    if dataset["count"]:
        row["expected_gap_closed"] = quality.gap_closed(
            *quality.expected_tag_scores(dataset, np.asarray(generated))
        )
    print(
        f"  {row['dataset']}, {variant}: joint {row['joint']:.3f}, query only "
        f"{row['query_only']:.3f}, spread {row['joint_spread']:.3f}, gap closed "
        f"{row['gap_closed']:.2f}, mean-field change {row['mean_field_change']:.1e}",
        flush=True,
    )
    return row


def mnist_row(s: dict, variant: str, epochs: int) -> dict:
    q = quality.SIZES[s["quality"]]
    train, test = quality.binarised_digits(q["rows"])
    model = mm.dbm(mm.Bernoulli(784), list(q["hidden"]))
    params, history = trained(
        jax.random.key(1), model, {"v": train}, epochs, quality.MNIST_BATCH, variant
    )
    scores = quality.test_log_likelihood(
        jax.random.key(3), model, params, train, test, chains=q["chains"], betas=q["betas"]
    )
    row = {
        "dataset": "MNIST DBM",
        "variant": variant,
        "epochs": epochs,
        **scores,
        "mean_field_change": history[-1]["mean_field_change"],
    }
    print(
        f"  MNIST DBM, {variant}, {epochs} epochs: {scores['test_log_likelihood']:.2f}", flush=True
    )
    return row


def print_table(rows: list[dict]) -> None:
    print(
        "\n| dataset | setting | joint | query only | joint spread | gap closed (tags: expected "
        "/ P@5) | MF change |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["dataset"] == "MNIST DBM":
            continue
        closed = f"{r['gap_closed']:.2f}"
        if "expected_gap_closed" in r:
            closed = f"{r['expected_gap_closed']:.2f} / {closed}"
        print(
            f"| {r['dataset']} | {r['variant']} | {r['joint']:.3f} | {r['query_only']:.3f} | "
            f"{r['joint_spread']:.3f} | {closed} | {r['mean_field_change']:.1e} |"
        )
    print(
        "\n| MNIST DBM 784-500-1000, pretrained | epochs | test log-likelihood | ESS | MF change |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        if r["dataset"] == "MNIST DBM":
            print(
                f"| {r['variant']} | {r['epochs']} | {r['test_log_likelihood']:.2f} | "
                f"{r['effective_sample_size']:.1f} | {r['mean_field_change']:.1e} |"
            )


PARTS = ("multimodal", "mnist")


def main(
    size: str,
    output: Path | None,
    variants: tuple[str, ...] = VARIANTS,
    parts: tuple[str, ...] = PARTS,
    mnist_epochs: tuple[int, ...] | None = None,
) -> list[dict]:
    s = SIZES[size]
    print(f"machine: {platform.machine()}, JAX {jax.__version__} on {jax.devices()}")
    rows = []
    if "multimodal" in parts:
        datasets = quality.paired_datasets(quality.SIZES[s["quality"]])
        rows += [
            multimodal_row(dataset, variant, s["epochs"])
            for dataset in datasets
            for variant in variants
        ]
    if "mnist" in parts:
        rows += [
            mnist_row(s, variant, epochs)
            for epochs in mnist_epochs or (s["mnist_epochs"],)
            for variant in variants
        ]
    print_table(rows)
    command_line.write_rows(rows, output)
    return rows


if __name__ == "__main__":
    parser = command_line.size_and_output_parser(__doc__, SIZES)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated variants to run"
    )
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts to run")
    parser.add_argument(
        "--mnist-epochs", default=None, help="comma-separated budgets of the MNIST DBM"
    )
    arguments = parser.parse_args()
    variants, parts = (tuple(value.split(",")) for value in (arguments.variants, arguments.parts))
    budgets = arguments.mnist_epochs and tuple(int(e) for e in arguments.mnist_epochs.split(","))
    main(arguments.size, arguments.output, variants, parts, budgets)
