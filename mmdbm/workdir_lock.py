"""One process at a time in a run directory: an exclusive lock (``flock``) on its ``.lock``
file, taken before the first write and held until the work is done."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # directory -> the thread of this process that holds it


class WorkdirBusyError(ValueError):
    """Another process (or thread) holds the run directory."""


@contextlib.contextmanager
def owned(directory: str | Path) -> Iterator[Path]:
    """Hold ``directory`` (created if absent) for the ``with`` block. Re-entrant within one
    thread, so a command that owns a run directory can call ``fit`` on it.

    Raises:
      WorkdirBusyError: another process or thread holds it; the message names the holder.
      ValueError: ``directory`` is an existing file, or cannot be created or written.
    """
    directory = Path(directory).absolute()
    if _held.get(directory) == threading.get_ident():
        yield directory
        return
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"the workdir {directory} is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / LOCK_FILE, "a+")  # noqa: SIM115  (closed by the with below)
    except OSError as error:
        raise ValueError(f"cannot use {directory} as a workdir: {error.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WorkdirBusyError(
                f"{directory} is in use by {holder}; wait for that run to end or choose "
                "another workdir"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"process {os.getpid()} on {socket.gethostname()} (since {started})")
        handle.flush()
        _held[directory] = threading.get_ident()
        try:
            yield directory
        finally:
            del _held[directory]
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
