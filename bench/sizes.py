"""How much data the benchmark makes and how often it repeats each request: default and quick sizes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT", "QUICK", "Sizes"]


@dataclass(frozen=True)
class Sizes:
    """Every size the run depends on; `python -m bench --help` lists them as flags."""

    ingest_runs: int = 5
    """Times each ingest row runs, each on a fresh series (median and worst are reported). Five, not three: in
    Dec 5's runs the worst of a server's three rounds often read far below the other two (pacsbox's four-client
    STOW-RS 429 instances/s against medians of 555 to 576), so one more slow moment of the shared machine
    decided a row's median."""
    ct_slices: int = 300
    """Slices of each CT series (STOW-RS, C-STORE, REST and retrieval scenarios)."""
    ct_size: int = 512
    """Rows and columns of a CT slice (16-bit)."""
    mr_slices: int = 100
    """Slices of the MR series (256x256)."""
    frames: int = 60
    """Frames of the multi-frame instance (CT size, 16-bit)."""
    jpeg_slices: int = 40
    """Slices of the JPEG Lossless CT set (dcmtk's dcmcjpeg)."""
    studies: int = 1000
    """Small studies indexed for the QIDO-RS searches."""
    searches: int = 50
    """Requests per QIDO-RS query."""
    metadata_runs: int = 10
    """Requests of the series metadata."""
    retrieve_runs: int = 5
    """Whole-series retrievals."""
    frame_requests: int = 100
    """Single-frame and rendered requests per row."""
    ceiling_mb: int = 512
    """Megabytes written with fsync for the disk ceiling."""
    settle_s: int = 420
    """Seconds the run may wait, before measuring, for file creation on its disk to cost what it normally does
    (`bench/disk_settle.py`: after a large deletion, ext4 without a journal pays for a minute or more)."""
    disk_gb: int = 16
    """Free space, in GB, the run needs where it works (data, both servers' storage): a run at default sizes
    peaked at 13.9 GB (Dec 6 2026, `df` each second, five ingest rounds). On a fuller disk a server fails
    mid-run, so the run refuses to start."""


DEFAULT = Sizes()

QUICK = Sizes(
    ingest_runs=1, ct_slices=40, ct_size=512, mr_slices=20, frames=10, jpeg_slices=10, studies=100, searches=10,
    metadata_runs=3, retrieve_runs=2, frame_requests=20, ceiling_mb=64, settle_s=0, disk_gb=1,
)
"""A smoke run of about two minutes: every scenario, small data; file creation is measured, never waited for."""
