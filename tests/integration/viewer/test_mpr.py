"""MPR planes of a box phantom, fetched by the viewer from the pacs over DICOMweb."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.integration.viewer.conftest import COLUMNS, ROWS, SLICES, Phantom
from tests.support.dicom import dataset_bytes, make_series
from tests.support.dicomweb import store
from tests.support.servers import ServiceProcess

BRIGHT, DARK = 200, 50


def image(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("L"))


def test_axial_plane_is_the_stored_slice_at_its_position(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.get(f"{phantom.api}/mpr", params={"plane": "axial", "index": 30})
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["x-plane-count"] == str(SLICES)
    pixels = image(answer)
    assert pixels.shape == (ROWS, COLUMNS)
    assert pixels[30, 16] > BRIGHT  # inside the box (row 20..39, column 8..23)
    assert pixels[30, 50] < DARK and pixels[5, 16] < DARK
    below = image(viewer_http.get(f"{phantom.api}/mpr", params={"plane": "axial", "index": 10}))
    assert below.max() < DARK  # slice 10 lies under the box: sorting went by position, not by send order


def test_sagittal_plane_shows_the_box_high_and_to_the_front(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.get(f"{phantom.api}/mpr", params={"plane": "sagittal", "index": 16})
    assert answer.headers["x-plane-count"] == str(COLUMNS)
    pixels = image(answer)
    height = round(SLICES * 1.25 / 0.7)  # slices 1.25 mm apart shown on 0.7 mm pixels
    assert pixels.shape == (height, ROWS)
    # Superior at the top: slices 25..34 of 0..39 are rows ~9..25 of 71; anterior (row 20..39) runs left to right.
    bright_rows = np.flatnonzero(pixels[:, 30] > BRIGHT)
    assert 7 <= bright_rows.min() <= 11 and 23 <= bright_rows.max() <= 27
    bright_columns = np.flatnonzero(pixels[16] > BRIGHT)
    assert bright_columns.min() == 20 and bright_columns.max() == 39
    assert pixels[50].max() < DARK  # lower down: air
    outside = image(viewer_http.get(f"{phantom.api}/mpr", params={"plane": "sagittal", "index": 50}))
    assert outside.max() < DARK


def test_coronal_plane_keeps_the_patients_right_on_the_left(viewer_http: httpx.Client, phantom: Phantom) -> None:
    pixels = image(viewer_http.get(f"{phantom.api}/mpr", params={"plane": "coronal", "index": 30}))
    assert pixels.shape == (round(SLICES * 1.25 / 0.7), COLUMNS)
    bright_columns = np.flatnonzero(pixels[16] > BRIGHT)
    assert bright_columns.min() == 8 and bright_columns.max() == 23


def test_middle_plane_without_index_and_jpeg(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.get(f"{phantom.api}/mpr", params={"plane": "coronal", "format": "jpeg"})
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-plane-index"] == str(ROWS // 2)
    assert image(answer).shape == (round(SLICES * 1.25 / 0.7), COLUMNS)


def test_window_changes_the_pixels(viewer_http: httpx.Client, phantom: Phantom) -> None:
    stored = image(viewer_http.get(f"{phantom.api}/mpr", params={"plane": "axial", "index": 30}))
    wide = image(viewer_http.get(f"{phantom.api}/mpr", params={"plane": "axial", "index": 30, "window": "0,4000"}))
    assert stored[5, 5] == 0 and stored[30, 16] == 255  # the series' own 40/400 window clips air and bone
    assert 60 < wide[5, 5] < 80 and 180 < wide[30, 16] < 200  # -1000 and 1000 HU inside a 4000 wide window
    assert not np.array_equal(stored, wide)


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"plane": "oblique"}, 400, "axial, coronal or sagittal"),
        ({"plane": "axial", "index": 40}, 400, "0 to 39"),
        ({"window": "40"}, 400, "center,width"),
        ({"format": "gif"}, 400, "png or jpeg"),
    ],
)
def test_bad_parameters_are_named(viewer_http: httpx.Client, phantom: Phantom, params: dict, status: int,
                                  words: str) -> None:
    answer = viewer_http.get(f"{phantom.api}/mpr", params=params)
    assert answer.status_code == status
    assert words in answer.json()["error"]


def test_unknown_series_is_404(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.get(f"/api/studies/{phantom.study}/series/1.2.3.4/mpr")
    assert answer.status_code == 404
    assert "1.2.3.4" in answer.json()["error"]


def test_slices_stored_later_join_the_volume(viewer_http: httpx.Client, pacs: ServiceProcess) -> None:
    """The cached volume is rebuilt when the series gains instances."""
    slices = list(make_series(25, rows=16, columns=16))
    series = f"/api/studies/{slices[0].StudyInstanceUID}/series/{slices[0].SeriesInstanceUID}/mpr"
    with httpx.Client(base_url=pacs.url, timeout=60) as client:
        for ds in slices[:20]:
            store(client, dataset_bytes(ds))
        assert viewer_http.get(series).headers["x-plane-count"] == "20"
        for ds in slices[20:]:
            store(client, dataset_bytes(ds))
    assert viewer_http.get(series).headers["x-plane-count"] == "25"
