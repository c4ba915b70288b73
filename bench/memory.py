"""Peak resident memory of a server (its process and children), sampled while scenarios run.

Measured as the sum of each process's PSS (proportional set size): a page
shared by several processes (a library, or memory a worker inherited) counts
once across them, split between its sharers. For one process this is its RSS
minus the shares of libraries other programs also map; for pacsbox's several
processes a sum of RSS would count the pages they share once per process.

Sampling is not free: for each PSS figure the kernel walks the process's
page tables while holding its memory-map lock, about 13 ms of CPU per GB
resident here (3.8 ms for pacsbox's three processes at rest), and finding
the processes costs 1 ms more. Sampled every 20 ms, as until Dec 5 2026, the
two samplers took about half a core during every ingest row: the machine was
a third busy during Orthanc's C-STORE row, where Orthanc itself used a tenth
of a core, and 7 % busy once sampled every 250 ms; the ingest rows of both
servers read lower than the servers could do (`bench/findings.md`). The
peak during ingest is a plateau of seconds (buffers kept for the next
request, caches), which a sample every 250 ms still catches.
"""

from __future__ import annotations

import threading
from types import TracebackType

import psutil

__all__ = ["PeakMemory"]


class PeakMemory:
    """`with PeakMemory(pid) as peak: ...`, then `peak.megabytes`: the largest total PSS seen, every 250 ms."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _resident(self) -> int:
        total = 0
        try:
            processes = [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:  # the server has ended: the run reports why, not this thread
            return 0
        for p in processes:
            try:
                total += p.memory_full_info().pss
            except psutil.NoSuchProcess:
                pass
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._resident())
            self._stop.wait(self.interval)

    @property
    def megabytes(self) -> float:
        return self.peak / 2**20

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._resident())
