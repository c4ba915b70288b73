"""Before anything is measured, wait until creating a file on the run's disk costs what it normally does.

On ext4 without a journal (this machine's root file system), allocating an
inode skips every free inode of its group freed in the last minute or more
(the kernel's `recently_deleted`), reading each one's inode table block.
Right after a large deletion (the previous run's folder, a test run) creating
an empty file cost 0.5 to 0.8 ms of CPU here instead of 13 to 30 µs; every
stored instance is a new file, so the ingest rows of a run started then read
lower for whichever server's folders landed in such a group: a run four
minutes after another measured pacsbox's four-client STOW-RS at 2.4 ms of CPU
per slice instead of 1.77 (`bench/findings.md`). A user's disk is not
usually fresh from deleting thousands of files, so the run waits, up to
`Sizes.settle_s`, and the report says how long and what a file cost.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DiskSettle", "create_cost_us", "settle"]

PROBE_FILES = 100
"""Empty files each measurement creates (kept until the run's folder goes: deleting them would free inodes)."""
NORMAL_US = 30.0
"""CPU microseconds per created file below which the disk counts as settled: 13 to 26 here when it is. In the
runs whose probe read 37 to 66 µs (most started within minutes of another run's deletion) pacsbox spent 0.97
to 1.1 ms per slice in the kernel in the four-client STOW-RS, against 0.67 to 0.83 in eight of the nine runs
whose probe read 16 to 26 µs (Dec 5 and 6 2026); the limit was 100 µs, then 40, and neither waited for them."""
INTERVAL_S = 10.0
"""Seconds between measurements while waiting."""

_probes = itertools.count()


@dataclass(frozen=True)
class DiskSettle:
    """What creating a file cost at the start, what it cost when the run went on, and the wait in between."""

    first_us: float
    last_us: float
    waited_s: float


def create_cost_us(folder: Path) -> float:
    """CPU microseconds (user and system, this thread) per empty file created in a fresh subfolder of `folder`."""
    probe = folder / f"probe-{os.getpid()}-{next(_probes)}"
    probe.mkdir(parents=True)
    started = time.thread_time()
    for number in range(PROBE_FILES):
        os.close(os.open(probe / str(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return 1e6 * (time.thread_time() - started) / PROBE_FILES


def settle(
    folder: Path, limit_s: float, *,
    measure: Callable[[Path], float] = create_cost_us,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DiskSettle:
    """Measure file creation in `folder`; while it costs over `NORMAL_US`, wait and measure again, for at most
    `limit_s` seconds (0: measure once, never wait)."""
    started = clock()
    first = last = measure(folder)
    waited = 0.0
    while last > NORMAL_US and waited + INTERVAL_S <= limit_s:
        sleep(INTERVAL_S)
        last = measure(folder)
        waited = clock() - started
    return DiskSettle(round(first, 1), round(last, 1), round(waited, 1))
