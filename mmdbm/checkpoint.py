"""Checkpoints of training state through Orbax: the only module that imports Orbax.

A checkpoint directory holds one sub-directory per saved epoch. Orbax writes each into a
temporary directory and renames it when complete, so a checkpoint is either whole or absent;
the newest ``max_to_keep`` are kept. Typed PRNG keys are stored as their raw key data. Beside
the arrays (Orbax item ``default``) each checkpoint holds a JSON item ``checksum``: the SHA-256
of the arrays' shapes, dtypes and bytes, and the caller's metadata. Restoring verifies it, so a
damaged checkpoint is refused rather than restored; ``restore_newest`` then falls back to the
newest intact one. Checkpoints written before checksums existed are restored unverified.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from mmdbm.validation import check_count

ARRAYS = "default"
CHECKSUM = "checksum"


class CorruptCheckpointError(ValueError):
    """A checkpoint could not be read back, or its arrays do not match their checksum."""


def _is_typed_key(leaf: Any) -> bool:
    return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _to_storable(tree: Any) -> Any:
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_typed_key(x) else x, tree)


def checksum(tree: Any) -> str:
    """The SHA-256 (hex) of a pytree's leaves: their shapes, dtypes and bytes, in leaf order."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(_to_storable(tree)):
        values = np.ascontiguousarray(leaf)
        digest.update(f"{values.shape}{values.dtype.str}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def _leaf_shapes(storable: Any) -> dict[str, str]:
    """``{leaf path: "dtype[shape]"}`` of a pytree in stored form whose leaves have a shape and
    a dtype (arrays, or the ``ShapeDtypeStruct``s of a restore: nothing is copied)."""
    leaves = jax.tree_util.tree_flatten_with_path(storable)[0]
    return {
        jax.tree_util.keystr(path): f"{np.dtype(leaf.dtype).name}{list(leaf.shape)}"
        for path, leaf in leaves
    }


def _from_storable(stored: Any, template: Any) -> Any:
    return jax.tree.map(
        lambda x, t: (
            jax.random.wrap_key_data(x, impl=jax.random.key_impl(t)) if _is_typed_key(t) else x
        ),
        stored,
        template,
    )


class Checkpoints:
    """Saves and restores pytrees by epoch number in one directory.

    Args:
      directory: where the checkpoints live (created if absent).
      max_to_keep: how many of the newest checkpoints to keep.
    """

    def __init__(self, directory: str | Path, *, max_to_keep: int = 3):
        check_count("max_to_keep", max_to_keep)
        self.directory = Path(directory).absolute()
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(
                f"the checkpoint directory {self.directory} is a file; move it away to keep it, "
                "or choose another workdir"
            )
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
            item_names=(ARRAYS, CHECKSUM),
        )

    def epochs(self) -> tuple[int, ...]:
        """The epochs that have a complete checkpoint, oldest first."""
        return tuple(sorted(self._manager.all_steps()))

    def latest_epoch(self) -> int | None:
        """The newest epoch with a checkpoint, or ``None``."""
        return self._manager.latest_step()

    def save(self, epoch: int, tree: Any, metadata: dict | None = None) -> None:
        """Save ``tree`` (with its checksum and the JSON-serialisable ``metadata``) as the
        checkpoint of ``epoch`` and wait until it is on disk."""
        storable = _to_storable(tree)
        stored = {
            "sha256": checksum(storable),
            "leaves": _leaf_shapes(jax.tree.map(ocp.utils.to_shape_dtype_struct, storable)),
            "metadata": metadata or {},
        }
        self._manager.save(
            epoch,
            args=ocp.args.Composite(
                **{
                    ARRAYS: ocp.args.StandardSave(storable),
                    CHECKSUM: ocp.args.JsonSave(stored),
                }
            ),
        )
        self._manager.wait_until_finished()

    def restore(self, epoch: int, template: Any) -> Any:
        """The checkpoint of ``epoch``, with the structure, shapes and dtypes of ``template``.

        Raises:
          CorruptCheckpointError: it cannot be read, or its arrays fail their checksum.
          ValueError: it holds arrays of other names or shapes than ``template``.
        """
        where = f"the checkpoint of epoch {epoch} in {self.directory}"
        stored = self._stored_checksum(epoch)
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _to_storable(template))
        if stored is not None:
            expected = _leaf_shapes(abstract)
            for path in sorted(stored["leaves"].keys() | expected.keys()):
                there, here = stored["leaves"].get(path, "absent"), expected.get(path, "absent")
                if there != here:
                    raise ValueError(
                        f"{where} holds another state: {path or 'the tree'} is {there} there, "
                        f"{here} here"
                    )
        try:
            restored = self._manager.restore(
                epoch, args=ocp.args.Composite(**{ARRAYS: ocp.args.StandardRestore(abstract)})
            )
        except Exception as error:  # Orbax and TensorStore raise many types for damaged files
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise CorruptCheckpointError(f"{where} cannot be read ({first_line[:200]})") from None
        tree = _from_storable(restored[ARRAYS], template)
        if stored is not None and checksum(tree) != stored["sha256"]:
            raise CorruptCheckpointError(f"{where} is damaged: its arrays fail their checksum")
        return tree

    def metadata(self, epoch: int) -> dict:
        """The metadata saved with the checkpoint of ``epoch`` (empty for old checkpoints)."""
        stored = self._stored_checksum(epoch)
        return {} if stored is None else stored["metadata"]

    def restore_newest(self, template: Any) -> tuple[int, Any]:
        """``(epoch, tree)`` of the newest checkpoint that is intact; each damaged newer one
        is reported in a one-line warning and skipped.

        Raises:
          CorruptCheckpointError: there are checkpoints, and none of them is intact.
          ValueError: there are no checkpoints, or they hold another kind of state.
        """
        epochs = self.epochs()
        if not epochs:
            raise ValueError(f"{self.directory} holds no checkpoints")
        for epoch in reversed(epochs):
            try:
                return epoch, self.restore(epoch, template)
            except CorruptCheckpointError as damaged:
                warnings.warn(f"{damaged}; trying an older checkpoint", stacklevel=2)
        raise CorruptCheckpointError(
            f"none of the checkpoints in {self.directory} (epochs {list(epochs)}) is intact"
        )

    def _stored_checksum(self, epoch: int) -> dict | None:
        """The checksum item of ``epoch``; ``None`` for a checkpoint written without one."""
        if not (self.directory / str(epoch) / CHECKSUM).exists():
            return None
        try:
            restored = self._manager.restore(
                epoch, args=ocp.args.Composite(**{CHECKSUM: ocp.args.JsonRestore()})
            )
            return restored[CHECKSUM]
        except Exception as error:  # a damaged JSON file
            raise CorruptCheckpointError(
                f"the checksum of the checkpoint of epoch {epoch} in {self.directory} cannot "
                f"be read ({type(error).__name__})"
            ) from None

    def close(self) -> None:
        """Finish pending writes and release the manager."""
        self._manager.close()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
