"""``fit``: the training loop with progress bar, metrics, checkpoints, resume and a guard."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from mmdbm.checkpoint import Checkpoints
from mmdbm.graph import Model
from mmdbm.params import Params
from mmdbm.training.estimators import GradientEstimator, pcd
from mmdbm.training.optimizer import default_optimizer
from mmdbm.training.state import TrainState, train_epoch
from mmdbm.validation import check_layers, check_lengths, check_params, sampled_count_layers

Array = jax.Array

METRICS_FILE = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoints"


class TrainingDivergedError(FloatingPointError):
    """Training produced non-finite parameters."""


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_data(model: Model, data: Mapping[str, Array], batch_size: int) -> dict[str, Array]:
    if isinstance(data, Mapping):
        missing = [name for name in model.visible if name not in data]
        if missing:
            raise ValueError(
                f"data: visible layers {missing} are missing; fit needs every visible layer "
                f"(got {list(data)})"
            )
        hidden = [name for name in data if name in model.layers and name not in model.visible]
        if hidden:
            raise ValueError(f"data: layers {hidden} are hidden layers of the model, not data")
    data = check_layers(model, data, what="data", batched=True)
    num_examples = next(iter(data.values())).shape[0]
    if batch_size > num_examples:
        raise ValueError(f"batch_size={batch_size} is larger than the {num_examples} examples")
    return data


def _read_history(path: Path, last_epoch: int) -> list[dict]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [entry for entry in lines if entry["epoch"] <= last_epoch]


def _write_history(path: Path, history: list[dict]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(json.dumps(entry) + "\n" for entry in history))
    temporary.replace(path)


def fit(
    rng_key: Array,
    model: Model,
    data: Mapping[str, Array],
    *,
    optimizer: optax.GradientTransformation | None = None,
    num_epochs: int,
    batch_size: int,
    estimator: GradientEstimator | None = None,
    params: Params | None = None,
    num_chains: int = 100,
    lengths: Mapping[str, int] | None = None,
    workdir: str | Path | None = None,
    checkpoint_every: int = 1,
    max_checkpoints: int = 3,
    resume: bool = False,
    progress: bool = True,
) -> tuple[Params, list[dict]]:
    """Train ``model`` on ``data`` and return the parameters and the per-epoch history.

    Each epoch is one compiled ``lax.scan`` over shuffled minibatches of the data, which is put
    on the device once. After each epoch the metrics (mean reconstruction error, largest
    mean-field change, seconds) are appended to the history and, with a ``workdir``, to
    ``workdir/metrics.jsonl``; every ``checkpoint_every`` epochs the whole training state is
    saved under ``workdir/checkpoints`` (the newest ``max_checkpoints`` kept).

    Args:
      rng_key: a JAX PRNG key; the run is a deterministic function of it.
      model: the model.
      data: ``{visible layer: Array[num_examples, n]}`` for every visible layer.
      optimizer: an Optax transformation (default: ``default_optimizer`` over the whole run).
      num_epochs: total number of epochs (a resumed run continues up to this number).
      batch_size: examples per update.
      estimator: the gradient estimator (default: ``pcd(model)``).
      params: initial parameters (default: ``model.init(key, data)``).
      num_chains: persistent chains of the estimator.
      lengths: total counts M for the chains' Replicated Softmax layers (default: the mean
        document length stored by ``model.init``).
      workdir: where metrics and checkpoints go; ``None`` keeps nothing on disk.
      checkpoint_every: epochs between checkpoints (the last epoch is always saved).
      max_checkpoints: how many checkpoints to keep.
      resume: continue from the newest checkpoint in ``workdir``. Without it, a ``workdir``
        that already holds checkpoints is refused rather than overwritten.
      progress: show a progress bar.

    Raises:
      ValueError: for bad arguments, before anything is compiled.
      TrainingDivergedError: when the parameters become non-finite; the message names the
        step, and the checkpoints of earlier epochs are kept.
    """
    num_epochs = _positive_int("num_epochs", num_epochs)
    batch_size = _positive_int("batch_size", batch_size)
    checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
    data = _check_data(model, data, batch_size)
    if resume and workdir is None:
        raise ValueError("resume=True needs the workdir of the run to resume")
    init_key, state_key = jax.random.split(rng_key)
    params = model.init(init_key, data) if params is None else params
    check_params(model, params)
    check_lengths(model, params, lengths, sampled_count_layers(model, {}))
    estimator = pcd(model) if estimator is None else estimator
    steps_per_epoch = next(iter(data.values())).shape[0] // batch_size
    optimizer = default_optimizer(num_epochs * steps_per_epoch) if optimizer is None else optimizer
    state = TrainState.create(
        state_key, params, optimizer, estimator, num_chains=num_chains, lengths=lengths
    )

    history, first_epoch, checkpoints, metrics_path = [], 1, None, None
    if workdir is not None:
        workdir = Path(workdir)
        metrics_path = workdir / METRICS_FILE
        checkpoints = Checkpoints(workdir / CHECKPOINT_DIR, max_to_keep=max_checkpoints)
        latest = checkpoints.latest_epoch()
        if latest is not None and not resume:
            raise ValueError(
                f"{checkpoints.directory} already holds checkpoints (epochs "
                f"{list(checkpoints.epochs())}); pass resume=True to continue that run or "
                "choose another workdir"
            )
        if latest is None:
            checkpoints.save(0, state)
        else:
            state = checkpoints.restore(latest, state)
            history = _read_history(metrics_path, latest)
            first_epoch = latest + 1

    try:
        bar = tqdm(
            range(first_epoch, num_epochs + 1),
            desc="training",
            unit="epoch",
            disable=not progress,
            initial=first_epoch - 1,
            total=num_epochs,
        )
        for epoch in bar:
            start = time.perf_counter()
            first_step = int(state.step)
            state, infos, finite = train_epoch(
                state, data, estimator=estimator, optimizer=optimizer, batch_size=batch_size
            )
            finite = np.asarray(finite)
            if not finite.all():
                bad_step = first_step + int(np.argmin(finite)) + 1
                kept = (
                    f"; the checkpoints of epochs {list(checkpoints.epochs())} in "
                    f"{checkpoints.directory} are kept"
                    if checkpoints is not None
                    else ""
                )
                raise TrainingDivergedError(
                    f"training diverged: the parameters became non-finite at step {bad_step} "
                    f"(epoch {epoch}){kept}. Lower the learning rate."
                )
            entry = {
                "epoch": epoch,
                "step": int(state.step),
                "reconstruction_error": float(jnp.mean(infos.reconstruction_error)),
                "mean_field_change": float(jnp.max(infos.mean_field_change)),
                "seconds": time.perf_counter() - start,
            }
            history.append(entry)
            bar.set_postfix(
                reconstruction_error=f"{entry['reconstruction_error']:.4f}", refresh=False
            )
            if checkpoints is not None:
                _write_history(metrics_path, history)
                if epoch % checkpoint_every == 0 or epoch == num_epochs:
                    checkpoints.save(epoch, state)
    finally:
        if checkpoints is not None:
            checkpoints.close()
    return state.params, history
