"""``fit``: the training loop with progress bar, metrics, checkpoints, resume and a guard."""

from __future__ import annotations

import contextlib
import json
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh
from tqdm.auto import tqdm

from mmdbm import distributed
from mmdbm.checkpoint import Checkpoints
from mmdbm.graph import Model
from mmdbm.inference.gibbs import shard_chains
from mmdbm.params import Params
from mmdbm.training.estimators import EstimatorInfo, GradientEstimator, pcd
from mmdbm.training.optimizer import default_optimizer
from mmdbm.training.run_record import RUN_FILE, check_resumable, record, run_settings
from mmdbm.training.state import TrainingDivergedError, TrainState, train_epoch, unsoundness
from mmdbm.validation import (
    check_count,
    check_lengths,
    check_params,
    check_training_data,
    sampled_count_layers,
)
from mmdbm.workdir_lock import owned

Array = jax.Array

METRICS_FILE = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoints"


@contextlib.contextmanager
def _run_directory(
    workdir: str | Path | None, max_checkpoints: int
) -> Iterator[Checkpoints | None]:
    """The run's checkpoints, with the work directory held by this process (``None``
    without a workdir)."""
    if workdir is None:
        yield None
        return
    with (
        owned(workdir),
        Checkpoints(Path(workdir) / CHECKPOINT_DIR, max_to_keep=max_checkpoints) as checkpoints,
    ):
        yield checkpoints


def _started_or_resumed(
    workdir: Path,
    checkpoints: Checkpoints,
    state: TrainState,
    settings: dict,
    num_epochs: int,
    resume: bool,
) -> tuple[TrainState, list[dict], int]:
    """``(state, history, epochs done)``: a new run records its settings and saves epoch 0 (a
    run to resume whose checkpoints are all gone starts again, with a warning); a run to resume
    must have been started with the same settings, and continues from its newest intact
    checkpoint with the history saved in it (the metrics file is rewritten from it)."""
    if checkpoints.latest_epoch() is None:
        if resume and (workdir / RUN_FILE).exists():
            warnings.warn(
                f"the run in {workdir} has no checkpoints left; it starts again from epoch 1",
                stacklevel=3,
            )
        record(workdir, settings)
        checkpoints.save(0, state, {"history": []})
        return state, [], 0
    check_resumable(workdir, settings)
    epoch, state = checkpoints.restore_newest(state)
    if epoch > num_epochs:
        raise ValueError(
            f"the run in {workdir} has trained {epoch} epochs, more than num_epochs="
            f"{num_epochs}; resume with num_epochs >= {epoch}"
        )
    history = checkpoints.metadata(epoch).get("history")
    if history is None:  # a checkpoint from before histories were saved with them
        history = _read_history(workdir / METRICS_FILE, epoch)
    return state, history, epoch


def _read_history(path: Path, last_epoch: int) -> list[dict]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [entry for entry in lines if entry["epoch"] <= last_epoch]


def _write_history(path: Path, history: list[dict]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(json.dumps(entry) + "\n" for entry in history))
    temporary.replace(path)


def _divergence_message(
    step: int, epoch: int, problem: str, checkpoints: Checkpoints | None
) -> str:
    kept = (
        f"; the checkpoints of epochs {list(checkpoints.epochs())} in {checkpoints.directory} "
        "are kept"
        if checkpoints is not None
        else ""
    )
    return (
        f"training diverged at step {step} (epoch {epoch}): {problem}{kept}. Lower the learning "
        "rate (and give Gaussian layers standardised data)."
    )


CHAIN_STARTS = ("data", "biases")
# Gibbs steps per update of fit's default estimator: with the papers' 5 the persistent chains
# fall behind the model as its weights grow, and joint training of a multimodal DBM collapses
# its upper layers (on multifeature fac + kar within 15 epochs; benchmarks/collapse.py).
FIT_GIBBS_STEPS = 20
# Mean-field sweeps of fit's default estimator for the data phase: the nearer the data-phase
# means come to their fixed point, the sooner joint training of a multimodal DBM drives its upper
# layers into one saturated state for every input (digits_tags collapses with the papers' 10 on
# four documents an image within 12 epochs, with 5 it does not; benchmarks/tag_documents.py).
# Against 10 and 30, 5 keep the best joint probes on the four paired sets (benchmarks/recipe.py).
FIT_MEAN_FIELD_STEPS = 5
COLLAPSE_SPREAD = 0.01
COLLAPSE_FALL = 10.0


def default_estimator(model: Model, **changes) -> GradientEstimator:
    """``fit``'s default estimator: centered ``pcd`` with ``FIT_GIBBS_STEPS`` Gibbs steps per
    update and ``FIT_MEAN_FIELD_STEPS`` mean-field sweeps, ``changes`` (``pcd``'s keyword
    arguments) overriding them."""
    settings = {
        "num_gibbs_steps": FIT_GIBBS_STEPS,
        "num_mean_field_steps": FIT_MEAN_FIELD_STEPS,
        **changes,
    }
    return pcd(model, **settings)


class CollapseWarning(UserWarning):
    """A hidden layer gives (nearly) every example the same data-phase means."""


def hidden_layer_figures(model: Model, infos: EstimatorInfo) -> dict[str, dict[str, float]]:
    """Per hidden layer, over an epoch's steps: ``activation``, the mean of its data-phase
    means, and ``spread``, their standard deviation across examples averaged over units."""
    hidden = [name for name in model.layers if name not in model.visible]
    return {
        "activation": {name: float(jnp.mean(infos.layer_means[name])) for name in hidden},
        "spread": {name: float(jnp.mean(infos.layer_spread[name])) for name in hidden},
    }


def warn_of_collapse(history: list[dict], warned: bool) -> bool:
    """Warn once per run when a hidden layer has collapsed: its spread was at least
    ``COLLAPSE_SPREAD`` at an earlier epoch of the run and is now below it and below a
    ``COLLAPSE_FALL``-th of that peak (a layer whose small initial spread has yet to grow, or
    one that hovers near the threshold, has not collapsed). Returns whether the run was warned."""
    entry = history[-1]
    collapsed = {}
    for name, spread in entry["spread"].items():
        peak = max(
            (earlier.get("spread", {}).get(name, 0.0) for earlier in history[:-1]), default=0
        )
        if peak >= COLLAPSE_SPREAD and spread < min(COLLAPSE_SPREAD, peak / COLLAPSE_FALL):
            collapsed[name] = (spread, peak)
    if collapsed and not warned:
        figures = ", ".join(
            f"'{name}' {spread:.2g} (from {peak:.2g})" for name, (spread, peak) in collapsed.items()
        )
        warnings.warn(
            f"epoch {entry['epoch']}: hidden layers collapsed to one representation for every "
            f"input (the spread of their data-phase means across examples fell to {figures}, "
            f"below {COLLAPSE_SPREAD}). Lower the learning rate, or keep centering on",
            CollapseWarning,
            stacklevel=3,
        )
    return warned or bool(collapsed)


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
    chain_start: str = "data",
    lengths: Mapping[str, int] | None = None,
    workdir: str | Path | None = None,
    checkpoint_every: int = 1,
    max_checkpoints: int = 3,
    resume: bool = False,
    progress: bool = True,
    mesh: Mesh | None = None,
) -> tuple[Params, list[dict]]:
    """Train ``model`` on ``data`` and return the parameters and the per-epoch history.

    Each epoch is one compiled ``lax.scan`` over shuffled minibatches of the data, which is put
    on the device once. After each epoch the metrics (mean reconstruction error, largest
    mean-field change, seconds) are appended to the history and, with a ``workdir``, to
    ``workdir/metrics.jsonl``, with each hidden layer's mean ``activation`` and the ``spread``
    of its data-phase means across examples (a ``CollapseWarning`` when one falls below
    ``COLLAPSE_SPREAD``: the layer gives every input nearly the same representation); every
    ``checkpoint_every`` epochs the whole training state is saved under
    ``workdir/checkpoints`` (the newest ``max_checkpoints`` kept).

    Args:
      rng_key: a JAX PRNG key; the run is a deterministic function of it.
      model: the model.
      data: ``{visible layer: Array[num_examples, n]}`` for every visible layer.
      optimizer: an Optax transformation (default: ``default_optimizer`` over the whole run,
        its rates scaled by unit type).
      num_epochs: total number of epochs (a resumed run continues up to this number).
      batch_size: examples per update.
      estimator: the gradient estimator (default: ``default_estimator(model)``, that is
        ``pcd(model, num_gibbs_steps=20, num_mean_field_steps=5)``, centered:
        ``FIT_GIBBS_STEPS`` Gibbs steps per update keep the chains up with a deep model, and
        ``FIT_MEAN_FIELD_STEPS`` mean-field sweeps keep the upper layers of a multimodal DBM
        from saturating; pass ``default_estimator(model, centering=False)`` for plain
        gradients).
      params: initial parameters (default: ``model.init(key, data)``).
      num_chains: persistent chains of the estimator.
      chain_start: ``"data"`` starts the chains at training examples (``stratified_rows``:
        their documents keep their own lengths, so the chains' lengths follow the data's),
        ``"biases"`` draws them from the biases alone, every document of the length in
        ``lengths``.
      lengths: with ``chain_start="biases"``, the total counts M for the chains' Replicated
        Softmax layers (default: the mean document length stored by ``model.init``).
      workdir: where metrics, checkpoints and the run's settings (``run.json``) go; ``None``
        keeps nothing on disk. It is held by this process until ``fit`` returns
        (``mmdbm.workdir_lock``): another process or thread is refused.
      checkpoint_every: epochs between checkpoints (the last epoch is always saved).
      max_checkpoints: how many checkpoints to keep.
      resume: continue from the newest intact checkpoint in ``workdir`` (a damaged newer
        one is skipped with a warning). The run must be given the settings it was started
        with (``mmdbm.training.run_record``; other ones are refused, naming what differs);
        a larger ``num_epochs`` extends it. Without ``resume``, a ``workdir`` that already
        holds checkpoints is refused rather than overwritten.
      progress: show a progress bar.
      mesh: a device mesh (``mmdbm.distributed.data_mesh()``): minibatches and persistent
        chains are split over its devices, parameters replicated. ``batch_size`` and
        ``num_chains`` must be multiples of its size.

    Raises:
      ValueError: for bad arguments, before anything is compiled; ``WorkdirBusyError`` (a
        ``ValueError``) when another run holds ``workdir``.
      TrainingDivergedError: when a step is not sound (``mmdbm.training.state.is_sound``:
        a non-finite number in the state or the reconstruction error, a weight beyond
        ``WEIGHT_BOUND`` or a log sigma beyond ``LOG_SIGMA_BOUND``); the message names the step
        and the problem, and the checkpoints of earlier epochs are kept.
    """
    num_epochs = check_count("num_epochs", num_epochs)
    checkpoint_every = check_count("checkpoint_every", checkpoint_every)
    data = check_training_data(model, data, batch_size)
    if mesh is not None:
        distributed.check_divisible("batch_size", batch_size, mesh)
        distributed.check_divisible("num_chains", num_chains, mesh)
    if resume and workdir is None:
        raise ValueError("resume=True needs the workdir of the run to resume")
    if chain_start not in CHAIN_STARTS:
        raise ValueError(f"chain_start must be one of {CHAIN_STARTS}, got {chain_start!r}")
    if lengths is not None and chain_start == "data":
        raise ValueError(
            "lengths sets the chains' document lengths, but chains started at the data keep "
            'the lengths of their documents: pass chain_start="biases" with lengths'
        )
    with _run_directory(workdir, max_checkpoints) as checkpoints:
        if checkpoints is not None and checkpoints.latest_epoch() is not None and not resume:
            raise ValueError(
                f"{checkpoints.directory} already holds checkpoints (epochs "
                f"{list(checkpoints.epochs())}); pass resume=True to continue that run or "
                "choose another workdir"
            )
        init_key, state_key = jax.random.split(rng_key)
        params = model.init(init_key, data) if params is None else params
        check_params(model, params)
        check_lengths(model, params, lengths, sampled_count_layers(model, {}))
        estimator = default_estimator(model) if estimator is None else estimator
        steps_per_epoch = next(iter(data.values())).shape[0] // batch_size
        if optimizer is None:
            optimizer = default_optimizer(num_epochs * steps_per_epoch, model=model)
        state = TrainState.create(
            state_key,
            params,
            optimizer,
            estimator,
            num_chains=num_chains,
            lengths=lengths,
            data=data if chain_start == "data" else None,
        )
        history, first_epoch, warned = [], 1, False
        if checkpoints is not None:
            settings = run_settings(
                rng_key,
                model,
                data,
                estimator=estimator,
                opt_state=state.opt_state,
                batch_size=batch_size,
                num_chains=num_chains,
                chain_start=chain_start,
                lengths=lengths,
            )
            state, history, done = _started_or_resumed(
                Path(workdir), checkpoints, state, settings, num_epochs, resume
            )
            first_epoch = done + 1

        batch_sharding = None
        if mesh is not None:
            state = distributed.replicate(state, mesh).replace(
                chains=shard_chains(state.chains, mesh)
            )
            data = distributed.replicate(data, mesh)
            batch_sharding = distributed.sharded(mesh)
        epochs = range(first_epoch, num_epochs + 1)
        with tqdm(
            epochs,
            desc="training",
            unit="epoch",
            disable=not progress,
            initial=first_epoch - 1,
            total=num_epochs,
        ) as bar:
            for epoch in bar:
                start = time.perf_counter()
                first_step = int(state.step)
                state, infos, sound = train_epoch(
                    state,
                    data,
                    estimator=estimator,
                    optimizer=optimizer,
                    batch_size=batch_size,
                    batch_sharding=batch_sharding,
                )
                sound = np.asarray(sound)
                if not sound.all():
                    step = first_step + int(np.argmin(sound)) + 1
                    problem = unsoundness(state, infos)
                    raise TrainingDivergedError(
                        _divergence_message(step, epoch, problem, checkpoints)
                    )
                history.append(
                    {
                        "epoch": epoch,
                        "step": int(state.step),
                        "reconstruction_error": float(jnp.mean(infos.reconstruction_error)),
                        "mean_field_change": float(jnp.max(infos.mean_field_change)),
                        **hidden_layer_figures(model, infos),
                        "seconds": time.perf_counter() - start,
                    }
                )
                warned = warn_of_collapse(history, warned)
                bar.set_postfix(
                    reconstruction_error=f"{history[-1]['reconstruction_error']:.4f}", refresh=False
                )
                if checkpoints is not None:
                    _write_history(Path(workdir) / METRICS_FILE, history)
                    if epoch % checkpoint_every == 0 or epoch == num_epochs:
                        checkpoints.save(epoch, state, {"history": history})
    return state.params, history
