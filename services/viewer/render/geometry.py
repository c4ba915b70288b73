"""A series of single-frame slices as one volume in patient coordinates (PS3.3 C.7.6.2).

Slices are read from their DICOM JSON metadata: Image Position and
Orientation (Patient), Pixel Spacing and the Image Pixel module. They must
share one orientation and size; they are sorted along the slice normal
(the cross product of the row and column directions), never by Instance
Number. Stored values go through Rescale Slope and Intercept to modality
values (Hounsfield units for CT).

The volume is then turned onto the patient axes closest to its own
(LPS: x to the patient's left, y to posterior, z to superior) by
transposing and flipping, so axial, coronal and sagittal planes are plain
array slices. An oblique acquisition shows its nearest patient planes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import Window

__all__ = ["Slice", "Volume", "slices_of", "stack_volume"]

_ORIENTATION_TOLERANCE = 1e-3


def _values(item: dict[str, Any], tag: str) -> list[Any]:
    return list((item.get(tag) or {}).get("Value") or [])


def _number(item: dict[str, Any], tag: str, default: float | None = None) -> float | None:
    values = _values(item, tag)
    try:
        number = float(values[0]) if values else default
    except (TypeError, ValueError):
        return default
    return number if number is None or math.isfinite(number) else default


def _numbers(item: dict[str, Any], tag: str, count: int, name: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in _values(item, tag)], dtype=np.float64)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != (count,) or not np.all(np.isfinite(values)):
        raise PixelDataError(f"a volume needs {name} ({tag[:4]},{tag[4:]}) with {count} numbers in every slice")
    return values


@dataclass(frozen=True)
class Slice:
    """One single-frame image of the series, as its metadata describes it."""

    sop_instance_uid: str
    position: np.ndarray
    orientation: np.ndarray
    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    dtype: np.dtype
    slope: float
    intercept: float
    window: Window | None
    monochrome1: bool

    @classmethod
    def of(cls, item: dict[str, Any]) -> Slice:
        """Read one instance's DICOM JSON.

        Raises:
            PixelDataError: not a single-frame greyscale image with full geometry.
        """
        uid = str((_values(item, "00080018") or [""])[0])
        if int(_number(item, "00280008", 1) or 1) != 1:
            raise PixelDataError(f"instance {uid} is multi-frame: MPR and 3D read series of single-frame slices")
        if int(_number(item, "00280002", 1) or 1) != 1:
            raise PixelDataError(f"instance {uid} is not greyscale: MPR and 3D need one sample per pixel")
        bits = int(_number(item, "00280100", 16) or 16)
        if bits not in (8, 16, 32):
            raise PixelDataError(f"instance {uid} has {bits} bits allocated; volumes read 8, 16 or 32")
        signed = int(_number(item, "00280103", 0) or 0) == 1
        spacing = _numbers(item, "00280030", 2, "Pixel Spacing")
        if np.any(spacing <= 0):
            raise PixelDataError(f"instance {uid} has a Pixel Spacing that is not positive")
        center, width = _number(item, "00281050"), _number(item, "00281051")
        try:
            window = Window(center, width) if center is not None and width is not None else None
        except ValueError:
            window = None
        slope = _number(item, "00281053", 1.0) or 1.0
        return cls(
            sop_instance_uid=uid,
            position=_numbers(item, "00200032", 3, "Image Position (Patient)"),
            orientation=_numbers(item, "00200037", 6, "Image Orientation (Patient)"),
            rows=int(_number(item, "00280010", 0) or 0),
            columns=int(_number(item, "00280011", 0) or 0),
            pixel_spacing=(float(spacing[0]), float(spacing[1])),
            dtype=np.dtype(f"<{'i' if signed else 'u'}{bits // 8}"),
            slope=slope,
            intercept=_number(item, "00281052", 0.0) or 0.0,
            window=window,
            monochrome1=str((_values(item, "00280004") or [""])[0]).strip() == "MONOCHROME1",
        )

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.orientation[:3], self.orientation[3:])

    def decode(self, frame: bytes) -> np.ndarray:
        """Uncompressed little-endian frame bytes to modality values (float32, rows x columns).

        Raises:
            PixelDataError: fewer bytes than the image needs.
        """
        count = self.rows * self.columns
        needed = count * self.dtype.itemsize
        if len(frame) < needed:
            raise PixelDataError(f"instance {self.sop_instance_uid}: {len(frame)} pixel bytes, {needed} expected")
        values = np.frombuffer(frame, dtype=self.dtype, count=count).reshape(self.rows, self.columns)
        return (values.astype(np.float32) * np.float32(self.slope)) + np.float32(self.intercept)


def slices_of(metadata: list[dict[str, Any]]) -> list[Slice]:
    """The series' slices sorted along their normal (feet to head for an axial series).

    Raises:
        PixelDataError: fewer than two slices, mixed sizes or orientations, or slices at one position.
    """
    slices = [Slice.of(item) for item in metadata if _values(item, "00200032")]
    if len(slices) < 2:
        raise PixelDataError(f"a volume needs at least two slices with a position; the series has {len(slices)}")
    first = slices[0]
    for other in slices[1:]:
        if (other.rows, other.columns) != (first.rows, first.columns):
            raise PixelDataError("the slices of the series differ in size: it is not one volume")
        if np.max(np.abs(other.orientation - first.orientation)) > _ORIENTATION_TOLERANCE:
            raise PixelDataError("the slices of the series differ in orientation: it is not one volume")
    normal = first.normal
    slices.sort(key=lambda s: float(np.dot(s.position, normal)))
    gaps = np.diff([float(np.dot(s.position, normal)) for s in slices])
    if np.min(gaps) <= 1e-4:
        raise PixelDataError("two slices of the series share a position: it is not one volume")
    return slices


@dataclass(frozen=True)
class Volume:
    """Modality values on the patient axes: `voxels[x, y, z]`, x to the left, y to posterior, z to superior."""

    voxels: np.ndarray
    spacing: tuple[float, float, float]
    """Millimetres between voxel centres along x, y and z."""
    window: Window
    """The series' own window (its first slice's), else one spanning the values."""
    monochrome1: bool

    @property
    def nbytes(self) -> int:
        return int(self.voxels.nbytes)


def stack_volume(slices: list[Slice], frames: list[bytes]) -> Volume:
    """Decode the sorted slices' frames into one volume on the patient axes."""
    first = slices[0]
    data = np.empty((len(slices), first.rows, first.columns), dtype=np.float32)
    for index, (item, frame) in enumerate(zip(slices, frames, strict=True)):
        data[index] = item.decode(frame)
    positions = [float(np.dot(s.position, first.normal)) for s in slices]
    slice_gap = float(np.median(np.diff(positions)))
    # Array axes (slice, row, column) run along the normal, the column direction and the row direction.
    directions = np.array([first.normal, first.orientation[3:], first.orientation[:3]])
    spacings = (slice_gap, first.pixel_spacing[0], first.pixel_spacing[1])
    axes = _nearest_patient_axes(directions)
    order = [axes.index(patient) for patient in range(3)]
    voxels = np.transpose(data, order)
    for patient, axis in enumerate(order):
        if directions[axis][patient] < 0:
            voxels = np.flip(voxels, axis=patient)
    window = first.window or _span_window(data)
    spacing = tuple(spacings[axis] for axis in order)
    return Volume(np.ascontiguousarray(voxels), spacing, window, first.monochrome1)  # type: ignore[arg-type]


def _nearest_patient_axes(directions: np.ndarray) -> list[int]:
    """For each array axis, the patient axis (0 x, 1 y, 2 z) it runs closest to, each used once."""
    chosen: list[int | None] = [None, None, None]
    free = {0, 1, 2}
    for axis in np.argsort(-np.max(np.abs(directions), axis=1)):
        patient = max(free, key=lambda p: abs(directions[axis][p]))
        chosen[int(axis)] = patient
        free.remove(patient)
    return [int(p) for p in chosen if p is not None]


def _span_window(data: np.ndarray) -> Window:
    low, high = (float(v) for v in np.percentile(data, [0.5, 99.5]))
    return Window((low + high) / 2, max(high - low, 1.0))
