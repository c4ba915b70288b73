"""`POST /instances`: one DICOM file, or a ZIP of them, in the request body (Orthanc's upload)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.app import Identity, editor_only
from pacsbox.core.errors import BadRequest, InvalidDicom
from pacsbox.core.settings import Settings
from pacsbox.pacs.store import InstanceStore, Origin, StoreResult
from pacsbox.pacs.store.files import receive
from pacsbox.pacs.store.inflate import request_body
from pacsbox.pacs.store.zipfiles import is_zip, iter_zip

__all__ = ["upload_instances"]


def instance_answer(result: StoreResult) -> dict[str, Any]:
    """Orthanc's JSON for a stored instance."""
    return {
        "ID": result.ids.instance,
        "ParentPatient": result.ids.patient,
        "ParentStudy": result.ids.study,
        "ParentSeries": result.ids.series,
        "Path": f"/instances/{result.ids.instance}",
        "Status": result.status.value,
    }


@post("/instances", operation_id="UploadInstances", status_code=HTTP_200_OK, guards=[editor_only])
async def upload_instances(
    request: Request, store: NamedDependency[InstanceStore], identity: NamedDependency[Identity],
    settings: NamedDependency[Settings]
) -> Response:
    """Store the DICOM file (or every DICOM file of the ZIP) in the body.

    Answers Orthanc's JSON: one object for a file, a list for a ZIP. A body that
    is neither is refused with 400 and nothing is stored.
    """
    origin = Origin(kind="REST", address=request.client.host if request.client else "", user=identity.user)
    body = await receive(store.storage, request_body(request, settings), settings.http.max_body_size)
    if body == b"":
        raise BadRequest("empty body: expected a DICOM file or a ZIP of DICOM files")
    source = body if isinstance(body, bytes) else body.path
    if not is_zip(source):  # four bytes in memory, or of a file just written: from the page cache
        return Response(instance_answer(await store.store(body, origin)))
    try:
        answers: list[dict[str, Any]] = []
        for member in await asyncio.to_thread(lambda: list(iter_zip(source, store.storage, settings.limits))):
            if member.written is None:
                answers.append({"Name": member.name, "Status": "Failure", "Error": member.error})
                continue
            try:
                answers.append(instance_answer(await store.store(member.written, origin)))
            except InvalidDicom as error:
                answers.append({"Name": member.name, "Status": "Failure", "Error": error.message})
        return Response(answers)
    finally:
        if not isinstance(body, bytes):
            body.path.unlink(missing_ok=True)
