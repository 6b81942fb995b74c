"""What a training run was started with, kept in its work directory, so that a resumed run is
the same run: ``fit(..., resume=True)`` with other settings is refused, naming what differs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from mmdbm.graph import Model
from mmdbm.training.estimators import GradientEstimator

RUN_FILE = "run.json"


def data_fingerprint(values: Any) -> str:
    """SHA-256 (hex) of an array's shape, dtype and bytes."""
    values = np.ascontiguousarray(values)
    digest = hashlib.sha256(f"{values.shape}{values.dtype.str}".encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


def _described(value: Any) -> str:
    """``repr`` without memory addresses, so that it is the same in every process."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def run_settings(
    rng_key: jax.Array,
    model: Model,
    data: Mapping[str, Any],
    *,
    estimator: GradientEstimator,
    opt_state: Any,
    batch_size: int,
    num_chains: int,
    chain_start: str,
    lengths: Mapping[str, int] | None,
) -> dict[str, Any]:
    """The settings that make a run what it is, as JSON-serialisable values. The optimizer
    is recorded by the structure of its state (its hyperparameters live in closures)."""
    return {
        "model": _described(model),
        "data": {name: data_fingerprint(values) for name, values in sorted(data.items())},
        "rng_key": np.asarray(jax.random.key_data(rng_key)).tolist(),
        "estimator": _described(estimator),
        "optimizer": _described(jax.tree.structure(opt_state)),
        "batch_size": batch_size,
        "num_chains": num_chains,
        "chain_start": chain_start,
        "lengths": None if lengths is None else dict(sorted(lengths.items())),
    }


def record(workdir: Path, settings: dict[str, Any]) -> None:
    """Write ``settings`` to ``workdir/run.json`` (atomically)."""
    temporary = workdir / (RUN_FILE + ".tmp")
    temporary.write_text(json.dumps(settings, indent=1))
    temporary.replace(workdir / RUN_FILE)


def check_resumable(workdir: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume the run in ``workdir`` with other ``settings`` than it was started
    with; a run recorded before records existed is recorded now.

    Raises:
      ValueError: naming every setting that differs.
    """
    path = workdir / RUN_FILE
    if not path.exists():
        record(workdir, settings)
        return
    try:
        recorded = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not readable JSON ({error}); it records the run") from None
    differing = [key for key in settings if recorded.get(key) != settings[key]]
    if differing:
        details = "; ".join(
            f"{key} differs"
            if key in ("model", "data", "estimator", "optimizer", "rng_key")
            else f"{key} was {recorded.get(key)!r}, now {settings[key]!r}"
            for key in differing
        )
        raise ValueError(
            f"cannot resume the run in {workdir} with other settings ({details}); "
            "resume with the settings it was started with, or start a new run in another workdir"
        )
