"""Meshes and shardings: data parallelism over devices with ``jax.sharding``.

A one-axis mesh over the devices (axis ``"data"``) shards whatever has a leading batch or
chain axis (minibatches, persistent chains, AIS chains) and replicates the parameters; the
compiled programs are unchanged, XLA partitions them (GSPMD) and adds the reductions of the
gradient statistics. ``fit(..., mesh=mesh)``, ``sample(..., mesh=mesh)`` and
``ais(..., mesh=mesh)`` take such a mesh.

Across hosts, call ``jax.distributed.initialize()`` on every host first (on Cloud TPU it
needs no arguments; elsewhere give the coordinator address, the number of processes and each
one's id); ``jax.devices()`` then lists the devices of all hosts and ``data_mesh()`` spans them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh named ``"data"`` over ``devices`` (default: every device)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), (DATA_AXIS,))


def sharded(mesh: Mesh) -> NamedSharding:
    """Leading axis split over the mesh's data axis, other axes whole."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of the mesh."""
    return NamedSharding(mesh, PartitionSpec())


def check_divisible(what: str, count: int, mesh: Mesh) -> None:
    """A ``ValueError`` unless ``count`` rows split evenly over the mesh's devices."""
    devices = mesh.shape[DATA_AXIS]
    if count % devices:
        raise ValueError(
            f"{what}={count} does not split evenly over the mesh's {devices} devices; use a "
            f"multiple of {devices}"
        )


def shard(tree: Any, mesh: Mesh) -> Any:
    """Put every leaf of ``tree`` on the mesh, split along its leading axis."""
    return jax.device_put(tree, sharded(mesh))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Put every leaf of ``tree`` whole on every device of the mesh."""
    return jax.device_put(tree, replicated(mesh))
