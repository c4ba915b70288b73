"""`/{level}/{id}/statistics` and `/{level}/{id}/shared-tags`, compared with a real Orthanc holding the
same study."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.dicom import dataset_bytes, make_series
from tests.support.orthanc import comparable

pytestmark = pytest.mark.db

LEVELS = {"patients": "ParentPatient", "studies": "ParentStudy", "series": "ParentSeries", "instances": "ID"}


@pytest.fixture(scope="module")
def stored(http: httpx.Client, orthanc: httpx.Client) -> dict[str, Any]:
    """A study of a CT series (3 slices) and an MR series (2), in both servers; the first CT slice's IDs."""
    ct = list(make_series(3, patient_id="SUMMARY-1", series_number=1))
    study_uid = str(ct[0].StudyInstanceUID)
    mr = make_series(2, modality="MR", patient_id="SUMMARY-1", study_uid=study_uid, series_number=2)
    answers = []
    for data in [dataset_bytes(ds) for ds in [*ct, *mr]]:
        ours, theirs = http.post("/instances", content=data), orthanc.post("/instances", content=data)
        assert ours.status_code == theirs.status_code == 200
        answers.append(ours.json())
    return answers[0]


@pytest.mark.parametrize("level", LEVELS)
def test_statistics_of_each_level_are_orthanc_s(
    http: httpx.Client, orthanc: httpx.Client, stored: dict[str, Any], level: str
) -> None:
    path = f"/{level}/{stored[LEVELS[level]]}/statistics"
    ours = http.get(path).json()
    assert ours == orthanc.get(path).json()
    if level == "studies":
        assert ours["CountSeries"] == 2 and ours["CountInstances"] == 5


@pytest.mark.parametrize("level", ["patients", "studies", "series"])
def test_shared_tags_are_orthanc_s(
    http: httpx.Client, orthanc: httpx.Client, stored: dict[str, Any], level: str
) -> None:
    path = f"/{level}/{stored[LEVELS[level]]}/shared-tags"
    ours, theirs = http.get(path).json(), orthanc.get(path).json()
    assert comparable(ours) == comparable(theirs)
    assert ("0008,0060" in ours) == (level == "series")  # CT and MR: the modality is shared by a series only
    simplified = http.get(path, params={"simplify": ""}).json()
    assert simplified["PatientID"] == "SUMMARY-1"
    assert set(simplified) == set(orthanc.get(f"{path}?simplify").json())
    assert http.get(path, params={"short": ""}).json()["0010,0020"] == "SUMMARY-1"


@pytest.mark.parametrize("route", ["statistics", "shared-tags"])
def test_an_unknown_resource_has_no_summary(http: httpx.Client, route: str) -> None:
    answer = http.get(f"/studies/ffffffff-ffffffff-ffffffff-ffffffff-ffffffff/{route}")
    assert answer.status_code == 404 and "not stored" in answer.json()["error"]
