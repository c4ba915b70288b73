"""`/series/{id}/ordered-slices`, compared with a real Orthanc 1.10.1 holding the same series."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydicom.dataset import Dataset

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import renamed

pytestmark = pytest.mark.db


def upload_to_both(http: httpx.Client, orthanc: httpx.Client, data: bytes) -> dict[str, Any]:
    ours, theirs = http.post("/instances", content=data), orthanc.post("/instances", content=data)
    assert ours.status_code == theirs.status_code == 200, ours.text
    return ours.json()


def shuffled_numbers(slices: list[Dataset]) -> None:
    """Instance numbers that disagree with the positions: 3, 1, 4, 2 for slices from foot to head."""
    for ds, number in zip(slices, (3, 1, 4, 2)):
        ds.InstanceNumber = number


def same_place(slices: list[Dataset]) -> None:
    """Two slices at one position: no volume."""
    slices[1].ImagePositionPatient = slices[0].ImagePositionPatient


def no_geometry(slices: list[Dataset]) -> None:
    for ds in slices:
        del ds.ImagePositionPatient, ds.ImageOrientationPatient
    shuffled_numbers(slices)


def one_without_position(slices: list[Dataset]) -> None:
    """A slice without a position: no volume (later Orthanc versions leave the slice out instead)."""
    del slices[2].ImagePositionPatient


def one_tilted(slices: list[Dataset]) -> None:
    """A slice not parallel to the others: no volume."""
    slices[2].ImageOrientationPatient = [1, 0, 0, 0, 0.8, -0.6]
    shuffled_numbers(slices)


def same_numbers(slices: list[Dataset]) -> None:
    """No volume, and two slices with one instance number: sorted all the same."""
    for ds, number in zip(slices, (2, 1, 2, 3)):
        del ds.ImagePositionPatient
        ds.InstanceNumber = number


def tilted(slices: list[Dataset]) -> None:
    """Oblique slices, positions along the tilted normal, numbers against them."""
    for index, ds in enumerate(slices):
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0.8, -0.6]
        ds.ImagePositionPatient = [0, 0.6 * index * 2, 0.8 * index * 2]
        ds.InstanceNumber = 10 - index


CASES: dict[str, tuple[Callable[[list[Dataset]], None], str]] = {
    "volume": (shuffled_numbers, "Volume"),
    "same place": (same_place, "Sequence"),
    "no geometry": (no_geometry, "Sequence"),
    "one without position": (one_without_position, "Sequence"),
    "one tilted": (one_tilted, "Sequence"),
    "same numbers": (same_numbers, "Sequence"),
    "oblique": (tilted, "Volume"),
}


@pytest.mark.parametrize("case", CASES)
def test_order_is_orthanc_s(http: httpx.Client, orthanc: httpx.Client, case: str) -> None:
    change, kind = CASES[case]
    slices = list(make_series(4, rows=8, columns=8))
    change(slices)
    stored = [upload_to_both(http, orthanc, dataset_bytes(ds)) for ds in reversed(slices)]
    path = f"/series/{stored[0]['ParentSeries']}/ordered-slices"
    ours = http.get(path).json()
    assert ours == orthanc.get(path).json()
    assert ours["Type"] == kind
    by_uid = {answer["ID"]: ds for answer, ds in zip(stored, reversed(slices))}
    order = [by_uid[item[0]] for item in ours["SlicesShort"]]
    if kind == "Volume":
        positions = [float(ds.ImagePositionPatient[2]) for ds in order]
        assert positions == sorted(positions)
    else:
        assert [ds.InstanceNumber for ds in order] == sorted(ds.InstanceNumber for ds in order)


@pytest.mark.parametrize("name", ["rtdose.dcm", "CT_small.dcm"])
def test_one_instance_is_a_sequence_of_its_frames(http: httpx.Client, orthanc: httpx.Client, name: str) -> None:
    stored = upload_to_both(http, orthanc, renamed(TEST_FILES / name))
    path = f"/series/{stored['ParentSeries']}/ordered-slices"
    ours = http.get(path).json()
    assert ours == orthanc.get(path).json()
    frames = 15 if name == "rtdose.dcm" else 1
    assert ours["Type"] == "Sequence" and ours["Dicom"] == [f"/instances/{stored['ID']}/file"]
    assert ours["SlicesShort"] == [[stored["ID"], 0, frames]]
    assert ours["Slices"][-1] == f"/instances/{stored['ID']}/frames/{frames - 1}"


def test_a_series_without_order_answers_409(http: httpx.Client, orthanc: httpx.Client) -> None:
    """No volume and an instance without Instance Number: Orthanc 1.10.1 answers 500 ("Unable to order the
    slices of the series"), pacsbox 409 naming what is missing."""
    slices = list(make_series(3, rows=8, columns=8))
    del slices[1].ImagePositionPatient, slices[2].InstanceNumber
    stored = [upload_to_both(http, orthanc, dataset_bytes(ds)) for ds in slices]
    path = f"/series/{stored[0]['ParentSeries']}/ordered-slices"
    assert orthanc.get(path).status_code == 500
    answer = http.get(path)
    assert answer.status_code == 409 and "Instance Number" in answer.json()["error"]


def test_unknown_series_or_other_level_answers_404(http: httpx.Client) -> None:
    stored = http.post("/instances", content=dataset_bytes(next(make_series(1, rows=8, columns=8)))).json()
    for public_id in ("ffffffff-ffffffff-ffffffff-ffffffff-ffffffff", stored["ParentStudy"], stored["ID"]):
        answer = http.get(f"/series/{public_id}/ordered-slices")
        assert answer.status_code == 404 and public_id in answer.json()["error"]
