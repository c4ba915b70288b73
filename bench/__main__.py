"""`python -m bench [--quick]`: pacsbox beside Orthanc on the same data; writes docs/PERFORMANCE.md and .json.

Steps: generate the data; measure the machine's ceilings; start both servers
fresh and run every scenario against each (ingest, search, retrieval); measure
pacsbox again through its nginx TLS front when `pacsbox up` exists; write the
report. `make bench` runs the default sizes, `make bench-quick` the small ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.ceilings import ceilings
from bench.data import generate
from bench.disk_settle import settle
from bench.front import front_rows
from bench.ingest import ingest_rows
from bench.machine import load, machine
from bench.profile import Profiler
from bench.report import write_report
from bench.retrieve import retrieve_rows
from bench.search import search_rows
from bench.servers import orthanc_versions, running_servers
from bench.sizes import DEFAULT, QUICK, Sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of about two minutes")
    parser.add_argument("--work", type=Path, help="folder for data and servers (default: a temporary one, removed)")
    parser.add_argument("--output", type=Path, default=Path("docs"), help="where the report goes (default docs/)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy profiles of the pacs process, one per measurement")
    for f in dataclasses.fields(Sizes):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, help=f"default {getattr(DEFAULT, f.name)}")
    return parser


def _step(label: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {label}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base = QUICK if args.quick else DEFAULT
    sizes = dataclasses.replace(base, **{f.name: getattr(args, f.name) for f in dataclasses.fields(Sizes)
                                         if getattr(args, f.name) is not None})
    work = args.work or Path(tempfile.mkdtemp(prefix="pacsbox-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # nginx's workers (user nobody when run as root) read the ceiling's files in there
    free_gb = shutil.disk_usage(work).free / 1e9
    if free_gb < sizes.disk_gb:
        print(f"bench: {work} has {free_gb:.1f} GB free and the run needs {sizes.disk_gb} GB (--disk-gb): "
              "free some space or pass --work on a larger disk", file=sys.stderr)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        return 2
    started, load_start = time.monotonic(), load()
    profiler = Profiler(args.profile)
    try:
        _step(f"generating data in {work}", started)
        data = generate(work / "data", sizes)
        os.sync()  # the generated files reach the disk now, not while a server is measured
        _step("waiting for file creation on the disk to cost what it normally does", started)
        disk = settle(work / "disk-probe", sizes.settle_s)
        _step("machine ceilings", started)
        limits = ceilings(work / "ceilings", list(data.stow.files), sizes.ceiling_mb, sizes.retrieve_runs,
                          sizes.frame_requests)
        with running_servers(work / "servers") as (pacsbox, orthanc, orthanc_process):
            targets = [pacsbox, orthanc]
            _step("ingest", started)
            rows = ingest_rows(targets, data, work / "bodies", profiler)
            _step("search", started)
            rows += search_rows(targets, data, work / "bodies", sizes.searches, profiler)
            _step("retrieval", started)
            rows += retrieve_rows(targets, data, sizes, profiler)
            versions = orthanc_versions(orthanc_process.url)
        _step("pacsbox through its TLS front", started)
        rows += front_rows(data, sizes, work / "front", rows, profiler)
        info = {
            "machine": machine(work, versions),
            "command": shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])]),
            "mode": "quick" if base is QUICK else "default",
            "sizes": dataclasses.asdict(sizes),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "duration_s": round(time.monotonic() - started, 1),
            "load": {"start": load_start, "end": load()},
            "disk": dataclasses.asdict(disk),
        }
        write_report(args.output, rows, limits, info)
        _step(f"wrote {args.output / 'PERFORMANCE.md'} and performance.json", started)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
