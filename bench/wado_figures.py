"""Retrieval figures of one pacs service: series metadata latency, whole-series WADO-RS MB/s, rendered JPEG latency.

    .venv/bin/python -m bench.wado_figures [--slices 300] [--size 512]

Starts `pacsbox serve pacs` on a temporary folder, uploads a generated CT
series (REST POST /instances), then times each request several times with
curl (so that the client is not the bottleneck) and prints the median.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import tempfile
from pathlib import Path

import httpx
import pydicom

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess


def curl(url: str, accept: str) -> tuple[float, int]:
    """(seconds, bytes) of one GET, body discarded."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-H", f"Accept: {accept}", "-w", "%{time_total} %{size_download}", url],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def median(url: str, accept: str, runs: int) -> tuple[float, int]:
    curl(url, accept)  # warm
    samples = [curl(url, accept) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), samples[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = ServiceProcess("pacs", Path(tempfile.mkdtemp(prefix="wado-figures-"))).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            first = None
            for ds in make_series(args.slices, rows=args.size, columns=args.size):
                data = dataset_bytes(ds)
                client.post("/instances", content=data).raise_for_status()
                first = first or pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        assert first is not None
        series = f"{server.url}/pacs/studies/{first.StudyInstanceUID}/series/{first.SeriesInstanceUID}"
        instance = f"{series}/instances/{first.SOPInstanceUID}"
        seconds, size = median(f"{series}/metadata", "application/dicom+json", args.runs)
        print(f"series metadata: {seconds * 1000:.1f} ms for {size / 1e3:.0f} kB ({args.slices} instances)")
        seconds, size = median(series, 'multipart/related; type="application/dicom"', args.runs)
        print(f"series retrieval: {seconds * 1000:.0f} ms for {size / 1e6:.1f} MB, {size / 1e6 / seconds:.0f} MB/s")
        seconds, size = median(f"{instance}/rendered", "image/jpeg", args.runs)
        print(f"rendered JPEG: {seconds * 1000:.1f} ms ({size} bytes)")
        seconds, size = median(f"{instance}/frames/1", "multipart/related; type=application/octet-stream; transfer-syntax=*", args.runs)
        print(f"one frame: {seconds * 1000:.1f} ms ({size} bytes)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
