"""Optional py-spy profiles of the pacs process while the scenarios run (`python -m bench --profile DIR`).

Each phase leaves DIR/PHASE.txt (collapsed stacks, one line per stack with its
sample count: flame graph tools read it) and DIR/PHASE.top.txt, the functions
that held the most samples, inclusive and by themselves. py-spy samples only
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["profiled"]


def _py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


_LINE = re.compile(r":\d+\)$")


def summarize(collapsed: Path, top: int = 25) -> str:
    """The `top` functions (line numbers dropped) by inclusive and by own samples, as percentages of all samples."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_LINE.sub(")", f) for f in stack.split(";") if f]
        if not frames:
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples"]
    for title, counter in (("inclusive", inclusive), ("own", own)):
        lines += ["", f"top {top}, {title}:"]
        lines += [f"{100 * n / max(total, 1):5.1f} %  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(lines) + "\n"


@contextmanager
def profiled(pid: int, folder: Path | None, phase: str) -> Iterator[None]:
    """Record `pid` with py-spy during the block when `folder` is given (and py-spy is installed)."""
    tool = _py_spy() if folder else None
    if folder is None or tool is None:
        if folder is not None:
            print("bench: py-spy not found (pip install py-spy): no profile", file=sys.stderr)
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{phase}.txt"
    recorder = subprocess.Popen([tool, "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                                 "--output", str(out), "--threads", "--nonblocking"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
        if out.exists():
            (folder / f"{phase}.top.txt").write_text(summarize(out))
