"""Crash consistency: `kill -9` the pacs service again and again while clients store, then audit.

Clients store generated instances concurrently through STOW-RS and REST
`POST /instances` and remember every instance the server acknowledged, with
the SHA-256 of the bytes they sent. The service is killed at random moments and
restarted. At the end:

- every acknowledged instance is in the index, its file present, its recorded checksum (SHA-256) the one sent;
- no index row lacks its file, no stored file lacks its row (after the start-up check);
- SQLite's `integrity_check` answers ok.

`make crash-test` runs many kills; the test suite runs a short loop.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3
import httpx

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

__all__ = ["CrashReport", "command_line", "run_kill_loop"]

BOUNDARY = "crash-loop"


@dataclass
class CrashReport:
    kills: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)
    """SOP Instance UID -> SHA-256 of the bytes sent, for every instance the server said it stored."""
    problems: list[str] = field(default_factory=list)
    recovered: int = 0

    def summary(self) -> str:
        return (f"{self.kills} kills, {len(self.acknowledged)} acknowledged instances checked, "
                f"{len(self.problems)} problems")


def _client(server: ServiceProcess, report: CrashReport, lock: threading.Lock, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            series = [dataset_bytes(ds) for ds in make_series(rng.randint(1, 4), rows=128, columns=128, seed=rng.randint(0, 1 << 30))]
            try:
                if rng.random() < 0.5:
                    body = b"".join(
                        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for data in series
                    ) + f"--{BOUNDARY}--\r\n".encode()
                    answer = client.post(f"{server.url}/pacs/studies", content=body, headers={
                        "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})
                    if answer.status_code != 200:
                        continue
                    acknowledged = {item["00081155"]["Value"][0] for item in answer.json()["00081199"]["Value"]}
                else:
                    acknowledged = set()
                    for data in series:
                        answer = client.post(f"{server.url}/instances", content=data)
                        if answer.status_code == 200:
                            acknowledged.add(_sop_uid(data))
            except httpx.HTTPError:
                time.sleep(0.05)  # the server is down: try again once it is back
                continue
            with lock:
                for data in series:
                    uid = _sop_uid(data)
                    if uid in acknowledged:
                        report.acknowledged[uid] = blake3.blake3(data).hexdigest(24)


def _sop_uid(data: bytes) -> str:
    import io

    import pydicom

    return str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, specific_tags=["SOPInstanceUID"]).SOPInstanceUID)


def _audit(server: ServiceProcess, report: CrashReport) -> None:
    database = server.data_dir / "pacs.sqlite"
    storage = server.data_dir / "storage"
    with sqlite3.connect(database) as connection:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            report.problems.append("SQLite integrity_check failed")
        rows = {sop: (path, checksum) for sop, path, checksum in connection.execute("SELECT sop_uid, path, checksum FROM instances")}
    for sop, expected in report.acknowledged.items():
        if sop not in rows:
            report.problems.append(f"acknowledged instance {sop} is not indexed")
            continue
        path, checksum = rows[sop]
        file = storage / path
        if not file.is_file():
            report.problems.append(f"acknowledged instance {sop} has no file")
        elif blake3.blake3(file.read_bytes()).hexdigest(24) != expected or checksum != expected:
            report.problems.append(f"acknowledged instance {sop} does not match what was sent")
    indexed = {storage / path for path, _ in rows.values()}
    for path in indexed:
        if not path.is_file():
            report.problems.append(f"index row without file: {path.name}")
    for file in storage.rglob("*.dcm"):
        if file not in indexed:
            report.problems.append(f"file without index row: {file.name}")
    leftovers = list((storage / ".tmp").iterdir())
    if leftovers:
        report.problems.append(f"{len(leftovers)} temporary file(s) left after the start-up check")


def run_kill_loop(folder: Path, kills: int, *, clients: int = 3, seed: int = 1, env: dict[str, str] | None = None) -> CrashReport:
    rng = random.Random(seed)
    report = CrashReport()
    lock, stop = threading.Lock(), threading.Event()
    server = ServiceProcess("pacs", folder, env).start()
    workers = [threading.Thread(target=_client, args=(server, report, lock, stop, seed + n), daemon=True) for n in range(clients)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            report.kills += 1
            server.start()
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        server.stop()
    server.start()  # the start-up check runs once more, with nobody writing
    server.stop()
    _audit(server, report)
    return report


def command_line(doc: str, name: str, run: Callable[..., Any], checked: Callable[[Any], int]) -> int:
    """The `make crash-test` entry of a kill loop: `--kills`, `--clients`, `--seed`; prints the figures.

    `run(folder, kills, clients=, seed=)` returns a report with `summary()` and `problems`;
    `checked(report)` counts what was checked (nothing checked is a failure too).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"pacsbox-{name.replace(' ', '-')}-") as folder:
        started = time.monotonic()
        report = run(Path(folder), args.kills, clients=args.clients, seed=args.seed)
    print(f"{name}: {report.summary()} in {time.monotonic() - started:.0f} s")
    for problem in report.problems[:50]:
        print(f"  {problem}")
    return 1 if report.problems or not checked(report) else 0


if __name__ == "__main__":
    sys.exit(command_line(__doc__ or "", "crash test", run_kill_loop, lambda report: len(report.acknowledged)))
