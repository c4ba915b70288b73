"""Ingest: STOW-RS (1 and 4 clients), C-STORE from dcmtk's storescu, REST `POST /instances`; peak memory.

Each server receives the same files. Every row runs `ingest_runs` rounds on
fresh sets, the servers taking turns to go first. Throughput is instances
(or megabytes) over the time the clients took; afterwards a QIDO-RS count
checks that every instance was stored, so a fast failure never reads as a fast
ingest.
"""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.cpu import CpuUse, cpu_note, cpu_use
from bench.data import BenchData, IngestSets, SeriesFiles
from bench.http import Target, count_matches, post_files, stow, stow_body
from bench.memory import PeakMemory
from bench.profile import NO_PROFILE, Profiler
from bench.rows import Figure, Goal, Row, figure, files_ceiling

__all__ = ["ingest_rows", "stow_rate"]

CLIENTS = 4


def _check_stored(target: Target, files: SeriesFiles, row: str = "") -> None:
    count = count_matches(target, f"{target.dicomweb}/studies/{files.study}/series/{files.series}/instances")
    if count != len(files.files):
        after = f" after its {row} row" if row else ""
        raise RuntimeError(f"{target.name} holds {count} of the {len(files.files)} instances of {files.series}{after}")


def _stow(target: Target, files: SeriesFiles, body: Path) -> float:
    return len(files.files) / stow(target, body).seconds


def stow_rate(target: Target, files: SeriesFiles, body: Path) -> float:
    """Instances per second of one STOW-RS request holding the whole series (`body`), checked."""
    rate = _stow(target, files, body)
    _check_stored(target, files)
    return rate


def _stow_parallel(target: Target, files: SeriesFiles, bodies: list[Path]) -> float:
    """Instances per second, from the first request's start to the last one's end, one client per body.

    Each request's start is its end less curl's own transfer time, as the one-client row counts it: starting
    four curl processes is the clients' time, not the server's (when curl still read its whole body into
    memory before it connected, that took 90 to 120 ms of a 510 to 670 ms round, Dec 5 2026)."""

    def timed(body: Path) -> tuple[float, float]:
        seconds = stow(target, body).seconds
        end = time.perf_counter()
        return end - seconds, end

    with ThreadPoolExecutor(len(bodies)) as pool:
        spans = list(pool.map(timed, bodies))
    return len(files.files) / (max(end for _, end in spans) - min(start for start, _ in spans))


def _cstore(target: Target, files: SeriesFiles) -> float:
    assert target.dicom is not None
    aet, port = target.dicom
    start = time.perf_counter()
    done = subprocess.run(["storescu", "-aet", "BENCH", "-aec", aet, "127.0.0.1", str(port), *map(str, files.files)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"storescu to {target.name} ({aet} at port {port}) exited with {done.returncode}: "
                           f"{done.stderr.strip()[-2000:]}")
    return len(files.files) / seconds


def _rest(target: Target, files: SeriesFiles) -> float:
    answers, _ = post_files(target, f"{target.rest}/instances", list(files.files), "application/dicom")
    return len(answers) / sum(a.seconds for a in answers)


def _round(
    target: Target, sets: IngestSets, work: Path, profiler: Profiler
) -> dict[str, tuple[float, CpuUse]]:
    """One round of the ingest rows on one server, by row key: instances (multi-frame: MB) per second, and
    the server's CPU time meanwhile."""
    single = stow_body(list(sets.stow.files), work / "stow.body")
    parts = [list(sets.stow_parallel.files[i::CLIENTS]) for i in range(CLIENTS)]
    quarters = [stow_body(part, work / f"stow4-{i}.body") for i, part in enumerate(parts)]
    others = {key: stow_body(list(files.files), work / f"{key}.body")
              for key, files in (("mr", sets.mr), ("jpeg", sets.jpeg), ("multiframe", sets.multiframe))}
    megabytes = sets.multiframe.size / 1e6
    measures: dict[str, Callable[[], float]] = {
        "stow": lambda: _stow(target, sets.stow, single),
        "stow4": lambda: _stow_parallel(target, sets.stow_parallel, quarters),
        "cstore": lambda: _cstore(target, sets.cstore),
        "rest": lambda: _rest(target, sets.rest),
        "mr": lambda: _stow(target, sets.mr, others["mr"]),
        "jpeg": lambda: _stow(target, sets.jpeg, others["jpeg"]),
        # one instance: instances/s times its size is MB/s
        "multiframe": lambda: _stow(target, sets.multiframe, others["multiframe"]) * megabytes,
    }
    series = {"stow": sets.stow, "stow4": sets.stow_parallel, "cstore": sets.cstore, "rest": sets.rest,
              "mr": sets.mr, "jpeg": sets.jpeg, "multiframe": sets.multiframe}
    if target.dicom is None:
        del measures["cstore"]
    result = {}
    for key, measure in measures.items():
        with profiler.record(target, key), cpu_use(target.pid, len(series[key].files)) as use:
            rate = measure()
        _check_stored(target, series[key], key)  # outside the timed and metered work
        result[key] = rate, use
    return result


def _rows(data: BenchData) -> dict[str, Row]:
    n, first = len(data.stow.files), data.runs[0]
    rows = {
        "stow": Row(f"STOW-RS, {n}-slice CT series, 1 client", "instances/s", "higher", Goal("ratio", 1.5),
                    ceiling=files_ceiling(1, direct=True)),
        "stow4": Row(f"STOW-RS, {n}-slice CT series, {CLIENTS} clients", "instances/s", "higher", Goal("ratio", 1.5),
                     ceiling=files_ceiling(CLIENTS, direct=True)),
        "cstore": Row(f"C-STORE (storescu, one association), {n} CT slices", "instances/s", "higher",
                      Goal("ratio", 1.5), ceiling=files_ceiling(1, direct=True)),
        "rest": Row(f"REST POST /instances, {n} CT slices, one per request", "instances/s", "higher",
                    Goal("ratio", 1.0), ceiling=files_ceiling(1, direct=True)),
        "mr": Row(f"STOW-RS, {len(first.mr.files)}-slice MR series (256x256)", "instances/s", "higher",
                  Goal("ratio", 1.0)),
        "jpeg": Row(f"STOW-RS, {len(first.jpeg.files)} JPEG Lossless CT slices", "instances/s", "higher",
                    Goal("ratio", 1.0)),
        "multiframe": Row(f"STOW-RS, one multi-frame instance ({first.multiframe.size / 1e6:.0f} MB)", "MB/s",
                          "higher", Goal("ratio", 1.0)),
        "memory": Row("peak resident memory (PSS of every process) during ingest (all rows above)", "MB", "lower",
                      Goal("absolute", 300)),
    }
    for key, row in rows.items():
        row.key = key
    return rows


def ingest_rows(targets: list[Target], data: BenchData, work: Path, profiler: Profiler = NO_PROFILE) -> list[Row]:
    """Every ingest row; each server's memory is sampled throughout."""
    work.mkdir(parents=True, exist_ok=True)
    rows = _rows(data)
    samples: dict[str, defaultdict[str, list[float]]] = {t.name: defaultdict(list) for t in targets}
    cpu: defaultdict[str, dict[str, list[CpuUse]]] = defaultdict(lambda: {t.name: [] for t in targets})
    with ExitStack() as stack:
        peaks = {t.name: stack.enter_context(PeakMemory(t.pid)) for t in targets}
        for number, sets in enumerate(data.runs):
            for target in targets[number % 2:] + targets[:number % 2]:
                for key, (value, use) in _round(target, sets, work, profiler).items():
                    samples[target.name][key].append(value)
                    cpu[key][target.name].append(use)
    for target in targets:
        for key, values in samples[target.name].items():
            setattr(rows[key], target.name, figure(values, better="higher"))
        setattr(rows["memory"], target.name, Figure(peaks[target.name].megabytes))
        if target.dicom is None:
            rows["cstore"].note = f"{target.name}: not available, its pacs service answers no C-ECHO (no DIMSE SCP)"
    for key, uses in cpu.items():
        rows[key].note = "; ".join(n for n in (rows[key].note, cpu_note(uses)) if n)
    return list(rows.values())
