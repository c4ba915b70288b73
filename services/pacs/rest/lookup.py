"""`POST /tools/lookup`: which resources a DICOM identifier names (Orthanc's UID-to-ID map).

    POST /tools/lookup   body: a PatientID, StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID, as text
    -> [{"ID": "...", "Path": "/studies/...", "Type": "Study"}, ...]

The answer is empty when nothing matches. Read-only, like `/tools/find`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.store.resources import lookup_identifier

__all__ = ["tools_lookup"]

MAX_BODY = 1024
"""Longest identifier read (a UID is at most 64 characters)."""


@post("/tools/lookup", operation_id="Lookup", status_code=HTTP_200_OK, request_max_body_size=MAX_BODY)
async def tools_lookup(request: Request) -> list[dict[str, Any]]:
    """The resources whose identifier is the body."""
    try:
        value = (await request.body()).decode().strip()
    except UnicodeDecodeError:
        raise BadRequest("the body should be a DICOM identifier as UTF-8 text") from None
    if not value:
        raise BadRequest("the body should be a DICOM identifier (a UID or a PatientID); it is empty")
    return [
        {"ID": public_id, "Path": f"/{level.plural}/{public_id}", "Type": level.value}
        for level, public_id in await lookup_identifier(value)
    ]
