"""Checkpoints of training state through Orbax: the only module that imports Orbax.

A checkpoint directory holds one sub-directory per saved epoch. Orbax writes each into a
temporary directory and renames it when complete, so a checkpoint is either whole or absent;
the newest ``max_to_keep`` are kept. Typed PRNG keys are stored as their raw key data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from mmdbm.validation import check_count


def _is_typed_key(leaf: Any) -> bool:
    return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _to_storable(tree: Any) -> Any:
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_typed_key(x) else x, tree)


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
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )

    def epochs(self) -> tuple[int, ...]:
        """The epochs that have a complete checkpoint, oldest first."""
        return tuple(sorted(self._manager.all_steps()))

    def latest_epoch(self) -> int | None:
        """The newest epoch with a checkpoint, or ``None``."""
        return self._manager.latest_step()

    def save(self, epoch: int, tree: Any) -> None:
        """Save ``tree`` as the checkpoint of ``epoch`` and wait until it is on disk."""
        self._manager.save(epoch, args=ocp.args.StandardSave(_to_storable(tree)))
        self._manager.wait_until_finished()

    def restore(self, epoch: int, template: Any) -> Any:
        """The checkpoint of ``epoch``, with the structure, shapes and dtypes of ``template``."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _to_storable(template))
        stored = self._manager.restore(epoch, args=ocp.args.StandardRestore(abstract))
        return _from_storable(stored, template)

    def close(self) -> None:
        """Finish pending writes and release the manager."""
        self._manager.close()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
