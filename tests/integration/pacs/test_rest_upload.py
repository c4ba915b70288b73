"""REST `POST /instances`: what an Orthanc client sees when it uploads files and ZIPs."""

from __future__ import annotations

import io
import zipfile

import httpx
import pydicom
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.orthanc import OrthancProcess
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


def test_upload_answers_orthanc_json_and_stores_the_file(pacs: ServiceProcess, pacs_http: httpx.Client) -> None:
    data = dataset_bytes(next(make_series(1)))
    answer = pacs_http.post("/instances", content=data)
    assert answer.status_code == 200
    body = answer.json()
    assert body["Status"] == "Success"
    assert body["Path"] == f"/instances/{body['ID']}"
    stored = list((pacs.data_dir / "storage").rglob(f"{body['ID']}.dcm"))
    assert len(stored) == 1
    assert stored[0].read_bytes() == data

    again = pacs_http.post("/instances", content=data)
    assert again.json()["Status"] == "AlreadyStored"
    assert again.json()["ID"] == body["ID"]


def test_preamble_is_zeroed_so_no_polyglot_is_stored(pacs: ServiceProcess, pacs_http: httpx.Client) -> None:
    data = bytearray(dataset_bytes(next(make_series(1))))
    data[:2] = b"MZ"  # a PE header in the preamble
    body = pacs_http.post("/instances", content=bytes(data)).json()
    stored = next((pacs.data_dir / "storage").rglob(f"{body['ID']}.dcm")).read_bytes()
    assert stored[:128] == bytes(128)
    assert stored[128:] == bytes(data[128:])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty body"),
        (b"this is not DICOM at all" * 20, "not a DICOM file"),
        ((TEST_FILES / "no_meta.dcm").read_bytes(), "not a DICOM file"),
    ],
)
def test_non_dicom_is_refused_with_400_naming_the_problem(pacs_http: httpx.Client, content: bytes, message: str) -> None:
    answer = pacs_http.post("/instances", content=content)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_zip_upload_stores_each_dicom_member_and_reports_the_rest(pacs_http: httpx.Client) -> None:
    series = [dataset_bytes(ds) for ds in make_series(3)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, data in enumerate(series):
            archive.writestr(f"../../etc/slice{number}.dcm", data)
        archive.writestr("notes.txt", "not an image")
    answers = pacs_http.post("/instances", content=buffer.getvalue()).json()
    assert [a["Status"] for a in answers].count("Success") == 3
    failed = [a for a in answers if a["Status"] == "Failure"]
    assert failed == [{"Name": "notes.txt", "Status": "Failure", "Error": failed[0]["Error"]}]


def test_zip_bomb_is_refused_before_extraction(pacs: ServiceProcess, pacs_http: httpx.Client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.dcm", bytes(50 * 1024 * 1024))
    answer = pacs_http.post("/instances", content=buffer.getvalue())
    assert answer.status_code == 413
    assert "PACSBOX_ZIP_MAX_RATIO" in answer.json()["error"]
    assert not list((pacs.data_dir / "storage" / ".tmp").iterdir())


def test_identifiers_are_the_ones_orthanc_computes(pacs_http: httpx.Client) -> None:
    files = [TEST_FILES / name for name in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm")]
    orthanc = OrthancProcess().start()
    try:
        for path in files:
            ours = pacs_http.post("/instances", content=path.read_bytes()).json()
            theirs = httpx.post(f"{orthanc.url}/instances", content=path.read_bytes()).json()
            assert {k: ours[k] for k in ("ID", "ParentPatient", "ParentStudy", "ParentSeries")} == {
                k: theirs[k] for k in ("ID", "ParentPatient", "ParentStudy", "ParentSeries")
            }
    finally:
        orthanc.stop()


@pytest.mark.parametrize("size", [64, 1200], ids=["held in memory", "streamed to a temporary file"])
def test_a_bare_dataset_is_stored_as_a_part10_file(pacs: ServiceProcess, pacs_http: httpx.Client, size: int) -> None:
    """A dataset without preamble and File Meta Information (as some tools write them) is wrapped into a
    Part 10 file with the meta header it lacked, whether small or larger than what is parsed in memory."""
    ds = next(make_series(1, rows=size, columns=size))
    del ds.file_meta
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=True, little_endian=True, enforce_file_format=False)
    bare = out.getvalue()
    assert bare[:2] == b"\x08\x00" and b"DICM" not in bare[:200]  # group 0008 first: no preamble, no meta
    body = pacs_http.post("/instances", content=bare).json()
    assert body["Status"] == "Success"
    stored = pydicom.dcmread(next((pacs.data_dir / "storage").rglob(f"{body['ID']}.dcm")))
    assert stored.preamble == bytes(128)
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert stored.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert stored.PixelData == ds.PixelData
