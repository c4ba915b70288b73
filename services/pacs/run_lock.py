"""One run of the pacs service at a time on a data folder, its processes holding `pacs-run.lock` together.

Every process of a run holds a shared `flock` on the lock file for as long as
it lives. A primary starting takes it exclusively first, so its start-up
check (which removes temporary files and indexes files without rows) never
runs beside a process of an earlier run still storing: when a primary is
killed, its workers end on their own, but only after finishing the requests
they have (up to uvicorn's graceful 10 s). The primary then holds it shared
like its workers. Waiting is bounded: a lock still held after `PREVIOUS_RUN_WAIT`
seconds means another service uses the folder, and the start fails saying so.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

__all__ = ["PREVIOUS_RUN_WAIT", "FolderInUse", "join_run", "start_run"]

log = logging.getLogger(__name__)

PREVIOUS_RUN_WAIT = 30.0
"""Seconds a primary waits for the processes of an earlier run: their graceful end (10 s) and then some."""
LOCK_NAME = "pacs-run.lock"


class FolderInUse(RuntimeError):
    """Another run of the pacs service still uses the data folder."""


def _open(data_dir: Path) -> int:
    return os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)


def start_run(data_dir: Path, wait: float = PREVIOUS_RUN_WAIT) -> int:
    """The primary's hold (a descriptor kept open for the process's life), once no earlier run's process is left.

    Blocks; run it in a thread. Raises `FolderInUse` after `wait` seconds.
    """
    fd = _open(data_dir)
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise FolderInUse(
                    f"another pacs service still uses {data_dir} after {wait:.0f} s (its processes hold"
                    f" {LOCK_NAME}); stop it, or give this one another data folder"
                ) from None
            if not waiting:
                log.warning("waiting for the pacs processes of an earlier run on %s to end", data_dir)
                waiting = True
            time.sleep(0.1)
    fcntl.flock(fd, fcntl.LOCK_SH)  # this run's workers join it
    return fd


def join_run(data_dir: Path) -> int:
    """A worker's hold on its primary's run (a descriptor kept open for the process's life)."""
    fd = _open(data_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderInUse(f"a pacs primary is starting on {data_dir}; a worker joins only a started run") from None
    return fd
