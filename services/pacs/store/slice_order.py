"""The order of a series' slices as Orthanc gives it (`/series/{id}/ordered-slices`, `/series/{id}/numpy`).

A series is a volume when its instances can be sorted along the normal of
the series' Image Orientation (Patient) (PS3.3 C.7.6.2.1.1: the cross
product of the row and column directions): every instance has an Image
Position (Patient), its own orientation (if any) is parallel to the
series', and no two are at the same place along the normal. Otherwise it
is a sequence, sorted by index in series (Instance Number), which every
instance must then have. One instance is a sequence. Numbers are read and
compared as single-precision floats, with Orthanc's tolerances. This is
Orthanc 1.10.1's ordering (later versions leave out the slices they cannot
place); it answers 500 for a series it cannot order, pacsbox 409.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pacsbox.core.errors import Conflict

__all__ = ["SliceInfo", "SliceOrder", "order_slices"]

_TOLERANCE = 10 * float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class SliceInfo:
    """What the ordering reads of one instance (its main DICOM tags, in Orthanc's string form)."""

    public_id: str
    frames: int
    index_in_series: int | None
    position: str | None
    """Image Position (Patient), `x\\y\\z`."""
    orientation: str | None
    """Image Orientation (Patient), six direction cosines."""


@dataclass(frozen=True)
class SliceOrder:
    volume: bool
    """Sorted along the normal (Orthanc's `Type` "Volume"), else by index in series ("Sequence")."""
    slices: list[SliceInfo]


def _vector(text: str | None, size: int) -> np.ndarray | None:
    parts = (text or "").split("\\")
    if len(parts) != size:
        return None
    try:
        return np.array([float(part) for part in parts], dtype=np.float32)
    except ValueError:
        return None


def _normal(orientation: str | None) -> np.ndarray | None:
    cosines = _vector(orientation, 6)
    return None if cosines is None else np.cross(cosines[:3], cosines[3:]).astype(np.float32)


def _parallel(u: np.ndarray, v: np.ndarray) -> bool:
    norms = float(np.linalg.norm(u.astype(np.float64)) * np.linalg.norm(v.astype(np.float64)))
    if abs(norms) < _TOLERANCE:
        return False
    cosine = float(np.dot(u.astype(np.float64), v.astype(np.float64))) / norms
    return abs(abs(cosine) - 1.0) < _TOLERANCE


def _along_normal(normal: np.ndarray | None, slices: list[SliceInfo]) -> list[SliceInfo] | None:
    """`slices` sorted along `normal`, or None when they make no volume."""
    if normal is None:
        return None
    placed: list[tuple[np.float32, SliceInfo]] = []
    for item in slices:
        position, own = _vector(item.position, 3), _normal(item.orientation)
        if position is None or (own is not None and not _parallel(own, normal)):
            return None
        placed.append((np.float32(np.dot(normal, position)), item))
    placed.sort(key=lambda pair: pair[0])
    gaps = np.diff(np.array([distance for distance, _ in placed], dtype=np.float32))
    if np.any(np.abs(gaps) <= _TOLERANCE):
        return None
    return [item for _, item in placed]


def order_slices(series_id: str, series_orientation: str | None, slices: list[SliceInfo]) -> SliceOrder:
    """The instances of a series in Orthanc's order, given the series' Image Orientation (Patient).

    Raises:
        Conflict: the series is no volume and some instance has no Instance Number.
    """
    if len(slices) <= 1:
        return SliceOrder(False, list(slices))
    volume = _along_normal(_normal(series_orientation), slices)
    if volume is not None:
        return SliceOrder(True, volume)
    if any(item.index_in_series is None for item in slices):
        raise Conflict(
            f"the slices of series {series_id} cannot be ordered: they are no volume (Image Position and"
            " Orientation (Patient)) and not all have an Instance Number"
        )
    return SliceOrder(False, sorted(slices, key=lambda item: item.index_in_series or 0))
