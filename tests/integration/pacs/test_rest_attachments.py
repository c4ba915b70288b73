"""`/{level}/{id}/attachments/...`: an instance's DICOM file as Orthanc's `dicom` attachment, compared with a
real Orthanc 1.10.1 holding the same files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import renamed
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

LEVELS = {"patients": "ParentPatient", "studies": "ParentStudy", "series": "ParentSeries", "instances": "ID"}


@pytest.fixture(scope="module")
def stored(http: httpx.Client, orthanc: httpx.Client) -> dict[str, Any]:
    """One CT slice (written by pydicom: a zero preamble, so both servers store the same bytes) in both servers."""
    data = dataset_bytes(next(make_series(1, rows=16, columns=16)))
    ours, theirs = http.post("/instances", content=data), orthanc.post("/instances", content=data)
    assert ours.status_code == theirs.status_code == 200
    return {**ours.json(), "data": data}


@pytest.mark.parametrize("level", LEVELS)
def test_lists_are_orthanc_s(http: httpx.Client, orthanc: httpx.Client, stored: dict[str, Any], level: str) -> None:
    path = f"/{level}/{stored[LEVELS[level]]}/attachments"
    assert http.get(path).json() == orthanc.get(path).json() == (["dicom"] if level == "instances" else [])
    assert http.get(f"{path}?full").json() == orthanc.get(f"{path}?full").json()


@pytest.mark.parametrize("operation", ["size", "compressed-size", "md5", "compressed-md5", "is-compressed"])
def test_text_answers_are_orthanc_s(
    http: httpx.Client, orthanc: httpx.Client, stored: dict[str, Any], operation: str
) -> None:
    for name in ("dicom", "1"):
        path = f"/instances/{stored['ID']}/attachments/{name}/{operation}"
        ours, theirs = http.get(path), orthanc.get(path)
        assert ours.status_code == 200 and ours.text == theirs.text
        assert ours.headers["content-type"].startswith("text/plain")
    md5 = hashlib.md5(stored["data"]).hexdigest()
    assert http.get(f"/instances/{stored['ID']}/attachments/dicom/md5").text == md5


def test_data_and_info(http: httpx.Client, orthanc: httpx.Client, stored: dict[str, Any]) -> None:
    base = f"/instances/{stored['ID']}/attachments/dicom"
    data = http.get(f"{base}/data")
    assert data.content == stored["data"] == orthanc.get(f"{base}/data").content
    assert data.headers["content-type"] == "application/dicom"
    compressed = http.get(f"{base}/compressed-data")
    assert compressed.content == stored["data"] and compressed.headers["content-type"] == "application/octet-stream"
    info, theirs = http.get(f"{base}/info").json(), orthanc.get(f"{base}/info").json()
    assert {k: v for k, v in info.items() if k != "Uuid"} == {k: v for k, v in theirs.items() if k != "Uuid"}
    assert info["Uuid"] == http.get(f"/instances/{stored['ID']}").json()["FileUuid"]  # as in Orthanc
    assert info["Uuid"] in data.headers["content-disposition"]
    operations = http.get(base).json()
    assert set(operations) <= set(orthanc.get(base).json())  # what pacsbox offers, all of it Orthanc's
    assert {"data", "md5", "size", "info"} <= set(operations) and "compress" not in operations


def test_verify_checks_the_file_against_its_checksum(pacs: ServiceProcess, http: httpx.Client) -> None:
    stored = http.post("/instances", content=renamed(TEST_FILES / "CT_small.dcm")).json()
    path = f"/instances/{stored['ID']}/attachments/dicom/verify-md5"
    assert http.post(path).json() == {}
    stored_file = next((pacs.data_dir / "storage").rglob(f"{stored['ID']}.dcm"))
    _flip_last_byte(stored_file)
    try:
        refused = http.post(path)
        assert refused.status_code == 409 and stored["ID"] in refused.json()["error"]
    finally:
        _flip_last_byte(stored_file)


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_unknown_resources_and_attachments_answer_404(http: httpx.Client, stored: dict[str, Any]) -> None:
    unknown = "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff"
    for level, public_id, route in (("instances", unknown, ""), ("studies", unknown, ""),
                                    ("studies", stored["ParentSeries"], ""), ("instances", unknown, "/dicom/size")):
        answer = http.get(f"/{level}/{public_id}/attachments{route}")
        assert answer.status_code == 404 and public_id in answer.json()["error"]
    for name in ("dicom-as-json", "1024", "foo"):
        answer = http.get(f"/instances/{stored['ID']}/attachments/{name}/data")
        assert answer.status_code == 404 and repr(name) in answer.json()["error"]
    answer = http.get(f"/instances/{stored['ID']}/attachments/dicom/uuid")
    assert answer.status_code == 404 and "md5" in answer.json()["error"]
    assert http.get(f"/series/{stored['ParentSeries']}/attachments/dicom").status_code == 404
