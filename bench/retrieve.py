"""Retrieval: WADO-RS series metadata, whole series, single frames; rendered JPEG of a frame.

Every measurement is a function of (target, data, sizes) so that the TLS front
(bench/front.py) measures the same requests through nginx.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.data import BenchData, SeriesFiles
from bench.http import Answer, Target, get_many
from bench.profile import NO_PROFILE, Profiler
from bench.rows import Figure, Goal, Row, figure, in_turns
from bench.sizes import Sizes

__all__ = ["rendered_slice", "retrieve_rows", "series_metadata", "series_retrieval"]

DICOM_JSON = "application/dicom+json"
MULTIPART_DICOM = 'multipart/related; type="application/dicom"'
FRAME = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
JPEG = "image/jpeg"

Measure = Callable[[Target, BenchData, Sizes], Figure]


def _series(target: Target, s: SeriesFiles) -> str:
    return f"{target.dicomweb}/studies/{s.study}/series/{s.series}"


def _instances(target: Target, s: SeriesFiles, count: int, suffix: str) -> list[str]:
    """`count` URLs under distinct instances of `s` (cycling when it has fewer), so nothing is served from a cache."""
    return [f"{_series(target, s)}/instances/{s.sops[i % len(s.sops)]}{suffix}" for i in range(count)]


def _frames(target: Target, s: SeriesFiles, frames: int, count: int, suffix: str = "") -> list[str]:
    return [f"{_series(target, s)}/instances/{s.sops[0]}/frames/{1 + i % frames}{suffix}" for i in range(count)]


def _latency(answers: list[Answer]) -> Figure:
    """Milliseconds per request, the first (warm-up) request left out."""
    return figure([a.seconds for a in answers[1:]], 1000)


def _per_second(answers: list[Answer]) -> Figure:
    timed = answers[1:]
    return Figure(len(timed) / sum(a.seconds for a in timed))


def series_metadata(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    return _latency(get_many(t, [f"{_series(t, data.stow)}/metadata"] * (sizes.metadata_runs + 1), DICOM_JSON))


def series_retrieval(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    answers = get_many(t, [_series(t, data.stow)] * (sizes.retrieve_runs + 1), MULTIPART_DICOM)[1:]
    return figure([a.size / 1e6 / a.seconds for a in answers], better="higher")


def slice_frames(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    return _per_second(get_many(t, _instances(t, data.stow, sizes.frame_requests + 1, "/frames/1"), FRAME))


def multiframe_frames(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    return _per_second(get_many(t, _frames(t, data.multiframe, sizes.frames, sizes.frame_requests + 1), FRAME))


def rendered_slice(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    return _latency(get_many(t, _instances(t, data.stow, sizes.frame_requests + 1, "/rendered"), JPEG))


def rendered_jpeg_slice(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    return _latency(get_many(t, _instances(t, data.jpeg, sizes.frame_requests + 1, "/rendered"), JPEG))


def rendered_multiframe(t: Target, data: BenchData, sizes: Sizes) -> Figure:
    urls = _frames(t, data.multiframe, sizes.frames, sizes.frame_requests + 1, "/rendered")
    return _latency(get_many(t, urls, JPEG))


def _rows(data: BenchData, sizes: Sizes) -> list[tuple[Row, Measure]]:
    n, mb = len(data.stow.files), data.stow.size / 1e6
    return [
        (Row(f"WADO-RS series metadata, {n} slices", "ms", "lower", Goal("ratio", 0.2), key="metadata"),
         series_metadata),
        (Row(f"WADO-RS whole series, {n} slices ({mb:.0f} MB)", "MB/s", "higher", Goal("ratio", 1.0),
             ceiling="http_mb", key="retrieval"), series_retrieval),
        (Row("WADO-RS single frame, distinct CT slices", "frames/s", "higher", Goal("ratio", 1.0), key="frames"),
         slice_frames),
        (Row(f"WADO-RS single frame of the {sizes.frames}-frame instance", "frames/s", "higher", Goal("ratio", 1.0),
             key="multiframe_frames"), multiframe_frames),
        (Row("rendered JPEG of a CT slice", "ms", "lower", Goal("ratio", 1.0), key="rendered"), rendered_slice),
        (Row("rendered JPEG of a JPEG Lossless CT slice", "ms", "lower", Goal("ratio", 1.0), key="rendered_jpeg"),
         rendered_jpeg_slice),
        (Row("rendered JPEG of one frame of the multi-frame", "ms", "lower", Goal("ratio", 1.0),
             key="rendered_multiframe"), rendered_multiframe),
    ]


def retrieve_rows(targets: list[Target], data: BenchData, sizes: Sizes, profiler: Profiler = NO_PROFILE) -> list[Row]:
    """Each request list starts with one warm-up request, left out of the figures; each row in turns."""
    by_name = {t.name: t for t in targets}
    rows = _rows(data, sizes)
    for row, measure in rows:
        def measured(name: str, row: Row = row, measure: Measure = measure) -> Figure:
            with profiler.record(by_name[name], row.key):
                return measure(by_name[name], data, sizes)

        for name, result in in_turns(list(by_name), measured, row.better).items():
            setattr(row, name, result)
    return [row for row, _ in rows]
