"""Each hard limit on hostile input, with an input just under it and one just over it."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian

from tests.conftest import start_pacs
from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

MB = 1024 * 1024
LIMITS = {
    "PACSBOX_MAX_BODY_SIZE": "2m",
    "PACSBOX_DEFLATED_MAX_SIZE": "1m",
    "PACSBOX_INFLATE_MAX_RATIO": "50",
    "PACSBOX_ZIP_MAX_ENTRIES": "3",
    "PACSBOX_ZIP_MAX_ENTRY_SIZE": "3m",
    "PACSBOX_ZIP_MAX_TOTAL_SIZE": "1536k",
    "PACSBOX_ZIP_MAX_RATIO": "50",
    "PACSBOX_MULTIPART_MAX_PARTS": "3",
}


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[ServiceProcess]:
    server = start_pacs(tmp_path_factory.mktemp("limits"), postgres, **LIMITS)
    try:
        yield server
    finally:
        server.stop()


def instance(padding: int = 0, *, deflated: bool = False, random: bool = True) -> bytes:
    ds = next(make_series(1, rows=16, columns=16))
    if padding:
        ds.add_new(0x00091010, "LO", "PACSBOX TEST")
        ds.add_new(0x00091011, "OB", os.urandom(padding) if random else bytes(padding))
    if deflated:
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    return dataset_bytes(ds)


def post(server: ServiceProcess, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/instances", content=content, headers=headers, timeout=60)


def assert_refused(answer: httpx.Response, status: int, setting: str) -> None:
    assert answer.status_code == status, answer.text
    assert setting in answer.json()["error"]


def test_body_size(strict: ServiceProcess) -> None:
    assert post(strict, instance(int(1.8 * MB))).status_code == 200
    assert_refused(post(strict, instance(int(2.2 * MB))), 413, "PACSBOX_MAX_BODY_SIZE")


def test_gzip_body_ratio_and_encoding(strict: ServiceProcess) -> None:
    assert post(strict, gzip.compress(instance(40_000)), **{"Content-Encoding": "gzip"}).status_code == 200
    bomb = gzip.compress(instance(int(1.9 * MB), random=False))
    assert_refused(post(strict, bomb, **{"Content-Encoding": "gzip"}), 413, "PACSBOX_INFLATE_MAX_RATIO")
    assert post(strict, b"x", **{"Content-Encoding": "br"}).status_code == 415


def test_deflated_dataset_size(strict: ServiceProcess) -> None:
    assert post(strict, instance(int(0.9 * MB), deflated=True)).status_code == 200
    assert_refused(post(strict, instance(int(1.1 * MB), deflated=True)), 413, "PACSBOX_DEFLATED_MAX_SIZE")
    bomb = instance(int(1.5 * MB), deflated=True, random=False)
    assert len(bomb) < 20_000
    assert_refused(post(strict, bomb), 413, "PACSBOX_DEFLATED_MAX_SIZE")


def zipped(*members: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for number, data in enumerate(members):
            archive.writestr(f"{number}.dcm", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("under", "over", "setting"),
    [
        (lambda: zipped(*(instance() for _ in range(3))), lambda: zipped(*(instance() for _ in range(4))), "PACSBOX_ZIP_MAX_ENTRIES"),
        (lambda: zipped(instance(int(1.4 * MB))), lambda: zipped(instance(int(3.1 * MB), random=False)), "PACSBOX_ZIP_MAX_ENTRY_SIZE"),
        (lambda: zipped(instance(700_000), instance(700_000)), lambda: zipped(instance(800_000), instance(800_000)), "PACSBOX_ZIP_MAX_TOTAL_SIZE"),
        (lambda: zipped(instance(40_000, random=False)), lambda: zipped(instance(int(1.5 * MB), random=False)), "PACSBOX_ZIP_MAX_RATIO"),
    ],
    ids=["entries", "entry size", "total size", "ratio"],
)
def test_zip_limits(strict: ServiceProcess, under: Any, over: Any, setting: str) -> None:
    stored = post(strict, under())
    assert stored.status_code == 200 and all(a["Status"] == "Success" for a in stored.json())
    assert_refused(post(strict, over()), 413, setting)


def test_multipart_parts(strict: ServiceProcess) -> None:
    boundary = "limits"

    def body(count: int) -> bytes:
        parts = b"".join(
            f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + instance() + b"\r\n" for _ in range(count)
        )
        return parts + f"--{boundary}--\r\n".encode()

    headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'}
    assert httpx.post(f"{strict.url}/pacs/studies", content=body(3), headers=headers).status_code == 200
    assert_refused(httpx.post(f"{strict.url}/pacs/studies", content=body(4), headers=headers), 413, "PACSBOX_MULTIPART_MAX_PARTS")


def test_nothing_is_left_behind_by_refusals(strict: ServiceProcess) -> None:
    assert not list((strict.data_dir / "storage" / ".tmp").iterdir())
