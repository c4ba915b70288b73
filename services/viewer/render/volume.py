"""3D renderings of a volume with pyvista (VTK), off screen: an isosurface or a volume rendering.

pyvista is an optional extra (`pip install 'pacsbox[viewer3d]'`): it is
imported inside `render_volume`, so the viewer serves everything else without
it and answers 503 here. VTK renders one image at a time per process. The
camera looks at the patient from the front (anterior view, the patient's
right on the image's left, superior up), then turns by `azimuth` about the
patient's long axis and by `elevation` above it. Volumes larger than
`MAX_EDGE` voxels along an axis are thinned by striding first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from pacsbox.core.errors import Unavailable
from pacsbox.core.imaging import ImageType, encode_image
from pacsbox.viewer.render.geometry import Volume

__all__ = ["RenderMode", "VolumeView", "render_volume"]

MAX_EDGE = 256
_one_at_a_time = threading.Lock()


class RenderMode(StrEnum):
    """`iso`: the surface where values cross a threshold; `volume`: values composited through the window."""

    ISO = "iso"
    VOLUME = "volume"


@dataclass(frozen=True)
class VolumeView:
    """What to draw and from where."""

    mode: RenderMode = RenderMode.ISO
    threshold: float | None = None
    """Isosurface value (modality units, e.g. HU); the volume's window centre when None."""
    size: int = 512
    azimuth: float = 0.0
    elevation: float = 0.0


def _pyvista() -> Any:
    try:
        import pyvista
    except ImportError as error:
        raise Unavailable(
            f"3D rendering needs pyvista and vtk, which are not installed ({error}): pip install 'pacsbox[viewer3d]'"
        ) from None
    return pyvista


def _grid(pv: Any, volume: Volume) -> Any:
    step = max(1, -(-max(volume.voxels.shape) // MAX_EDGE))
    voxels = volume.voxels[::step, ::step, ::step]
    grid = pv.ImageData(dimensions=voxels.shape, spacing=tuple(s * step for s in volume.spacing))
    grid.point_data["values"] = voxels.ravel(order="F")
    return grid


def render_volume(volume: Volume, view: VolumeView, media_type: ImageType = ImageType.PNG) -> bytes:
    """The volume drawn off screen, encoded as PNG or JPEG.

    Raises:
        Unavailable: pyvista (or vtk) is not installed.
    """
    pv = _pyvista()
    grid = _grid(pv, volume)
    low = volume.window.center - volume.window.width / 2
    high = volume.window.center + volume.window.width / 2
    with _one_at_a_time:
        plotter = pv.Plotter(off_screen=True, window_size=(view.size, view.size))
        try:
            plotter.set_background("black")
            if view.mode is RenderMode.ISO:
                threshold = volume.window.center if view.threshold is None else view.threshold
                surface = grid.contour([threshold], scalars="values")
                if surface.n_points:
                    plotter.add_mesh(surface, color="ivory", smooth_shading=True)
            else:
                plotter.add_volume(grid, scalars="values", clim=(low, high), cmap="bone", opacity="linear",
                                   show_scalar_bar=False)
            _anterior_camera(plotter, grid, view)
            pixels = plotter.screenshot(return_img=True)
        finally:
            plotter.close()
    return encode_image(np.ascontiguousarray(pixels[..., :3]), media_type)


def _anterior_camera(plotter: Any, grid: Any, view: VolumeView) -> None:
    center = np.array(grid.center)
    distance = float(np.linalg.norm(np.array(grid.bounds[1::2]) - np.array(grid.bounds[::2]))) * 2
    plotter.camera.focal_point = tuple(center)
    plotter.camera.position = tuple(center - np.array([0.0, distance, 0.0]))
    plotter.camera.up = (0.0, 0.0, 1.0)
    plotter.reset_camera()
    plotter.camera.azimuth = view.azimuth
    plotter.camera.elevation = view.elevation
