"""C-STORE throughput, pacsbox beside Orthanc: one storescu association sending a whole CT series.

    .venv/bin/python -m bench.dimse_store [--slices 300] [--size 512] [--runs 3]

Writes the same generated CT series (16-bit, Explicit VR Little Endian) to a
temporary folder, starts `pacsbox serve pacs` (SQLite, DICOM port open) and
Debian's Orthanc on temporary folders, then times dcmtk's `storescu` sending
the series on one association to each server in turn, each run a new series
(new UIDs), and prints instances per second (best and median of the runs).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.dicom import make_series
from tests.support.dimse import DicomPacs, write_files
from tests.support.orthanc import OrthancProcess


def storescu_seconds(port: int, aet: str, files: list[Path]) -> float:
    started = time.perf_counter()
    subprocess.run(["storescu", "-aec", aet, "127.0.0.1", str(port), *map(str, files)], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dimse-store-"))
    series = [
        write_files(list(make_series(args.slices, rows=args.size, columns=args.size, seed=run)), work / f"run{run}")
        for run in range(args.runs)
    ]
    pacs = DicomPacs(work / "pacs", {}).start()
    orthanc = OrthancProcess().start()
    try:
        rates: dict[str, list[float]] = {"pacsbox": [], "orthanc": []}
        for files in series:
            rates["pacsbox"].append(len(files) / storescu_seconds(pacs.dicom_port, "PACSBOX", files))
            rates["orthanc"].append(len(files) / storescu_seconds(orthanc.dicom_port, "ORTHANC", files))
        megabytes = sum(f.stat().st_size for f in series[0]) / 1e6
        print(f"{args.slices} slices {args.size}x{args.size} ({megabytes:.0f} MB), storescu, one association, {args.runs} runs")
        for name, values in rates.items():
            print(f"{name:8} best {max(values):6.1f} instances/s   median {statistics.median(values):6.1f} instances/s")
    finally:
        pacs.stop()
        orthanc.stop()


if __name__ == "__main__":
    main()
