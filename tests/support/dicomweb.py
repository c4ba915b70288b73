"""Helpers for DICOMweb tests: store instances over REST and split multipart/related answers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

__all__ = ["Part", "Stored", "multipart_parts", "renamed", "store"]


@dataclass(frozen=True)
class Stored:
    """An instance sent to the pacs: its bytes, header and DICOMweb path."""

    data: bytes
    header: Dataset

    @property
    def study(self) -> str:
        return str(self.header.StudyInstanceUID)

    @property
    def series(self) -> str:
        return str(self.header.SeriesInstanceUID)

    @property
    def sop(self) -> str:
        return str(self.header.SOPInstanceUID)

    @property
    def transfer_syntax(self) -> str:
        return str(self.header.file_meta.TransferSyntaxUID)

    @property
    def path(self) -> str:
        """`/pacs/studies/{study}/series/{series}/instances/{sop}` on the pacs service."""
        return f"/pacs/studies/{self.study}/series/{self.series}/instances/{self.sop}"


def renamed(path: Path) -> bytes:
    """A copy of a test file with fresh study, series and SOP instance UIDs, encoded as the original.

    pydicom's test files share UIDs (MR_small in several syntaxes); fresh UIDs
    keep them apart on a pacs shared by the whole session.
    """
    ds = pydicom.dcmread(path, force=True)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def store(client: httpx.Client, data: bytes) -> Stored:
    """POST one file to `/instances`; fails the test unless it was stored."""
    answer = client.post("/instances", content=data)
    assert answer.status_code == 200, answer.text
    return Stored(data, pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True))


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]
    """Header names lower-cased."""
    content: bytes


def multipart_parts(response: httpx.Response) -> list[Part]:
    """The parts of a multipart/related response, split on its boundary."""
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/related"), content_type
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    delimiter = b"--" + match.group(1).encode()
    body = response.content
    assert body.startswith(delimiter), body[:80]
    parts = []
    for piece in body[len(delimiter):].split(b"\r\n" + delimiter):
        if piece.startswith(b"--"):
            break
        head, _, content = piece.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(":", 1) for line in head.decode().split("\r\n") if line)
        parts.append(Part({k.strip().lower(): v.strip() for k, v in headers.items()}, content))
    return parts
