"""Uploads through nginx: streamed to the pacs as they arrive (flat memory), refused with 413 past the limit.

The large upload is `PACSBOX_TEST_UPLOAD_MB` mebibytes: 1024 by default (about 6 s on two cores, and
1 GiB of disk under the test's temporary folder); set it lower (at least 200) where disk is short.
"""

from __future__ import annotations

import io
import os
import struct
import threading
from collections.abc import Iterator

import psutil
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from tests.support.stack import StackProcess
from tests.support.tls import client_context, handshake

MB = 1024 * 1024
UPLOAD_MB = int(os.environ.get("PACSBOX_TEST_UPLOAD_MB", "1024"))
CHUNK = b"\x00" * MB


def _big_instance(frames: int) -> tuple[bytes, int, Dataset]:
    """The header of an 8-bit 1024x1024 multi-frame instance, and the size of its pixel data (sent after)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Big^Upload", f"BIG{generate_uid()[-8:]}", "OT"
    ds.Rows = ds.Columns = 1024
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    size = frames * MB
    header = out.getvalue() + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, size)
    return header, size, ds


def _body(header: bytes, size: int) -> Iterator[bytes]:
    yield header
    for _ in range(size // MB):
        yield CHUNK


def test_large_upload_streams_with_flat_memory(stack: StackProcess, editor: str) -> None:
    header, size, ds = _big_instance(UPLOAD_MB)
    pacs = stack.service_process("pacs")
    baseline = pacs.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            try:
                peak[0] = max(peak[0], pacs.memory_info().rss)
            except psutil.NoSuchProcess:
                return

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
            answer = http.post("/zhiva/instances", content=_body(header, size), headers={
                "Content-Type": "application/dicom", "Content-Length": str(len(header) + size)})
    finally:
        done.set()
        sampler.join()
    assert answer.status_code == 200, answer.text
    assert answer.json()["Status"] == "Success"
    growth = peak[0] - baseline
    assert growth < min(128 * MB, size // 4), f"pacs grew by {growth // MB} MB for a {size // MB} MB upload"
    stored = list((stack.data_dir / "storage").rglob("*.dcm"))
    assert any(path.stat().st_size >= size for path in stored)


def test_body_over_the_limit_is_413_before_it_is_sent(stack: StackProcess, editor: str) -> None:
    limit = 2000 * MB  # PACSBOX_MAX_BODY_SIZE's default
    request = (
        f"POST /zhiva/instances HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {editor}\r\n"
        f"Content-Type: application/dicom\r\nContent-Length: {limit + 1}\r\nConnection: close\r\n\r\n"
    ).encode()
    _, reply = handshake(stack.https_port, "localhost", client_context(stack.ca), request)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"PACSBOX_MAX_BODY_SIZE" in body


@pytest.mark.parametrize(("method", "path", "caller", "limit"), [
    ("POST", "/auth/sign-user", "", 64 * 1024),
    ("POST", "/auth/generate-token", "", 64 * 1024),
    ("POST", "/viewer/api/links", "editor", 64 * 1024),
    ("PUT", "/zhiva/modalities/big", "editor", MB),
])
def test_small_apis_refuse_a_large_body_by_its_length_before_reading_it(
    stack: StackProcess, request: pytest.FixtureRequest, method: str, path: str, caller: str, limit: int
) -> None:
    """Bodies of forms and JSON settings are held in memory to be parsed, so a large one is refused unread:
    each was read whole under PACSBOX_MAX_BODY_SIZE first (a 600 MB body grew the auth service, which anyone
    may call, by 1.1 GB before its 400; 500 MB grew the viewer and the pacs by 730 MB each)."""
    token = f"Authorization: Bearer {request.getfixturevalue(caller)}\r\n" if caller else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{token}Content-Type: application/json\r\n"
        f"Content-Length: {2000 * MB}\r\nConnection: close\r\n\r\n"  # nginx's limit: passed on to the service
    ).encode()
    _, reply = handshake(stack.https_port, "localhost", client_context(stack.ca), head)
    status, _, body = reply.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413"), reply
    assert f"{limit} bytes".encode() in body


def test_login_api_stops_reading_a_streamed_body_past_its_limit(stack: StackProcess) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(4):
            yield b"a" * MB

    with stack.client() as http:
        answer = http.post("/auth/sign-user", content=body(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "body too large: at most 65536 bytes"
