"""CPU time a server spends on a scenario: what each instance costs it, and how many cores it kept busy.

A throughput ratio alone cannot tell a server that does more work per
instance from one that cannot spread its work over the machine's cores;
these two figures, read beside it, can.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from bench.rows import number

__all__ = ["CpuUse", "cpu_note", "cpu_use"]


@dataclass
class CpuUse:
    """CPU seconds (user and system, the process and its children) over `wall` seconds, for `count` items."""

    seconds: float = 0.0
    wall: float = 0.0
    count: int = 0

    @property
    def per_item_ms(self) -> float:
        return 1000 * self.seconds / self.count

    @property
    def cores(self) -> float:
        return self.seconds / self.wall


def _cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@contextmanager
def cpu_use(pid: int, count: int) -> Iterator[CpuUse]:
    """`with cpu_use(pid, n) as use: ...`: afterwards `use` holds what the block cost process `pid`."""
    process, use = psutil.Process(pid), CpuUse(count=count)
    cpu, start = _cpu_seconds(process), time.perf_counter()
    yield use
    use.wall = time.perf_counter() - start
    use.seconds = _cpu_seconds(process) - cpu


def cpu_note(uses: dict[str, list[CpuUse]], unit: str = "instance") -> str:
    """`CPU per instance: pacsbox 3.4 ms on 1.2 cores, orthanc ...`: medians over the runs, by server."""
    parts = [
        f"{name} {number(statistics.median(u.per_item_ms for u in runs))} ms on "
        f"{statistics.median(u.cores for u in runs):.1f} cores"
        for name, runs in uses.items() if runs
    ]
    return f"CPU per {unit}: " + ", ".join(parts) if parts else ""
