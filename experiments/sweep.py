"""Sweeps: a grid of configs over seeds and hyperparameters, trained as vmapped programs.

Runs that differ only in their seed and PCD learning rate have the same shapes, so they train
together as one compiled program with a leading run axis (``mm.train_epoch_many``: vmapped on
accelerators, in turn on CPUs): each seed brings its own split, initialisation, pretraining
and chains, and the learning rate lives in the optimiser state. Runs that differ in anything
else form separate groups. The result is one table of mean +- std over seeds.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from tqdm.auto import tqdm

import mmdbm as mm
from experiments import evaluate, pipeline
from experiments.config import check_config, override, parse_value
from mmdbm.checkpoint import Checkpoints
from mmdbm.training.state import all_finite
from mmdbm.workdir_lock import LOCK_FILE, owned

VMAPPED = ("seed", "train.learning_rate")
SWEEP_TABLE, SWEEP_RESULTS = "sweep.md", "sweep.json"


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["train.learning_rate=0.01,0.001"]`` -> ``{"train.learning_rate": [0.01, 0.001]}``."""
    grid = {}
    for item in items:
        key, _, values = item.partition("=")
        if not key or not values:
            raise ValueError(f"--grid {item!r} must look like KEY=VALUE1,VALUE2")
        grid[key] = [parse_value(v) for v in values.split(",")]
    return grid


def expand(
    config: ml_collections.ConfigDict, seeds: list[int], grid: dict[str, list]
) -> list[tuple[dict, ml_collections.ConfigDict]]:
    """Every ``(settings, config)`` of the grid, for every seed; bad keys or values raise."""
    if not seeds:
        raise ValueError("a sweep needs at least one seed")
    runs = []
    for values in itertools.product(*grid.values()):
        for seed in seeds:
            run = ml_collections.ConfigDict(config.to_dict())
            run.lock()
            settings = dict(zip(grid, values, strict=True))
            for key, value in {**settings, "seed": seed}.items():
                override(run, f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}")
            runs.append((settings, run))
    return runs


def _shape_key(config: ml_collections.ConfigDict) -> str:
    """What must agree for runs to be vmapped together: everything but ``VMAPPED``."""
    fields = config.to_dict()
    fields.pop("seed")
    fields["train"].pop("learning_rate")
    return json.dumps(fields, sort_keys=True)


def train_together(
    configs: list[ml_collections.ConfigDict], *, progress: bool = True
) -> tuple[list[pipeline.Experiment], list[mm.Params]]:
    """Train runs of one shape as one vmapped program; a run that diverges ends with
    non-finite parameters while the others go on.

    Each run's training rows are cut to the fewest any run has, so that they stack.

    Returns:
      The prepared experiment of each run and its trained parameters.
    """
    experiments = [pipeline.prepare(c) for c in configs]
    inputs = [e.inputs("train") for e in experiments]
    num_rows = min(len(next(iter(d.values()))) for d in inputs)
    inputs = [{k: v[:num_rows] for k, v in d.items()} for d in inputs]
    first = experiments[0]
    t = first.config.train
    estimator = pipeline.estimator_of(first)
    optimizer = optax.chain(
        mm.default_optimizer(
            pipeline.steps_of(first.config, num_rows),
            learning_rate=1.0,
            weight_decay=t.weight_decay,
        ),
        optax.inject_hyperparams(optax.scale)(step_size=1.0),
    )
    states = []
    for experiment, data in zip(experiments, inputs, strict=True):
        config = experiment.config
        params = pipeline.pretrained(experiment, data, progress=False)
        state = mm.TrainState.create(
            jax.random.fold_in(jax.random.key(config.seed), 1),
            params,
            optimizer,
            estimator,
            num_chains=t.num_chains,
            data=data,
        )
        rate = jnp.asarray(config.train.learning_rate, jnp.float32)
        states.append(
            state.replace(opt_state=optax.tree_utils.tree_set(state.opt_state, step_size=rate))
        )
    state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)
    data = {k: jnp.stack([d[k] for d in inputs]) for k in inputs[0]}
    for _ in tqdm(
        range(t.num_epochs),
        desc=f"training {len(configs)} runs",
        unit="epoch",
        disable=not progress,
    ):
        state, _, _ = mm.train_epoch_many(
            state, data, estimator=estimator, optimizer=optimizer, batch_size=t.batch_size
        )
    return experiments, [
        jax.tree.map(lambda leaf, i=i: leaf[i], state.params) for i in range(len(configs))
    ]


def run_sweep(
    config: ml_collections.ConfigDict,
    seeds: list[int],
    grid: dict[str, list],
    workdir: str | Path,
    *,
    progress: bool = True,
) -> str:
    """Train and score every run of the grid; write each run's config and parameters to
    ``workdir/run-NNN``, the per-run numbers to ``sweep.json`` and the table (mean +- std
    over seeds) to ``sweep.md``; return the table."""
    workdir = Path(workdir)
    runs = expand(config, seeds, grid)
    for _, run in runs:
        check_config(run)
    with owned(workdir):
        if any(path.name != LOCK_FILE for path in workdir.iterdir()):
            raise ValueError(f"{workdir} is not empty; choose another workdir for the sweep")
        return _swept(runs, list(grid), workdir, progress=progress)


def _swept(
    runs: list[tuple[dict, ml_collections.ConfigDict]],
    grid_keys: list[str],
    workdir: Path,
    *,
    progress: bool,
) -> str:
    groups: dict[str, list[int]] = {}
    for index, (_, run) in enumerate(runs):
        groups.setdefault(_shape_key(run), []).append(index)
    records = [None] * len(runs)
    for members in groups.values():
        experiments, trained = train_together([runs[i][1] for i in members], progress=progress)
        for index, experiment, params in zip(members, experiments, trained, strict=True):
            settings, run = runs[index]
            run_dir = workdir / f"run-{index:03d}"
            run_dir.mkdir(parents=True)
            (run_dir / pipeline.CONFIG_FILE).write_text(run.to_json(indent=2))
            with Checkpoints(run_dir / pipeline.PARAMS_DIR, max_to_keep=1) as saved:
                saved.save(run.train.num_epochs, params)
            finite = bool(all_finite(params))
            numbers = evaluate.summary(experiment, params) if finite else {}
            records[index] = {
                "run": run_dir.name,
                "seed": run.seed,
                "settings": settings,
                "diverged": not finite,
                **numbers,
            }
    (workdir / SWEEP_RESULTS).write_text(json.dumps(records, indent=2))
    table = sweep_table(records, grid_keys)
    (workdir / SWEEP_TABLE).write_text(table)
    return table


def sweep_table(records: list[dict], keys: list[str]) -> str:
    """Markdown: one row per setting of the grid, each number as mean +- std over seeds."""
    metrics = sorted({k for r in records for k in r} - {"run", "seed", "settings", "diverged"})
    rows: dict[str, list[dict]] = {}
    for record in records:
        rows.setdefault(json.dumps(record["settings"], sort_keys=True), []).append(record)
    lines = [
        "| " + " | ".join([*keys, "seeds", "diverged", *metrics]) + " |",
        "|" + "---|" * (len(keys) + 2 + len(metrics)),
    ]
    for group in rows.values():
        cells = [str(group[0]["settings"][k]) for k in keys]
        cells += [str(len(group)), str(sum(r["diverged"] for r in group))]
        for metric in metrics:
            values = np.array([r[metric] for r in group if metric in r])
            cells.append(f"{values.mean():.3f} +- {values.std():.3f}" if len(values) else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
