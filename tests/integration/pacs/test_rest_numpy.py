"""`/instances/{id}/numpy`, `/instances/{id}/frames/{n}/numpy` and `/series/{id}/numpy`: the arrays a real
Orthanc 1.10.1 gives for the same files."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, encapsulated_pdf, make_series
from tests.support.dicomweb import renamed

pytestmark = pytest.mark.db

FILES = ["CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm", "MR_small_bigendian.dcm", "SC_rgb_jpeg_dcmtk.dcm",
         "examples_ybr_color.dcm"]
LOSSY_TOLERANCE = {"examples_ybr_color.dcm": 3}
"""Largest difference of a sample decoded from lossy JPEG YBR by pacsbox's decoder and by Orthanc's (DCMTK's
IJG code rounds its colour conversion otherwise)."""


def upload_to_both(http: httpx.Client, orthanc: httpx.Client, data: bytes) -> dict[str, Any]:
    ours, theirs = http.post("/instances", content=data), orthanc.post("/instances", content=data)
    assert ours.status_code == theirs.status_code == 200, ours.text
    return ours.json()


def loaded(answer: httpx.Response) -> np.ndarray:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    found = np.load(io.BytesIO(answer.content))
    return found["arr_0"] if isinstance(found, np.lib.npyio.NpzFile) else found


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("query", ["", "?rescale=false", "?compress"])
def test_instance_arrays_are_orthanc_s(http: httpx.Client, orthanc: httpx.Client, name: str, query: str) -> None:
    stored = upload_to_both(http, orthanc, renamed(TEST_FILES / name))
    path = f"/instances/{stored['ID']}/numpy{query}"
    ours, theirs = loaded(http.get(path)), loaded(orthanc.get(path))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.shape, ours.dtype, theirs.dtype)
    tolerance = LOSSY_TOLERANCE.get(name, 0)
    worst = int(np.abs(ours.astype(np.int64) - theirs.astype(np.int64)).max())
    assert worst <= tolerance
    frame = loaded(http.get(f"/instances/{stored['ID']}/frames/{len(ours) - 1}/numpy{query}"))
    assert np.array_equal(frame, ours[-1])


@pytest.mark.parametrize(("name", "shape", "dtype"), [
    ("JPEG2000.dcm", (1, 1024, 256, 1), np.float32), ("rtdose.dcm", (15, 10, 10, 1), np.float32),
])
def test_what_orthanc_cannot_decode(http: httpx.Client, orthanc: httpx.Client, name: str, shape: tuple[int, ...],
                                    dtype: type) -> None:
    """Orthanc 1.10.1 without plugins answers 500 "Not implemented yet" for JPEG 2000 and 32-bit pixels;
    pacsbox decodes them."""
    stored = upload_to_both(http, orthanc, renamed(TEST_FILES / name))
    assert orthanc.get(f"/instances/{stored['ID']}/numpy").status_code == 500
    ours = loaded(http.get(f"/instances/{stored['ID']}/numpy"))
    assert ours.shape == shape and ours.dtype == dtype


def test_rescaled_values_are_modality_values(http: httpx.Client) -> None:
    ds = next(make_series(1, rows=4, columns=4))
    ds.RescaleSlope, ds.RescaleIntercept = 2, -1024
    stored = http.post("/instances", content=dataset_bytes(ds)).json()
    stored_values = np.frombuffer(ds.PixelData, dtype="<i2").reshape(4, 4)
    rescaled = loaded(http.get(f"/instances/{stored['ID']}/numpy"))
    assert rescaled.dtype == np.float32 and rescaled.shape == (1, 4, 4, 1)
    assert np.array_equal(rescaled[0, :, :, 0], stored_values * 2.0 - 1024)
    raw = loaded(http.get(f"/instances/{stored['ID']}/numpy?rescale=0"))
    assert raw.dtype == np.int16 and np.array_equal(raw[0, :, :, 0], stored_values)


def test_series_array_is_orthanc_s_in_slice_order(http: httpx.Client, orthanc: httpx.Client) -> None:
    slices = list(make_series(3, rows=8, columns=8))
    for ds, number in zip(slices, (2, 3, 1)):  # numbers against the positions: the positions win
        ds.InstanceNumber = number
    stored = [upload_to_both(http, orthanc, dataset_bytes(ds)) for ds in reversed(slices)]
    path = f"/series/{stored[0]['ParentSeries']}/numpy"
    ours = loaded(http.get(path))
    assert np.array_equal(ours, loaded(orthanc.get(path)))
    assert ours.shape == (3, 8, 8, 1)
    assert [int(frame[0, 0, 0]) for frame in ours] == [-1000, -999, -998]  # make_series adds the slice's index
    assert np.array_equal(loaded(http.get(f"{path}?compress")), ours)


def test_series_of_unlike_frames_answers_409(http: httpx.Client) -> None:
    """Slices of two sizes make no one array (Orthanc 1.10.1 answers 500, "Incompatible size of the images")."""
    small = next(make_series(1, rows=8, columns=8))
    large = next(make_series(1, rows=16, columns=16, patient_id=str(small.PatientID),
                             study_uid=str(small.StudyInstanceUID), series_uid=str(small.SeriesInstanceUID)))
    large.ImagePositionPatient = [0, 0, 5]
    stored = [http.post("/instances", content=dataset_bytes(ds)).json() for ds in (small, large)]
    answer = http.get(f"/series/{stored[0]['ParentSeries']}/numpy")
    assert answer.status_code == 409 and "no one array" in answer.json()["error"]


def test_errors_name_what_is_missing(http: httpx.Client) -> None:
    unknown = "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff"
    for path in (f"/instances/{unknown}/numpy", f"/instances/{unknown}/frames/0/numpy", f"/series/{unknown}/numpy"):
        answer = http.get(path)
        assert answer.status_code == 404 and unknown in answer.json()["error"]
    stored = http.post("/instances", content=dataset_bytes(next(make_series(1, rows=4, columns=4)))).json()
    past = http.get(f"/instances/{stored['ID']}/frames/1/numpy")
    assert past.status_code == 404 and "1 frame(s)" in past.json()["error"]
    assert http.get(f"/series/{stored['ID']}/numpy").status_code == 404
    pdf = http.post("/instances", content=dataset_bytes(encapsulated_pdf(b"%PDF-1.4\n"))).json()
    assert http.get(f"/instances/{pdf['ID']}/numpy").status_code == 415  # no pixel data (Orthanc: 500)
