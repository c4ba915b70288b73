"""`/{level}/{id}/module`, `/studies/{id}/module-patient` and `/instances/{id}/header`, compared with a real
Orthanc 1.10.1 holding the same files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, every_attribute, make_series
from tests.support.dicomweb import renamed
from tests.support.orthanc import comparable

pytestmark = pytest.mark.db

ROUTES = {  # route: the ID of the upload answer it takes
    "patients/{}/module": "ParentPatient",
    "studies/{}/module": "ParentStudy",
    "studies/{}/module-patient": "ParentStudy",
    "series/{}/module": "ParentSeries",
    "instances/{}/module": "ID",
}
UNKNOWN = "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff"


def upload_to_both(http: httpx.Client, orthanc: httpx.Client, data: bytes) -> dict[str, Any]:
    ours, theirs = http.post("/instances", content=data), orthanc.post("/instances", content=data)
    assert ours.status_code == theirs.status_code == 200, ours.text
    assert ours.json()["ID"] == theirs.json()["ID"]
    return ours.json()


@pytest.fixture(scope="module")
def every(http: httpx.Client, orthanc: httpx.Client) -> dict[str, Any]:
    """A file with every public attribute, in both servers."""
    return upload_to_both(http, orthanc, dataset_bytes(every_attribute("MODULES-1")))


@pytest.mark.parametrize("route", ROUTES)
def test_modules_keep_orthanc_s_attributes(
    http: httpx.Client, orthanc: httpx.Client, every: dict[str, Any], route: str
) -> None:
    """Of a file holding every attribute, each module keeps the ones Orthanc keeps, with the same values."""
    path = "/" + route.format(every[ROUTES[route]])
    ours, theirs = http.get(path), orthanc.get(path)
    assert ours.status_code == 200
    ours_tags, theirs_tags = comparable(ours.json()), comparable(theirs.json())
    if route.startswith("series/"):  # Orthanc looks for Largest Pixel Value in Series at the private 0029,0109
        assert ours_tags.pop("0028,0109")[0] == "LargestPixelValueInSeries"
        assert "0028,0109" not in theirs_tags and theirs_tags["0028,0108"][0] == "SmallestPixelValueInSeries"
    assert ours_tags == theirs_tags
    assert len(ours_tags) > 15


def test_module_of_a_study_in_the_three_forms(http: httpx.Client, orthanc: httpx.Client) -> None:
    slices = list(make_series(2, patient_name="Module^Form", patient_id="MODULES-2", study_description="Forms"))
    stored = [upload_to_both(http, orthanc, dataset_bytes(ds)) for ds in slices]
    study = stored[0]["ParentStudy"]
    full = http.get(f"/studies/{study}/module").json()
    assert full["0008,1030"] == {"Name": "StudyDescription", "Type": "String", "Value": "Forms"}
    assert "0010,0010" not in full and "0008,0060" not in full  # neither patient nor series attributes
    for form in ("simplify", "short"):
        ours = http.get(f"/studies/{study}/module-patient", params={form: ""}).json()
        assert ours == orthanc.get(f"/studies/{study}/module-patient?{form}").json()
    assert http.get(f"/studies/{study}/module-patient?simplify").json()["PatientName"] == "Module^Form"
    assert http.get(f"/series/{stored[1]['ParentSeries']}/module?short").json()["0008,0060"] == "CT"
    assert http.get(f"/instances/{stored[1]['ID']}/module?simplify").json()["InstanceNumber"] == "2"


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm", "rtplan.dcm"])
def test_header_is_orthanc_s(http: httpx.Client, orthanc: httpx.Client, name: str) -> None:
    """The file meta information as Orthanc shows it: group length included, binary values left out."""
    stored = upload_to_both(http, orthanc, renamed(TEST_FILES / name))
    path = f"/instances/{stored['ID']}/header"
    ours = http.get(path).json()
    assert ours == orthanc.get(path).json()
    assert ours["0002,0010"]["Name"] == "TransferSyntaxUID" and "0002,0000" in ours
    assert "0002,0001" not in ours  # FileMetaInformationVersion is OB
    assert http.get(path, params={"simplify": ""}).json() == orthanc.get(f"{path}?simplify").json()
    assert http.get(path, params={"short": ""}).json() == orthanc.get(f"{path}?short").json()


@pytest.mark.parametrize("route", [*ROUTES, "instances/{}/header"])
def test_unknown_or_other_level_ids_answer_404(http: httpx.Client, every: dict[str, Any], route: str) -> None:
    """An unknown ID, or one of another level, names the resource not found (Orthanc 1.10.1 answers a module
    for an ID of another level: that of its first instance)."""
    for public_id in (UNKNOWN, every["ParentSeries"] if not route.startswith("series") else every["ID"]):
        answer = http.get("/" + route.format(public_id))
        assert answer.status_code == 404
        assert public_id in answer.json()["error"]


def test_module_and_header_routes_do_not_exist_for_other_levels(http: httpx.Client, every: dict[str, Any]) -> None:
    """Orthanc 1.10.1 has no /series/{id}/module-patient, /patients/{id}/module-patient or /series/{id}/header."""
    for path in (f"/series/{every['ParentSeries']}/module-patient", f"/patients/{every['ParentPatient']}/module-patient",
                 f"/series/{every['ParentSeries']}/header"):
        assert http.get(path).status_code == 404
