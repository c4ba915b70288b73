"""`/instances/{id}/pdf`: the document of an Encapsulated PDF instance, compared with a real Orthanc 1.10.1."""

from __future__ import annotations

import httpx
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, encapsulated_pdf
from tests.support.dicomweb import renamed

pytestmark = pytest.mark.db

DOCUMENTS = [
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",  # ends with LF: kept whole
    b"%PDF-1.4\n%%EOF\r\n",  # even length
    b"%PDF-1.4\ntrailer<<>>\n%%EOF1",  # odd length without a final newline: the pad byte goes
]


def upload(client: httpx.Client, data: bytes) -> str:
    answer = client.post("/instances", content=data)
    assert answer.status_code == 200, answer.text
    return answer.json()["ID"]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_pdf_is_the_document_orthanc_gives(http: httpx.Client, orthanc: httpx.Client, document: bytes) -> None:
    data = dataset_bytes(encapsulated_pdf(document))
    instance = upload(http, data)
    assert upload(orthanc, data) == instance
    ours, theirs = http.get(f"/instances/{instance}/pdf"), orthanc.get(f"/instances/{instance}/pdf")
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/pdf"
    assert ours.content == theirs.content == document


@pytest.mark.parametrize("data", [
    renamed(TEST_FILES / "CT_small.dcm"),
    dataset_bytes(encapsulated_pdf(b"<xml/>", mime_type="text/xml")),
    dataset_bytes(encapsulated_pdf(b"%PDF-1.4\n", sop_class_uid="1.2.840.10008.5.1.4.1.1.104.2")),  # CDA
], ids=["image", "other MIME type", "other SOP class"])
def test_an_instance_without_pdf_answers_404(http: httpx.Client, orthanc: httpx.Client, data: bytes) -> None:
    instance = upload(http, data)
    upload(orthanc, data)
    answer = http.get(f"/instances/{instance}/pdf")
    assert answer.status_code == orthanc.get(f"/instances/{instance}/pdf").status_code == 404
    assert instance in answer.json()["error"]


def test_an_unknown_instance_has_no_pdf(http: httpx.Client) -> None:
    answer = http.get("/instances/ffffffff-ffffffff-ffffffff-ffffffff-ffffffff/pdf")
    assert answer.status_code == 404 and "not stored" in answer.json()["error"]


def test_an_even_pdf_without_final_newline_keeps_its_last_byte(http: httpx.Client, orthanc: httpx.Client) -> None:
    """Orthanc 1.10.1 takes any last byte but CR or LF for padding: it answers `...%%EO`; pacsbox the document."""
    document = b"%PDF-1.4\ntrailer<<>>\n%%EOF"
    data = dataset_bytes(encapsulated_pdf(document))
    instance = upload(http, data)
    upload(orthanc, data)
    assert http.get(f"/instances/{instance}/pdf").content == document
    assert orthanc.get(f"/instances/{instance}/pdf").content == document[:-1]
