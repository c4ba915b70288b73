"""Multiplanar reformatting: one axial, coronal or sagittal plane of a volume as an image.

Planes are shown as radiologists read them: axial seen from the feet
(patient's right on the image's left, anterior at the top), coronal seen
from the front and sagittal seen from the patient's left (superior at the
top of both). The plane's pixels are resampled (linear) so they are square
in millimetres, then windowed and encoded with `pacsbox.core.imaging`.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from pacsbox.core.errors import BadRequest
from pacsbox.core.imaging import ImageType, Window, encode_image
from pacsbox.viewer.render.geometry import Volume

__all__ = ["Plane", "plane_count", "render_plane", "reslice"]


class Plane(StrEnum):
    """The patient planes an MPR image is cut along."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


_AXIS = {Plane.SAGITTAL: 0, Plane.CORONAL: 1, Plane.AXIAL: 2}
"""The patient axis (x, y, z) each plane is perpendicular to."""


def plane_count(volume: Volume, plane: Plane) -> int:
    """How many planes of this kind the volume holds."""
    return int(volume.voxels.shape[_AXIS[plane]])


def reslice(volume: Volume, plane: Plane, index: int) -> tuple[np.ndarray, float, float]:
    """The plane at `index` (0 = right, anterior or inferior end) as rows x columns, with their spacings.

    Raises:
        BadRequest: `index` outside the volume.
    """
    count = plane_count(volume, plane)
    if not 0 <= index < count:
        raise BadRequest(f"index {index} is outside the {plane} planes of this series (0 to {count - 1})")
    dx, dy, dz = volume.spacing
    v = volume.voxels
    if plane is Plane.AXIAL:
        return v[:, :, index].T, dy, dx
    if plane is Plane.CORONAL:
        return v[:, index, :].T[::-1], dz, dx
    return v[index, :, :].T[::-1], dz, dy


def square_pixels(image: np.ndarray, row_spacing: float, column_spacing: float) -> np.ndarray:
    """Rows resampled (linear) so a row step covers as many millimetres as a column step."""
    height = max(1, round(image.shape[0] * row_spacing / column_spacing))
    if height == image.shape[0]:
        return image
    where = np.linspace(0, image.shape[0] - 1, height)
    below = np.floor(where).astype(int)
    above = np.minimum(below + 1, image.shape[0] - 1)
    weight = (where - below)[:, None].astype(np.float32)
    return image[below] * (1 - weight) + image[above] * weight


def render_plane(volume: Volume, plane: Plane, index: int, media_type: ImageType, window: Window | None = None) -> bytes:
    """The plane windowed (the request's window, else the series') and encoded."""
    image, row_spacing, column_spacing = reslice(volume, plane, index)
    values = square_pixels(image, row_spacing, column_spacing)
    grey = np.rint((window or volume.window).apply(values) * 255.0).astype(np.uint8)
    if volume.monochrome1:
        grey = 255 - grey
    return encode_image(grey, media_type)
