"""What each server asks of the kernel per stored CT slice: system calls counted with `strace -f`.

    .venv/bin/python -m bench.syscalls [--instances 40]

Both servers start fresh (as in `python -m bench`) and each stores the same
series of 512 x 512 CT slices in one STOW-RS request while strace follows
every thread of every process. Printed per slice: the calls that make a store durable
(fsync, fdatasync, sync_file_range, rename), the writes, and the futex calls
(threads waiting for and waking each other: in pacsbox, mostly the GIL
changing hands). pacsbox's threads are also shown by role, told apart by
what they call: the SQLite writer `pwrite`s, the store's worker threads
fsync and rename, the event loop does the rest. The findings in
docs/PERFORMANCE.md quote it; strace slows the servers, so the counts mean
something here, the times do not.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from bench.data import ct_series
from bench.http import Target, stow, stow_body
from bench.servers import running_servers
from bench.sizes import Sizes

__all__ = ["main"]

ATTACH_SECONDS = 1.5
"""Time strace is given to attach to every thread before the request is sent."""
SHOWN = ("fsync", "fdatasync", "sync_file_range", "rename", "renameat2", "write", "pwrite64", "openat", "futex")

Calls = dict[str, collections.Counter[str]]
"""Thread id -> system call name -> how many."""


def _traced(target: Target, body: Path, log: Path) -> Calls:
    """The system calls of every thread of `target`'s processes while it stores `body`, by thread."""
    processes = [target.pid, *(child.pid for child in psutil.Process(target.pid).children(recursive=True))]
    attach = [argument for pid in processes for argument in ("-p", str(pid))]
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", str(log), *attach], stderr=subprocess.DEVNULL)
    try:
        time.sleep(ATTACH_SECONDS)
        stow(target, body)
        time.sleep(0.3)  # the last answers' system calls reach the log
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    calls: Calls = collections.defaultdict(collections.Counter)
    for line in log.read_text().splitlines():
        thread, _, rest = line.partition(" ")
        rest = rest.lstrip()
        if rest.startswith("<...") or "(" not in rest:  # the end of a call already counted, or a signal
            continue
        calls[thread][rest.split("(", 1)[0]] += 1
    return calls


def _role(counter: collections.Counter[str]) -> str:
    if counter["pwrite64"]:
        return "SQLite writer"
    if counter["fsync"] or counter["rename"]:
        return "store workers"
    return "event loop and others"


def _line(label: str, counter: collections.Counter[str], count: int) -> str:
    shown = ", ".join(f"{name} {counter[name] / count:.1f}" for name in SHOWN if counter[name])
    return f"  {label}: {shown}"


def report(name: str, calls: Calls, count: int, by_role: bool) -> list[str]:
    total: collections.Counter[str] = collections.Counter()
    for counter in calls.values():
        total += counter
    lines = [f"{name}, per slice ({count} slices, {len(calls)} threads made calls):", _line("all threads", total, count)]
    if by_role:
        roles: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for counter in calls.values():
            roles[_role(counter)] += counter
        lines += [_line(role, counter, count) for role, counter in sorted(roles.items())]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=40)
    args = parser.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("bench.syscalls needs strace: apt-get install strace (make bench-tools installs it)")
    with tempfile.TemporaryDirectory(prefix="pacsbox-syscalls-") as tmp:
        folder = Path(tmp)
        series = ct_series(folder / "series", Sizes(ct_slices=args.instances), 1)
        body = stow_body(list(series.files), folder / "stow.body")
        with running_servers(folder / "servers") as (pacsbox, orthanc, _):
            for target in (orthanc, pacsbox):
                calls = _traced(target, body, folder / f"{target.name}.strace")
                print("\n".join(report(target.name, calls, args.instances, by_role=target is pacsbox)))


if __name__ == "__main__":
    main()
