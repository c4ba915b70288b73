"""`POST /api/links`: an editor asks for the viewer address of a study (Inobitec's `POST /api/link`, kept small).

The answer is the OHIF page of the study on this stack; whoever opens it
signs in as usual. Links carrying their own study-scoped token need the
auth service to issue such tokens, which it does not yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import post
from litestar.di import NamedDependency

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadRequest, Forbidden
from pacsbox.core.settings import Settings
from pacsbox.viewer.pacs_client import PacsClient
from pacsbox.viewer.urls import ViewerUrls

__all__ = ["LinkRequest", "create_link"]


@dataclass(frozen=True)
class LinkRequest:
    """The study (and optionally the series) to open."""

    studyInstanceUid: str  # noqa: N815 (the JSON name)
    seriesInstanceUid: str | None = None  # noqa: N815


MAX_BODY = 64 * 1024
"""A link request names a study and a series; a longer body is refused before it is read (413)."""


@post("/api/links", operation_id="CreateLink", tags=["links"], status_code=201, request_max_body_size=MAX_BODY)
async def create_link(
    data: LinkRequest, settings: NamedDependency[Settings], identity: NamedDependency[Identity],
    pacs: NamedDependency[PacsClient]
) -> dict[str, Any]:
    """The viewer URL of a study the caller can see; editors only."""
    if not identity.can_edit:
        raise Forbidden(f"creating links needs canEditResource: user {identity.user!r} may only read")
    study = data.studyInstanceUid.strip()
    if not study:
        raise BadRequest("studyInstanceUid is required")
    if data.seriesInstanceUid:
        await pacs.search_for_series(study, data.seriesInstanceUid, identity)
    else:
        await pacs.search_for_study(study, identity)
    urls = ViewerUrls.of(settings.http)
    path = urls.study_path(study, data.seriesInstanceUid)
    return {"url": urls.absolute(path), "path": path, "studyInstanceUid": study,
            "seriesInstanceUid": data.seriesInstanceUid}
