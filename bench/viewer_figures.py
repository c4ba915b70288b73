"""Viewer rendering figures: MPR from a cold and a warm volume cache, and 3D renderings.

    .venv/bin/python -m bench.viewer_figures [--slices 200] [--size 256] [--runs 5]

Starts `pacsbox serve pacs` and `pacsbox serve viewer` on temporary folders,
stores a generated CT series, then prints the medians of: the first MPR
request (volume built from the pacs over DICOMweb: metadata + one frame request
per slice), later MPR requests of each plane (cached volume), and 3D
renderings (isosurface and volume, 512 x 512). Each cold run uses a new
series, so the cache never helps it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess


def _store_series(pacs: httpx.Client, slices: int, size: int) -> str:
    datasets = list(make_series(slices, rows=size, columns=size))
    for ds in datasets:
        answer = pacs.post("/instances", content=dataset_bytes(ds))
        answer.raise_for_status()
    return f"/api/studies/{datasets[0].StudyInstanceUID}/series/{datasets[0].SeriesInstanceUID}"


def _timed(client: httpx.Client, path: str, **params: object) -> float:
    start = time.perf_counter()
    answer = client.get(path, params=params)
    elapsed = time.perf_counter() - start
    answer.raise_for_status()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pacs = ServiceProcess("pacs", Path(tmp) / "pacs").start()
        viewer = ServiceProcess("viewer", Path(tmp) / "viewer", {"PACSBOX_PACS_URL": pacs.url}).start()
        try:
            with httpx.Client(base_url=pacs.url, timeout=300) as to_pacs, \
                    httpx.Client(base_url=viewer.url, timeout=300) as to_viewer:
                cold = []
                for _ in range(args.runs):
                    series = _store_series(to_pacs, args.slices, args.size)
                    cold.append(_timed(to_viewer, f"{series}/mpr", plane="axial"))
                figures = {"MPR, cold cache (volume built)": cold}
                for plane in ("axial", "coronal", "sagittal"):
                    figures[f"MPR {plane}, warm cache"] = [
                        _timed(to_viewer, f"{series}/mpr", plane=plane, index=i % 16) for i in range(args.runs * 4)
                    ]
                for mode in ("iso", "volume"):
                    figures[f"3D {mode} 512 x 512"] = [
                        _timed(to_viewer, f"{series}/volume", mode=mode, azimuth=30 * i) for i in range(args.runs)
                    ]
        finally:
            viewer.stop()
            pacs.stop()
    print(f"series: {args.slices} slices of {args.size} x {args.size}, 16-bit; medians of {args.runs}+ runs")
    for name, times in figures.items():
        print(f"  {name:34s} {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
