"""Planes cut from a volume: orientation on screen, square pixels, bounds."""

from __future__ import annotations

import numpy as np
import pytest

from pacsbox.core.errors import BadRequest
from pacsbox.core.imaging import Window
from pacsbox.viewer.render.geometry import Volume
from pacsbox.viewer.render.mpr import Plane, plane_count, reslice, square_pixels


def marked_volume() -> Volume:
    """4 x 5 x 6 voxels (x, y, z), 1 x 1 x 2 mm, with one marked voxel at x=0, y=1, z=5 (right, front, top)."""
    voxels = np.zeros((4, 5, 6), dtype=np.float32)
    voxels[0, 1, 5] = 1
    return Volume(voxels, (1.0, 1.0, 2.0), Window(0.5, 1), monochrome1=False)


@pytest.mark.parametrize(
    ("plane", "index", "shape", "mark"),
    [
        (Plane.AXIAL, 5, (5, 4), (1, 0)),  # anterior at the top, the patient's right on the left
        (Plane.CORONAL, 1, (6, 4), (0, 0)),  # superior at the top, the patient's right on the left
        (Plane.SAGITTAL, 0, (6, 5), (0, 1)),  # superior at the top, anterior on the left
    ],
)
def test_planes_are_shown_as_radiologists_read_them(plane: Plane, index: int, shape: tuple, mark: tuple) -> None:
    image, _, _ = reslice(marked_volume(), plane, index)
    assert image.shape == shape
    assert image[mark] == 1 and image.sum() == 1


def test_plane_counts_follow_the_axes() -> None:
    volume = marked_volume()
    assert [plane_count(volume, p) for p in (Plane.SAGITTAL, Plane.CORONAL, Plane.AXIAL)] == [4, 5, 6]


def test_thick_slices_are_stretched_to_square_pixels() -> None:
    image, row_spacing, column_spacing = reslice(marked_volume(), Plane.CORONAL, 1)
    assert (row_spacing, column_spacing) == (2.0, 1.0)
    square = square_pixels(image, row_spacing, column_spacing)
    assert square.shape == (12, 4)
    assert square[0, 0] == 1 and 0 < square[1, 0] < 1  # linear between the top row and the next


def test_index_outside_the_volume_is_refused() -> None:
    with pytest.raises(BadRequest, match="0 to 3"):
        reslice(marked_volume(), Plane.SAGITTAL, 4)
