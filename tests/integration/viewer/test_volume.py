"""3D renderings of the box phantom (pyvista off screen)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.integration.viewer.conftest import Phantom, start_viewer
from tests.support.servers import ServiceProcess


def rgb(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


@pytest.mark.parametrize("mode", ["iso", "volume"])
def test_rendering_draws_the_box(viewer_http: httpx.Client, phantom: Phantom, mode: str) -> None:
    pixels = rgb(viewer_http.get(f"{phantom.api}/volume", params={"mode": mode, "threshold": 0, "size": 128}))
    assert pixels.shape == (128, 128, 3)
    lit = (pixels.max(axis=2) > 30).mean()
    assert 0.01 < lit < 0.9  # the box covers part of the picture, the black background the rest


def test_turning_the_camera_changes_the_picture(viewer_http: httpx.Client, phantom: Phantom) -> None:
    front = rgb(viewer_http.get(f"{phantom.api}/volume", params={"size": 96}))
    side = rgb(viewer_http.get(f"{phantom.api}/volume", params={"size": 96, "azimuth": 90}))
    assert not np.array_equal(front, side)


def test_a_threshold_above_every_value_draws_nothing(viewer_http: httpx.Client, phantom: Phantom) -> None:
    pixels = rgb(viewer_http.get(f"{phantom.api}/volume", params={"threshold": 5000, "size": 64}))
    assert pixels.max() < 30


def test_size_is_bounded_by_the_setting(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.get(f"{phantom.api}/volume", params={"size": 5000})
    assert answer.status_code == 400
    assert "PACSBOX_VIEWER_MAX_RENDER_SIZE" in answer.json()["error"]


def test_without_pyvista_the_answer_is_503_naming_the_extra(tmp_path: Path, pacs: ServiceProcess,
                                                             phantom: Phantom) -> None:
    """A viewer whose Python cannot import pyvista (a package on its path that refuses to load)."""
    blocker = tmp_path / "block" / "pyvista"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('pyvista is blocked for this test')\n")
    path = os.pathsep.join([str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])])
    server = start_viewer(tmp_path / "viewer", pacs, PYTHONPATH=path)
    try:
        answer = httpx.get(f"{server.url}{phantom.api}/volume", timeout=60)
        assert answer.status_code == 503
        assert "pacsbox[viewer3d]" in answer.json()["error"]
        assert httpx.get(f"{server.url}{phantom.api}/mpr", timeout=60).status_code == 200
    finally:
        server.stop()
