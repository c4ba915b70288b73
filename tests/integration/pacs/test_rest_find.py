"""`POST /tools/find` (Orthanc's search over the matcher QIDO-RS uses, checked against a real Orthanc) and `/tools/lookup`."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest

from tests.support.dicom import dataset_bytes, make_series
from tests.support.orthanc import OrthancProcess

pytestmark = pytest.mark.db

TOKEN = f"F{uuid.uuid4().hex[:6].upper()}"
"""Prefix of this module's patient names, so that searches on the shared pacs see only this module's data."""

STUDIES = [
    # patient name, study date, description, modality
    (f"{TOKEN}^Alice", "20240115", "Brain MRI", "MR"),
    (f"{TOKEN}^Bob", "20240203", "Chest CT", "CT"),
    (f"{TOKEN}^Bea", "20231230", "Knee MRI", "MR"),
]


@pytest.fixture(scope="module")
def datasets() -> list[bytes]:
    out = []
    for number, (name, date, description, modality) in enumerate(STUDIES):
        for ds in make_series(2, patient_name=name, study_date=date, study_description=description, modality=modality, seed=number):
            out.append(dataset_bytes(ds))
    return out


@pytest.fixture(scope="module")
def studies(http: httpx.Client, datasets: list[bytes]) -> dict[str, str]:
    """Orthanc study ID by patient name."""
    ids = {}
    for data in datasets:
        answer = http.post("/instances", content=data).json()
        ids[http.get(f"/studies/{answer['ParentStudy']}").json()["PatientMainDicomTags"]["PatientName"]] = answer["ParentStudy"]
    return ids


def find(http: httpx.Client, level: str = "Study", **body: Any) -> list[Any]:
    answer = http.post("/tools/find", json={"Level": level, "Query": body.pop("Query", {}), **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def names(studies: dict[str, str], found: list[str]) -> set[str]:
    by_id = {v: k.split("^")[1] for k, v in studies.items()}
    return {by_id[i] for i in found if i in by_id}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"PatientName": f"{TOKEN}^B*"}, {"Bob", "Bea"}),
        ({"PatientName": f"{TOKEN}^B?b"}, {"Bob"}),
        ({"PatientName": f"{TOKEN.lower()}^alice"}, {"Alice"}),  # case-insensitive by default, as in Orthanc
        ({"PatientName": f"{TOKEN}*", "StudyDate": "20240101-20240131"}, {"Alice"}),
        ({"PatientName": f"{TOKEN}*", "StudyDate": "-20231231"}, {"Bea"}),
        ({"PatientName": f"{TOKEN}*", "StudyDate": "20240201-"}, {"Bob"}),
        ({"PatientName": f"{TOKEN}*", "StudyDescription": "*mri"}, {"Alice", "Bea"}),
        ({"PatientName": f"{TOKEN}*", "ModalitiesInStudy": "CT\\MR"}, {"Alice", "Bob", "Bea"}),
        ({"PatientName": f"{TOKEN}*", "ModalitiesInStudy": "CT"}, {"Bob"}),
        ({"0010,0010": f"{TOKEN}^Bob"}, {"Bob"}),
    ],
)
def test_study_queries(http: httpx.Client, studies: dict[str, str], query: dict[str, str], expected: set[str]) -> None:
    assert names(studies, find(http, Query=query)) == expected


def test_case_sensitive_matching_on_request(http: httpx.Client, studies: dict[str, str]) -> None:
    query = {"PatientName": f"{TOKEN}*", "StudyDescription": "brain*"}
    assert names(studies, find(http, Query=query, CaseSensitive=True)) == set()
    assert names(studies, find(http, Query={**query, "StudyDescription": "Brain*"}, CaseSensitive=True)) == {"Alice"}
    assert names(studies, find(http, Query=query, CaseSensitive=False)) == {"Alice"}


def test_lower_levels_and_lists(http: httpx.Client, studies: dict[str, str]) -> None:
    series = find(http, "Series", Query={"PatientName": f"{TOKEN}*", "Modality": "CT\\MR"})
    assert len(series) == 3
    instances = find(http, "instances", Query={"PatientName": f"{TOKEN}^Alice", "InstanceNumber": "2"})
    assert len(instances) == 1
    assert http.get(f"/instances/{instances[0]}").json()["MainDicomTags"]["InstanceNumber"] == "2"


def test_expand_and_requested_tags(http: httpx.Client, studies: dict[str, str]) -> None:
    (found,) = find(http, Query={"PatientName": f"{TOKEN}^Bob"}, Expand=True, RequestedTags=["StudyDescription", "Rows"])
    assert found["ID"] == studies[f"{TOKEN}^Bob"] and found["Type"] == "Study"
    assert found["MainDicomTags"]["StudyDate"] == "20240203"
    assert found["RequestedTags"] == {"StudyDescription": "Chest CT", "Rows": "64"}


def test_requested_computed_tags_come_from_the_index_beside_stored_ones(http: httpx.Client, studies: dict[str, str]) -> None:
    """Orthanc's computed tags (1.11 RequestedTags) in its string form, whatever else is requested with them."""
    computed = ["ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"]
    expected = {"ModalitiesInStudy": "CT", "NumberOfStudyRelatedSeries": "1", "NumberOfStudyRelatedInstances": "2"}
    for requested in (computed, [*computed, "Rows"]):
        (found,) = find(http, Query={"PatientName": f"{TOKEN}^Bob"}, Expand=True, RequestedTags=requested)
        assert {k: v for k, v in found["RequestedTags"].items() if k in computed} == expected, requested


def test_limit_and_since_page_through_matches(http: httpx.Client, studies: dict[str, str]) -> None:
    query = {"PatientName": f"{TOKEN}*"}
    everything = find(http, Query=query)
    assert len(everything) == 3
    assert find(http, Query=query, Limit=2) == everything[:2]
    assert find(http, Query=query, Limit=2, Since=2) == everything[2:]
    assert find(http, Query=query, Limit=0) == everything  # 0: no limit, as in Orthanc


def test_same_matches_as_qido(http: httpx.Client, studies: dict[str, str]) -> None:
    qido = http.get("/pacs/studies", params={"PatientName": f"{TOKEN}^B*", "StudyDate": "20240101-"}).json()
    uids = {item["0020000D"]["Value"][0] for item in qido}
    found = find(http, Query={"PatientName": f"{TOKEN}^B*", "StudyDate": "20240101-"}, Expand=True)
    assert {s["MainDicomTags"]["StudyInstanceUID"] for s in found} == uids
    refused = http.get("/pacs/studies", params={"Modality": "CT"})  # a series attribute, at study level
    assert refused.status_code == 400 and "Modality is a Series attribute" in refused.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"Query": {}}', '"Level" is missing'),
        (b'{"Level": "Galaxy", "Query": {}}', "unknown level 'Galaxy'"),
        (b'{"Level": "Study"}', '"Query" is missing'),
        (b'{"Level": "Study", "Query": {"PatientName": 3}}', "PatientName should be a string"),
        (b'{"Level": "Study", "Query": {"NoSuchKeyword": "x"}}', "NoSuchKeyword is not a DICOM keyword"),
        (b'{"Level": "Study", "Query": {"Rows": "64"}}', "Rows is not an attribute pacsbox can search on"),
        (b'{"Level": "Study", "Query": {"Modality": "CT"}}', "Modality is a Series attribute"),
        (b'{"Level": "Study", "Query": {"StudyDate": "2024-01-01"}}', "not a valid DA range"),
        (b'{"Level": "Study", "Query": {}, "Limit": -1}', '"Limit" should be a non-negative integer'),
        (b'{"Level": "Study", "Query": {}, "Expand": "yes"}', '"Expand" should be true or false'),
        (b'{"Level": "Study", "Query": {}, "Labels": ["x"]}', '"Labels"'),
    ],
)
def test_malformed_requests_are_400_naming_the_problem(http: httpx.Client, body: bytes, message: str) -> None:
    answer = http.post("/tools/find", content=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


ORTHANC_QUERIES = [
    ("Patient", {"PatientName": f"{TOKEN}*"}, False),
    ("Study", {"PatientName": f"{TOKEN.lower()}^b*"}, False),
    ("Study", {"PatientName": f"{TOKEN.lower()}^b*"}, True),
    ("Study", {"PatientName": f"{TOKEN}*", "StudyDate": "20231201-20240131"}, False),
    ("Study", {"PatientName": f"{TOKEN}*", "StudyDescription": "*MRI"}, True),
    ("Study", {"PatientName": f"{TOKEN}*", "ModalitiesInStudy": "MR"}, False),
    ("Series", {"PatientName": f"{TOKEN}*", "Modality": "CT\\MR", "StudyDate": "20240101-"}, False),
    ("Instance", {"PatientName": f"{TOKEN}^?ea", "InstanceNumber": "1"}, False),
]


def test_matches_are_the_ones_orthanc_finds(http: httpx.Client, studies: dict[str, str], datasets: list[bytes], tmp_path: Path) -> None:
    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url) as peer:
            for data in datasets:
                peer.post("/instances", content=data)
            for level, query, case_sensitive in ORTHANC_QUERIES:
                body = {"Level": level, "Query": query, "CaseSensitive": case_sensitive}
                theirs = peer.post("/tools/find", json=body).json()
                assert sorted(find(http, **body)) == sorted(theirs), body
    finally:
        orthanc.stop()


def test_lookup_maps_dicom_identifiers_to_resources(http: httpx.Client, datasets: list[bytes], studies: dict[str, str]) -> None:
    ds = pydicom.dcmread(io.BytesIO(datasets[0]), stop_before_pixels=True)
    study = studies[str(ds.PatientName)]
    assert http.post("/tools/lookup", content=f" {ds.StudyInstanceUID}\n").json() == [
        {"ID": study, "Path": f"/studies/{study}", "Type": "Study"}
    ]
    (instance,) = http.post("/tools/lookup", content=str(ds.SOPInstanceUID)).json()
    assert instance["Type"] == "Instance"
    assert http.get(instance["Path"]).json()["MainDicomTags"]["SOPInstanceUID"] == ds.SOPInstanceUID
    (patient,) = http.post("/tools/lookup", content=str(ds.PatientID)).json()
    assert patient["Type"] == "Patient"
    assert http.post("/tools/lookup", content="1.2.3.4.5.6.7.8.9").json() == []
    assert http.post("/tools/lookup", content="").status_code == 400


@pytest.mark.parametrize("streamed", [False, True], ids=["by-length", "streamed"])
def test_an_oversized_query_body_is_refused(http: httpx.Client, streamed: bool) -> None:
    """Refused by its Content-Length before it is read, or, sent in chunks without one, once 1 MiB has come."""
    chunks = [b" " * (512 << 10)] * 4
    answer = http.post("/tools/find", content=iter(chunks) if streamed else b"".join(chunks))
    assert answer.status_code == 413
    assert answer.json()["error"] == "body larger than the limit of 1048576 bytes of /tools/find"
