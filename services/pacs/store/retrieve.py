"""What WADO-RS and WADO-URI hand out: instances in an acceptable transfer syntax, and metadata.

An instance goes out as its stored file, byte for byte, whenever the client
accepts the stored transfer syntax (`transfer-syntax=*` does); otherwise it
is re-encoded as Explicit VR Little Endian, the default of PS3.18 8.7.3.5,
when pacsbox can decode it. Metadata is the DICOM JSON kept in the index at
ingest, concatenated, its BulkDataURIs pointed at the public DICOMweb root:
no file is opened to answer it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from pacsbox.core.errors import NotAcceptable
from pacsbox.core.imaging import EXPLICIT_LE, PIXEL_TAGS, can_transcode, to_explicit_little_endian
from pacsbox.pacs.store.metadata import public_metadata
from pacsbox.pacs.store.reader import StoredInstance

__all__ = [
    "DICOM",
    "FileSpan",
    "Payload",
    "has_pixel_data",
    "instance_metadata_json",
    "instance_payloads",
    "instance_url",
    "syntax_for",
]

DICOM = "application/dicom"


@dataclass(frozen=True)
class FileSpan:
    """`length` bytes of a stored file from `offset` (sizes come from the index, not the file system)."""

    path: Path
    offset: int
    length: int


@dataclass(frozen=True)
class Payload:
    """One representation to send: its media type, transfer syntax and body.

    The body is bytes, a span of a stored file (streamed), or a coroutine
    function producing the bytes when the response reaches it.
    """

    media_type: str
    body: bytes | FileSpan | Callable[[], Awaitable[bytes]]
    transfer_syntax: str = ""
    location: str = ""

    @property
    def content_type(self) -> str:
        if self.transfer_syntax:
            return f"{self.media_type}; transfer-syntax={self.transfer_syntax}"
        return self.media_type


def syntax_for(stored: str, acceptable: Sequence[str]) -> str | None:
    """The transfer syntax to send an instance stored in `stored`, or None when none fits.

    Args:
        stored: the stored transfer syntax.
        acceptable: what the client accepts, best first: `*` (as stored) or UIDs.
    """
    for wanted in acceptable:
        if wanted in ("*", stored):
            return stored
        if wanted == EXPLICIT_LE and can_transcode(stored):
            return EXPLICIT_LE
    return None


def _transcoder(path: Path, max_size: int, slots: asyncio.Semaphore) -> Callable[[], Awaitable[bytes]]:
    async def produce() -> bytes:
        async with slots:
            return await anyio.to_thread.run_sync(lambda: to_explicit_little_endian(path, max_size=max_size))

    return produce


async def instance_payloads(
    instances: Sequence[StoredInstance],
    acceptable: Sequence[str],
    *,
    max_size: int,
    slots: asyncio.Semaphore,
    root: str = "",
) -> list[Payload]:
    """One `application/dicom` payload per instance, in the first acceptable transfer syntax.

    A single instance that needs re-encoding is re-encoded now, so that a
    failure is still a clean error; in a study or series it happens while
    streaming.

    Args:
        max_size: PACSBOX_MAX_PIXEL_DATA_SIZE, for decoding.
        slots: bounds concurrent decodes (shared with rendering).
        root: the DICOMweb root; each part then carries its instance's URL as Content-Location.

    Raises:
        NotAcceptable: an instance cannot be had in any acceptable transfer syntax.
        PixelDataError: the single instance cannot be decoded for re-encoding.
    """
    payloads = []
    for instance in instances:
        syntax = syntax_for(instance.transfer_syntax, acceptable)
        if syntax is None:
            raise NotAcceptable(
                f"instance {instance.sop_uid} is stored as {instance.transfer_syntax} and cannot be converted to"
                f" {', '.join(acceptable)}; ask for transfer-syntax=* to receive it as stored"
            )
        body: bytes | FileSpan | Callable[[], Awaitable[bytes]] = FileSpan(instance.path, 0, instance.file_size)
        if syntax != instance.transfer_syntax:
            body = _transcoder(instance.path, max_size, slots)
            if len(instances) == 1:
                body = await body()
        payloads.append(Payload(DICOM, body, syntax, instance_url(root, instance) if root else ""))
    return payloads


def has_pixel_data(instance: StoredInstance) -> bool:
    """Whether the instance's stored metadata (fetched `with_metadata`) names a pixel data element."""
    return any(f'"{tag:08X}"' in instance.metadata for tag in PIXEL_TAGS)


def instance_url(root: str, instance: StoredInstance) -> str:
    """`<root>/studies/{study}/series/{series}/instances/{sop}`."""
    return f"{root}/studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}"


def instance_metadata_json(instances: Sequence[StoredInstance], dicomweb_root: str) -> bytes:
    """The `application/dicom+json` array of the instances' stored metadata (PS3.18 F.2)."""
    return public_metadata("[" + ",".join(i.metadata for i in instances if i.metadata) + "]", dicomweb_root).encode()
