"""Optional py-spy profiles of the pacs process, one per measurement (`python -m bench --profile DIR`).

Each pacsbox measurement leaves DIR/KEY.txt (collapsed stacks, one line per
stack with its sample count: flame graph tools read it) and DIR/KEY.top.txt,
the functions that held the most samples, inclusive and by themselves. py-spy samples only
threads that are running, so the time pacsbox spends waiting (on the client,
on Orthanc's turn) does not count.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.http import Target

__all__ = ["NO_PROFILE", "Profiler", "summarize"]

RATE = 250
"""Samples per second."""
ATTACH_SECONDS = 0.5
"""Time py-spy is given to attach before the measured requests start."""


def _py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


_LINE = re.compile(r":\d+\)$")


def summarize(collapsed: Path, top: int = 25) -> str:
    """Seconds each thread was busy, then the `top` functions (line numbers dropped) by inclusive and own samples.

    A thread busy for about the whole measured time is the bottleneck of that row.
    """
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_LINE.sub(")", f) for f in stack.split(";") if f]
        if not frames:
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        threads[re.sub(r"^thread \(\d+\):? ?", "", frames[0]) or "worker"] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples at {RATE} Hz; busy seconds by thread:"]
    lines += [f"{n / RATE:7.2f} s  {name}" for name, n in threads.most_common()]
    for title, counter in (("inclusive", inclusive), ("own", own)):
        lines += ["", f"top {top}, {title}:"]
        lines += [f"{100 * n / max(total, 1):5.1f} %  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(lines) + "\n"


class Profiler:
    """Records the pacs process with py-spy around each pacsbox measurement, when given a folder.

    `with profiler.record(target, "stow"):` leaves FOLDER/stow.txt and stow.top.txt
    (stow-2.txt ... for the next rounds); other servers and a profiler without a
    folder record nothing.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.tool = _py_spy() if folder else None
        if folder is not None and self.tool is None:
            print("bench: py-spy not found (pip install py-spy): no profiles", file=sys.stderr)

    def _output(self, key: str) -> Path:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        out, n = self.folder / f"{key}.txt", 1
        while out.exists():
            n += 1
            out = self.folder / f"{key}-{n}.txt"
        return out

    @contextmanager
    def record(self, target: Target, key: str) -> Iterator[None]:
        if self.tool is None or target.name != "pacsbox":
            yield
            return
        out = self._output(key)
        command = [self.tool, "record", "--pid", str(target.pid), "--format", "raw", "--rate", str(RATE),
                   "--output", str(out), "--threads", "--subprocesses", "--nonblocking"]
        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(ATTACH_SECONDS)
        start = time.perf_counter()
        try:
            yield
        finally:
            wall = time.perf_counter() - start
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
            if out.exists():
                out.with_suffix(".top.txt").write_text(f"measured for {wall:.2f} s\n" + summarize(out))


NO_PROFILE = Profiler(None)
