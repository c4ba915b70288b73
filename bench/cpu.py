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
from typing import Any

import psutil

from bench.rows import number

__all__ = ["CpuUse", "cpu_note", "cpu_use"]


@dataclass
class CpuUse:
    """CPU seconds (user and system, the process and its children) over `wall` seconds, for `count` items;
    `system`: the part spent in the kernel (receiving, writing and flushing files, switching threads)."""

    seconds: float = 0.0
    wall: float = 0.0
    count: int = 0
    system: float = 0.0
    machine_busy: float = 0.0
    """Share of the machine's CPU time (every core, every process) that was not idle meanwhile."""

    @property
    def per_item_ms(self) -> float:
        return 1000 * self.seconds / self.count

    @property
    def system_per_item_ms(self) -> float:
        return 1000 * self.system / self.count

    @property
    def cores(self) -> float:
        return self.seconds / self.wall


def _cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    """(user + system, system) seconds of the process and its children."""
    total = system = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
        system += times.system
    return total, system


@contextmanager
def cpu_use(pid: int, count: int) -> Iterator[CpuUse]:
    """`with cpu_use(pid, n) as use: ...`: afterwards `use` holds what the block cost process `pid`."""
    process, use = psutil.Process(pid), CpuUse(count=count)
    (cpu, system), machine, start = _cpu_seconds(process), psutil.cpu_times(), time.perf_counter()
    yield use
    use.wall = time.perf_counter() - start
    cpu_after, system_after = _cpu_seconds(process)
    use.seconds, use.system = cpu_after - cpu, system_after - system
    use.machine_busy = _busy(machine, psutil.cpu_times())


def _busy(before: Any, after: Any) -> float:
    """Share of the CPU time between two `psutil.cpu_times()` that was neither idle nor waiting for I/O."""
    spent = {name: getattr(after, name) - getattr(before, name) for name in after._fields}
    total = sum(spent.values()) - spent.get("guest", 0.0) - spent.get("guest_nice", 0.0)  # already in user
    return 1 - (spent["idle"] + spent.get("iowait", 0.0)) / total if total > 0 else 0.0


def cpu_note(uses: dict[str, list[CpuUse]], unit: str = "instance") -> str:
    """`CPU per instance: pacsbox 3.4 ms (1.9 in the kernel) on 1.2 cores, machine 84 % busy; orthanc ...`: medians
    over the runs, by server. "machine busy" counts the clients and the kernel's own threads too: near 100 %, the
    cores, not the server, set the pace."""
    parts = [
        f"{name} {number(statistics.median(u.per_item_ms for u in runs))} ms"
        f" ({number(statistics.median(u.system_per_item_ms for u in runs))} in the kernel) on "
        f"{statistics.median(u.cores for u in runs):.1f} cores, machine"
        f" {100 * statistics.median(u.machine_busy for u in runs):.0f} % busy"
        for name, runs in uses.items() if runs
    ]
    return f"CPU per {unit}: " + "; ".join(parts) if parts else ""
