"""Ingest: STOW-RS (1 and 4 clients), C-STORE from dcmtk's storescu, REST `POST /instances`; peak memory.

Each server receives the same files. Throughput is instances (or megabytes)
over the time the clients took; afterwards a QIDO-RS count checks that every
instance was indeed stored, so a fast failure never reads as a fast ingest.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.data import BenchData, SeriesFiles
from bench.http import Target, post_files, stow, stow_body
from bench.memory import PeakMemory
from bench.rows import Figure, Goal, Row, rate

__all__ = ["ingest_rows"]

CLIENTS = 4


def _check_stored(target: Target, files: SeriesFiles) -> None:
    url = f"{target.dicomweb}/studies/{files.study}/series/{files.series}/instances"
    found = httpx.get(url, headers={"Accept": "application/dicom+json"}, timeout=120)
    count = len(found.json()) if found.status_code == 200 else 0
    if count != len(files.files):
        raise RuntimeError(f"{target.name} holds {count} of the {len(files.files)} instances of series {files.series}")


def _stow_parallel(target: Target, bodies: list[Path]) -> float:
    """Seconds from the first request's start to the last one's end, `len(bodies)` clients at once."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(bodies)) as pool:
        list(pool.map(lambda body: stow(target, body), bodies))
    return time.perf_counter() - start


def _cstore(target: Target, files: SeriesFiles) -> float:
    assert target.dicom is not None
    aet, port = target.dicom
    start = time.perf_counter()
    subprocess.run(["storescu", "-aet", "BENCH", "-aec", aet, "127.0.0.1", str(port), *map(str, files.files)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def ingest_rows(targets: list[Target], data: BenchData, work: Path) -> list[Row]:
    """Every ingest row; each server ingests while its memory is sampled."""
    work.mkdir(parents=True, exist_ok=True)
    single = stow_body(list(data.stow.files), work / "stow.body")
    quarters = [list(data.stow_parallel.files[i::CLIENTS]) for i in range(CLIENTS)]
    parallel = [stow_body(q, work / f"stow4-{i}.body") for i, q in enumerate(quarters)]
    extra = {name: stow_body(list(s.files), work / f"{name}.body")
             for name, s in (("mr", data.mr), ("multiframe", data.multiframe), ("jpeg", data.jpeg))}
    n = len(data.stow.files)
    rows = {
        "stow": Row(f"STOW-RS, {n}-slice CT series, 1 client", "instances/s", "higher", Goal("ratio", 1.5), ceiling="disk_files"),
        "stow4": Row(f"STOW-RS, {n}-slice CT series, {CLIENTS} clients", "instances/s", "higher", Goal("ratio", 1.5), ceiling="disk_files"),
        "cstore": Row(f"C-STORE (storescu, one association), {n} CT slices", "instances/s", "higher", Goal("ratio", 1.5), ceiling="disk_files"),
        "rest": Row(f"REST POST /instances, {n} CT slices, one per request", "instances/s", "higher", Goal("ratio", 1.0), ceiling="disk_files"),
        "mr": Row(f"STOW-RS, {len(data.mr.files)}-slice MR series (256x256)", "instances/s", "higher", Goal("ratio", 1.0)),
        "multiframe": Row(f"STOW-RS, one multi-frame instance ({data.multiframe.size / 1e6:.0f} MB)", "MB/s", "higher",
                          Goal("ratio", 1.0)),
        "jpeg": Row(f"STOW-RS, {len(data.jpeg.files)} JPEG Lossless CT slices", "instances/s", "higher",
                    Goal("ratio", 1.0)),
        "memory": Row("peak resident memory during ingest (all rows above)", "MB", "lower", Goal("absolute", 300)),
    }
    for target in targets:
        figures: dict[str, Figure] = {}
        with PeakMemory(target.pid) as peak:
            figures["stow"] = rate(n, stow(target, single).seconds)
            _check_stored(target, data.stow)
            figures["stow4"] = rate(len(data.stow_parallel.files), _stow_parallel(target, parallel))
            _check_stored(target, data.stow_parallel)
            if target.dicom is not None:
                figures["cstore"] = rate(len(data.cstore.files), _cstore(target, data.cstore))
                _check_stored(target, data.cstore)
            answers, _ = post_files(target, f"{target.rest}/instances", list(data.rest.files), "application/dicom")
            figures["rest"] = rate(len(answers), sum(a.seconds for a in answers))
            _check_stored(target, data.rest)
            for name, files in (("mr", data.mr), ("jpeg", data.jpeg)):
                figures[name] = rate(len(files.files), stow(target, extra[name]).seconds)
                _check_stored(target, files)
            figures["multiframe"] = rate(data.multiframe.size / 1e6, stow(target, extra["multiframe"]).seconds)
            _check_stored(target, data.multiframe)
        figures["memory"] = Figure(peak.megabytes)
        for key, value in figures.items():
            setattr(rows[key], target.name, value)
    for key, row in rows.items():
        row.key = key
    for target in targets:
        if target.dicom is None:
            rows["cstore"].note = f"{target.name}: not available, its pacs service answers no C-ECHO (no DIMSE SCP)"
    return list(rows.values())
