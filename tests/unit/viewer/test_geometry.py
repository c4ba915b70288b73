"""Slices to a volume on the patient axes, whatever plane the series was acquired in."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from pacsbox.core.errors import PixelDataError
from pacsbox.viewer.render.geometry import slices_of, stack_volume

SHAPE = (6, 5, 4)
"""The patient-space test volume: x (to the left), y (to posterior), z (to superior)."""

Cut = Callable[[np.ndarray, int], tuple[np.ndarray, list[float]]]


def item(uid: str, position: list[float], orientation: list[float], rows: int, columns: int,
         **extra: dict) -> dict:
    tags = {
        "00080018": [uid], "00200032": position, "00200037": orientation, "00280030": [1.0, 1.0],
        "00280010": [rows], "00280011": [columns], "00280100": [16], "00280103": [1], "00281052": [-5],
        "00281053": [2],
    }
    return {tag: {"Value": value} for tag, value in {**tags, **extra}.items()}


# Each acquisition: its orientation (row direction, column direction) and how a slice cuts the volume.
ACQUISITIONS: dict[str, tuple[list[float], int, Cut]] = {
    "axial": ([1, 0, 0, 0, 1, 0], 2, lambda p, s: (p[:, :, s].T, [0, 0, s])),
    "coronal": ([1, 0, 0, 0, 0, -1], 1, lambda p, s: (p[:, s, ::-1].T, [0, s, SHAPE[2] - 1])),
    "sagittal": ([0, 1, 0, 0, 0, -1], 0, lambda p, s: (p[s, :, ::-1].T, [s, 0, SHAPE[2] - 1])),
}


@pytest.mark.parametrize("name", sorted(ACQUISITIONS))
def test_any_acquisition_plane_lands_on_the_patient_axes(name: str) -> None:
    orientation, axis, cut = ACQUISITIONS[name]
    patient = np.random.default_rng(1).integers(-100, 100, SHAPE).astype(np.int16)
    metadata, frames = [], {}
    for s in np.random.default_rng(2).permutation(SHAPE[axis]):
        image, position = cut(patient, int(s))
        metadata.append(item(f"1.{s}", [float(v) for v in position], orientation, *image.shape))
        frames[f"1.{s}"] = ((image.astype(np.int32) + 5) // 2).astype("<i2").tobytes()  # stored = (HU + 5) / 2
    patient = (patient.astype(np.int32) + 5) // 2 * 2 - 5  # what slope 2 and intercept -5 give back
    slices = slices_of(metadata)
    volume = stack_volume(slices, [frames[s.sop_instance_uid] for s in slices])
    assert volume.voxels.shape == SHAPE
    assert np.array_equal(volume.voxels, patient)


def test_spacing_follows_the_axes() -> None:
    metadata = [item(f"1.{k}", [0, 0, 2.5 * k], [1, 0, 0, 0, 1, 0], 3, 4, **{"00280030": [0.5, 0.8]})
                for k in range(3)]
    slices = slices_of(metadata)
    volume = stack_volume(slices, [bytes(24)] * 3)
    assert volume.voxels.shape == (4, 3, 3)
    assert volume.spacing == (0.8, 0.5, 2.5)  # columns (x), rows (y), slices (z)


def test_window_is_the_first_slices_or_the_span_of_values() -> None:
    windowed = [item(f"1.{k}", [0, 0, k], [1, 0, 0, 0, 1, 0], 1, 2, **{"00281050": [40], "00281051": [400]})
                for k in range(2)]
    assert stack_volume(slices_of(windowed), [bytes(4)] * 2).window.width == 400
    plain = [item(f"1.{k}", [0, 0, k], [1, 0, 0, 0, 1, 0], 1, 2) for k in range(2)]
    frames = [np.array([0, 100], "<i2").tobytes()] * 2
    window = stack_volume(slices_of(plain), frames).window
    assert (window.center - window.width / 2, window.center + window.width / 2) == (-5, 195)  # 0 and 100 rescaled


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ([item("1.1", [0, 0, 0], [1, 0, 0, 0, 1, 0], 2, 2)], "at least two slices"),
        ([item("1.1", [0, 0, 0], [1, 0, 0, 0, 1, 0], 2, 2), item("1.2", [0, 0, 1], [0, 1, 0, 0, 0, -1], 2, 2)],
         "orientation"),
        ([item("1.1", [0, 0, 0], [1, 0, 0, 0, 1, 0], 2, 2), item("1.2", [0, 0, 1], [1, 0, 0, 0, 1, 0], 3, 2)],
         "size"),
        ([item("1.1", [0, 0, 1], [1, 0, 0, 0, 1, 0], 2, 2), item("1.2", [0, 0, 1], [1, 0, 0, 0, 1, 0], 2, 2)],
         "share a position"),
        ([item("1.1", [0, 0, 0], [1, 0, 0, 0, 1, 0], 2, 2, **{"00280008": [3]})] * 2, "multi-frame"),
        ([item("1.1", [0, 0, 0], [1, 0, 0, 0, 1, 0], 2, 2, **{"00280002": [3]})] * 2, "greyscale"),
        ([item("1.1", [0, 0, 0], [1, 0, 0], 2, 2)] * 2, "Image Orientation (Patient)"),
    ],
)
def test_series_that_are_not_one_volume_are_refused_with_the_reason(metadata: list[dict], words: str) -> None:
    with pytest.raises(PixelDataError, match=re.escape(words)):
        slices_of(metadata)


def test_short_frames_are_refused() -> None:
    slices = slices_of([item(f"1.{k}", [0, 0, k], [1, 0, 0, 0, 1, 0], 2, 2) for k in range(2)])
    with pytest.raises(PixelDataError, match="8 expected"):
        stack_volume(slices, [bytes(8), bytes(6)])
