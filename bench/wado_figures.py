"""Retrieval figures, pacsbox beside Orthanc: series metadata latency, whole-series WADO-RS MB/s, rendered JPEG.

    .venv/bin/python -m bench.wado_figures [--slices 300] [--size 512] [--runs 7]

Starts `pacsbox serve pacs` and Debian's Orthanc (with its DICOMweb plugin)
on temporary folders, uploads the same generated CT series to both (REST
POST /instances), then times each request with curl (so that the client is
not the bottleneck), one server after the other for each request, and prints the medians.
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
from tests.support.orthanc import OrthancProcess
from tests.support.servers import ServiceProcess


def curl(url: str, accept: str) -> tuple[float, int]:
    """(seconds, bytes) of one GET, body discarded."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-H", f"Accept: {accept}", "-w", "%{time_total} %{size_download}", url],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def median(url: str, accept: str, runs: int) -> tuple[float, int]:
    """Median seconds of `runs` GETs after one to warm caches, and the size of the answer."""
    curl(url, accept)
    samples = [curl(url, accept) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), samples[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pacs = ServiceProcess("pacs", Path(tempfile.mkdtemp(prefix="wado-figures-"))).start()
    orthanc = OrthancProcess().start()
    roots = {"pacsbox": f"{pacs.url}/pacs", "orthanc": f"{orthanc.url}/dicom-web"}
    try:
        first = None
        for ds in make_series(args.slices, rows=args.size, columns=args.size):
            data = dataset_bytes(ds)
            for url in (pacs.url, orthanc.url):
                httpx.post(f"{url}/instances", content=data, timeout=60).raise_for_status()
            first = first or pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        assert first is not None
        series = f"/studies/{first.StudyInstanceUID}/series/{first.SeriesInstanceUID}"
        instance = f"{series}/instances/{first.SOPInstanceUID}"
        requests = [
            ("series metadata", f"{series}/metadata", "application/dicom+json"),
            ("series retrieval", series, 'multipart/related; type="application/dicom"'),
            ("rendered JPEG", f"{instance}/rendered", "image/jpeg"),
            ("one frame", f"{instance}/frames/1", "multipart/related; type=application/octet-stream; transfer-syntax=*"),
        ]
        for label, path, accept in requests:
            line = [f"{label:17}"]
            for name, root in roots.items():
                seconds, size = median(root + path, accept, args.runs)
                rate = f", {size / 1e6 / seconds:5.0f} MB/s" if size > 10e6 else ""
                line.append(f"{name} {seconds * 1000:7.1f} ms ({size / 1e3:.0f} kB{rate})")
            print("   ".join(line))
    finally:
        pacs.stop()
        orthanc.stop()


if __name__ == "__main__":
    main()
