"""Keeping freed multi-megabyte buffers in the process for the next request, instead of returning them to the OS.

glibc's malloc serves a block above its mmap threshold (128 kB at first,
raised to the largest block freed since, never above 32 MB) with fresh pages
from the kernel and gives them back when it is freed; it also hands the free
top of its heap back once more than twice that threshold lies there. The pacs
service reads a series in 4 MB batches and holds uploaded instances of up to
2 MB in memory, so every batch and upload took fresh pages: a page fault for
each 4 kB (about 21,000 per 158 MB series, measured), which on a virtual
machine whose free memory goes back to its host cost more than the copies
themselves. With blocks up to 8 MB taken from the heap and up to 16 MB of
each heap kept free, the same series was read with a few hundred page faults
once the worker threads' heaps had been used, in 70 to 100 ms of CPU instead
of 120 to 180 (`bench/findings.md`); a process keeps about 35 MB more. Larger
blocks (a multi-frame instance) still come from the kernel and go back to it.

What is kept is kept per arena, and glibc gives threads up to eight arenas
per core: each of the sixteen worker threads that read a series in turn kept
its own, so one client reading a 32 MB series twenty times grew the process
by 23 to 42 MB, and two pacs processes grew from 260 to 410 MB (PSS) over
nine series reads from three clients. The threads share two arenas instead:
under 1 MB and 285 MB after the same reads, at the same read speed. The price,
threads taking turns at an arena's lock: four-client STOW-RS ran about 3 %
slower (means of seven alternating runs, 475 against 491 instances/s, Dec 5
2026).
"""

from __future__ import annotations

import ctypes
import logging

__all__ = ["keep_freed_buffers"]

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
HEAP_BLOCK_MAX = 8 << 20
"""Blocks up to this size come from the heap (a series batch, an instance held in memory)."""
HEAP_FREE_KEPT = 16 << 20
"""Free memory at the top of the heap kept for the next blocks rather than given back."""
ARENAS = 2
"""Heaps the process's threads share, each keeping up to `HEAP_FREE_KEPT`."""


def keep_freed_buffers() -> bool:
    """Set glibc's thresholds for this process; False where malloc is not glibc's (nothing changes)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    done = all(mallopt(option, value) == 1 for option, value in (
        (_M_ARENA_MAX, ARENAS), (_M_MMAP_THRESHOLD, HEAP_BLOCK_MAX), (_M_TRIM_THRESHOLD, HEAP_FREE_KEPT)))
    if not done:
        log.warning("malloc thresholds not set: freed buffers go back to the kernel")
    return done
