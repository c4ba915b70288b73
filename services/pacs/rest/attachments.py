"""Orthanc's attachments of a resource, as far as pacsbox has them: an instance's DICOM file.

    GET  /{level}/{id}/attachments                   ["dicom"] for an instance, [] above; ?full: {"dicom": 1}
    GET  /instances/{id}/attachments/dicom           the operations below (`dicom` or its number, `1`)
    GET  /instances/{id}/attachments/dicom/data      the stored file (application/dicom)
    GET  .../dicom/compressed-data                   the same bytes (application/octet-stream)
    GET  .../dicom/size, .../compressed-size         its size in bytes (text/plain)
    GET  .../dicom/md5, .../compressed-md5           its MD5, computed from the file when asked (text/plain)
    GET  .../dicom/is-compressed                     0: pacsbox never compresses what it stores
    GET  .../dicom/info                              {"CompressedMD5", "CompressedSize", "ContentType": 1,
                                                      "UncompressedMD5", "UncompressedSize", "Uuid"}
    POST .../dicom/verify-md5                        {} when the file still has the checksum its row
                                                      records (BLAKE3 here), else 409

pacsbox keeps no other attachment (no `dicom-as-json`, no user-defined
ones), so these are read-only: Orthanc's PUT, DELETE, `compress` and
`uncompress` are not offered, and the operations list names only what is.
The MD5 is of the file as pacsbox stores it, whose preamble is zeroed
(`files.zero_preamble`): it differs from Orthanc's for a file sent with
another preamble.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.errors import Conflict, NotFound
from pacsbox.core.imaging import OCTET_STREAM
from pacsbox.pacs.rest.documents import file_uuid
from pacsbox.pacs.rest.instances import file_response
from pacsbox.pacs.rest.params import flag
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.digests import file_digest, matches_checksum
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.reader import StoredInstance, find_instance_by_id
from pacsbox.pacs.store.resources import read_resource_rows

__all__ = ["ATTACHMENT_ROUTES"]

DICOM_ATTACHMENT = "dicom"
_NAMES = {DICOM_ATTACHMENT, "1"}
"""The DICOM file's attachment, by name or by Orthanc's content type number."""
_TEXT = "text/plain"


def _attachments_route(level: Level) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/attachments", operation_id=f"List{level.value}Attachments")
    async def attachments(request: Request, public_id: FromPath[str]) -> list[str] | dict[str, int]:
        """The resource's attachments: an instance's DICOM file, nothing for the levels above."""
        if not await read_resource_rows(level, [public_id]):
            raise NotFound(f"{level.value} {public_id} is not stored here")
        names = {DICOM_ATTACHMENT: 1} if level is Level.INSTANCE else {}
        return names if flag(request.query_params, "full") else list(names)

    return attachments


async def _dicom_file(store: InstanceStore, public_id: str, name: str) -> StoredInstance:
    """The instance whose attachment `name` is asked for.

    Raises:
        NotFound: an unknown instance, or an attachment other than its DICOM file.
    """
    instance = await find_instance_by_id(store.storage.root, public_id)
    if name not in _NAMES:
        raise NotFound(f"Instance {public_id} has no attachment {name!r}: pacsbox keeps only '{DICOM_ATTACHMENT}'")
    return instance


async def _md5(instance: StoredInstance) -> str:
    return await anyio.to_thread.run_sync(file_digest, instance.path, "md5")


async def _info(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    md5 = await _md5(instance)
    return Response({
        "CompressedMD5": md5, "CompressedSize": instance.file_size, "ContentType": 1,
        "UncompressedMD5": md5, "UncompressedSize": instance.file_size,
        "Uuid": file_uuid(instance.path.relative_to(store.storage.root).as_posix()),
    })


async def _data(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    uuid = file_uuid(instance.path.relative_to(store.storage.root).as_posix())
    return await file_response(request, store, instance, f'filename="{uuid}.dcm"')


async def _compressed_data(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    return await file_response(request, store, instance, None, OCTET_STREAM)


async def _size(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    return Response(str(instance.file_size), media_type=_TEXT)


async def _md5_text(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    return Response(await _md5(instance), media_type=_TEXT)


async def _not_compressed(request: Request, store: InstanceStore, instance: StoredInstance) -> Response:
    return Response("0", media_type=_TEXT)


Operation = Callable[[Request, InstanceStore, StoredInstance], Awaitable[Response]]
OPERATIONS: dict[str, Operation] = {
    "compressed-data": _compressed_data,
    "compressed-md5": _md5_text,
    "compressed-size": _size,
    "data": _data,
    "info": _info,
    "is-compressed": _not_compressed,
    "md5": _md5_text,
    "size": _size,
}
"""GET operations on the DICOM attachment, by the last segment of their path."""


@get("/instances/{public_id:str}/attachments/{name:str}", operation_id="ListInstanceAttachmentOperations")
async def attachment_operations(
    store: NamedDependency[InstanceStore], public_id: FromPath[str], name: FromPath[str]
) -> list[str]:
    """What can be asked of the attachment."""
    await _dicom_file(store, public_id, name)
    return sorted([*OPERATIONS, "verify-md5"])


@get("/instances/{public_id:str}/attachments/{name:str}/{operation:str}", operation_id="GetInstanceAttachment")
async def attachment_operation(
    request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str], name: FromPath[str],
    operation: FromPath[str]
) -> Response:
    """The attachment's data, size, MD5 or description."""
    instance = await _dicom_file(store, public_id, name)
    if operation not in OPERATIONS:
        raise NotFound(f"no attachment operation {operation!r}; there are {', '.join(sorted(OPERATIONS))}")
    return await OPERATIONS[operation](request, store, instance)


@post("/instances/{public_id:str}/attachments/{name:str}/verify-md5", operation_id="VerifyInstanceAttachment",
      status_code=HTTP_200_OK)
async def verify_attachment(
    store: NamedDependency[InstanceStore], public_id: FromPath[str], name: FromPath[str]
) -> dict[str, Any]:
    """Check the stored file against the checksum recorded when it was stored."""
    instance = await _dicom_file(store, public_id, name)
    if not await anyio.to_thread.run_sync(matches_checksum, instance.path, instance.checksum):
        raise Conflict(f"the stored file of instance {public_id} no longer has the checksum recorded at storage")
    return {}


ATTACHMENT_ROUTES = [
    *(_attachments_route(level) for level in Level),
    attachment_operations,
    attachment_operation,
    verify_attachment,
]
