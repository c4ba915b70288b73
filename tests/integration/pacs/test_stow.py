"""STOW-RS: storing through dicomweb-client and hand-built multipart bodies, good and broken."""

from __future__ import annotations

import httpx
import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.uid import generate_uid

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

BOUNDARY = "pacsbox-test-boundary"
CONTENT_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'


def multipart(*parts: bytes, close: bool = True, part_type: str = "application/dicom") -> bytes:
    body = b"".join(f"--{BOUNDARY}\r\nContent-Type: {part_type}\r\n\r\n".encode() + p + b"\r\n" for p in parts)
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def test_dicomweb_client_stores_a_series_and_finds_it(pacs: ServiceProcess) -> None:
    client = DICOMwebClient(f"{pacs.url}/pacs")
    series = list(make_series(5))
    answer = client.store_instances(series)
    referenced = answer.ReferencedSOPSequence
    assert sorted(r.ReferencedSOPInstanceUID for r in referenced) == sorted(ds.SOPInstanceUID for ds in series)
    assert "FailedSOPSequence" not in answer
    study_uid = series[0].StudyInstanceUID
    [study] = client.search_for_studies(search_filters={"StudyInstanceUID": study_uid})
    assert study["00201208"]["Value"] == [5]


def test_parts_are_byte_identical_on_disk(pacs: ServiceProcess, pacs_http: httpx.Client) -> None:
    data = dataset_bytes(next(make_series(1)))
    answer = pacs_http.post("/pacs/studies", content=multipart(data), headers={"Content-Type": CONTENT_TYPE})
    assert answer.status_code == 200
    sop = answer.json()["00081199"]["Value"][0]["00081155"]["Value"][0]
    [row] = [p for p in (pacs.data_dir / "storage").rglob("*.dcm") if p.read_bytes() == data]
    assert row.stat().st_size == len(data)
    assert sop in data.decode("latin-1")


def test_some_failed_is_202_with_reasons_and_the_good_ones_stored(pacs_http: httpx.Client) -> None:
    good = dataset_bytes(next(make_series(1)))
    bad = (TEST_FILES / "no_meta.dcm").read_bytes()
    answer = pacs_http.post("/pacs/studies", content=multipart(good, bad, b"garbage"), headers={"Content-Type": CONTENT_TYPE})
    assert answer.status_code == 202
    body = answer.json()
    assert len(body["00081199"]["Value"]) == 1
    assert [f["00081197"]["Value"] for f in body["00081198"]["Value"]] == [[0xC000], [0xC000]]


def test_all_failed_is_409(pacs_http: httpx.Client) -> None:
    answer = pacs_http.post("/pacs/studies", content=multipart(b"not dicom"), headers={"Content-Type": CONTENT_TYPE})
    assert answer.status_code == 409
    assert "00081199" not in answer.json()


def test_instances_of_another_study_are_refused_by_the_study_url(pacs_http: httpx.Client) -> None:
    target = generate_uid()
    inside = dataset_bytes(next(make_series(1, study_uid=target)))
    outside_ds = next(make_series(1))
    answer = pacs_http.post(
        f"/pacs/studies/{target}", content=multipart(inside, dataset_bytes(outside_ds)), headers={"Content-Type": CONTENT_TYPE}
    )
    assert answer.status_code == 202
    [failed] = answer.json()["00081198"]["Value"]
    assert failed["00081155"]["Value"] == [outside_ds.SOPInstanceUID]
    assert failed["00081197"]["Value"] == [0xA900]
    found = pacs_http.get("/pacs/instances", params={"SOPInstanceUID": outside_ds.SOPInstanceUID}).json()
    assert found == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/dicom", 415),
        ('multipart/related; type="application/dicom+json"; boundary=x', 415),
        ('multipart/related; type="application/dicom"', 400),
    ],
)
def test_wrong_content_type(pacs_http: httpx.Client, content_type: str, status: int) -> None:
    answer = pacs_http.post("/pacs/studies", content=b"x", headers={"Content-Type": content_type})
    assert answer.status_code == status
    assert answer.json()["error"]


def test_truncated_body_is_400_and_keeps_the_complete_parts(pacs: ServiceProcess, pacs_http: httpx.Client) -> None:
    first = next(make_series(1))
    second = dataset_bytes(next(make_series(1)))
    body = multipart(dataset_bytes(first), close=False) + f"--{BOUNDARY}\r\n\r\n".encode() + second[: len(second) // 2]
    answer = pacs_http.post("/pacs/studies", content=body, headers={"Content-Type": CONTENT_TYPE})
    assert answer.status_code == 400
    assert "closing boundary" in answer.json()["error"]
    assert pacs_http.get("/pacs/instances", params={"SOPInstanceUID": first.SOPInstanceUID}).json()
    assert not list((pacs.data_dir / "storage" / ".tmp").iterdir())


def test_too_many_parts_is_413(tmp_path, postgres) -> None:
    from tests.conftest import start_pacs

    server = start_pacs(tmp_path / "p", postgres, PACSBOX_MULTIPART_MAX_PARTS="2")
    try:
        parts = [dataset_bytes(ds) for ds in make_series(3)]
        answer = httpx.post(f"{server.url}/pacs/studies", content=multipart(*parts), headers={"Content-Type": CONTENT_TYPE})
        assert answer.status_code == 413
        assert "PACSBOX_MULTIPART_MAX_PARTS" in answer.json()["error"]
    finally:
        server.stop()


def test_small_parts_and_parts_larger_than_held_in_memory_are_stored_alike(
    pacs: ServiceProcess, pacs_http: httpx.Client
) -> None:
    """A part of a few kB is stored from memory, one of about 3 MB streams through a temporary file; both land
    byte for byte (preamble zeroed), their pixels served back as sent."""
    small, large = next(make_series(1, rows=32, columns=32)), next(make_series(1, rows=1200, columns=1200))
    sent = [b"\x7f" * 128 + dataset_bytes(ds)[128:] for ds in (small, large)]
    assert len(sent[1]) > 2 << 20 > len(sent[0])
    answer = pacs_http.post("/pacs/studies", content=multipart(*sent), headers={"Content-Type": CONTENT_TYPE})
    assert answer.status_code == 200
    stored = {p.read_bytes() for p in (pacs.data_dir / "storage").rglob("*.dcm")}
    for ds, data in zip((small, large), sent):
        assert bytes(128) + data[128:] in stored
        frame = pacs_http.get(
            f"/pacs/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}/frames/1",
            headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'},
        )
        assert frame.status_code == 200
        assert ds.PixelData in frame.content
    assert not list((pacs.data_dir / "storage" / ".tmp").iterdir())
