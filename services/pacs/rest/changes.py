"""`GET /changes`: Orthanc's change log, for clients that follow what arrives and goes.

    GET /changes?since=SEQ&limit=N    changes after SEQ, oldest first, at most N (default 100; a larger N
                                      than 10000 gives pages of 10000, `Done` false while more follow)
    GET /changes?last                 only the latest change
    DELETE /changes                   the log emptied (editors only); numbering goes on after the last change

    {"Changes": [{"ChangeType", "Date", "ID", "Path", "ResourceType", "Seq"}], "Done": bool, "Last": SEQ}

Change types: NewInstance, NewSeries, NewStudy, NewPatient (in that order for one
instance, as in Orthanc), CompletedSeries (the instance completed its series,
`store.series_status`) and Deleted as the index writes them; StableSeries,
StableStudy and StablePatient from `store.stability`.
`Done` is true when no change follows this page; `Last` is the sequence
number to pass as the next `since` (the log's latest when the page is empty).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.app import editor_only
from pacsbox.pacs.rest.params import flag, non_negative
from pacsbox.pacs.store.changes import clear_changes, read_changes

__all__ = ["CHANGE_ROUTES"]

MAX_LIMIT = 10_000


@get("/changes", operation_id="GetChanges")
async def get_changes(request: Request) -> dict[str, Any]:
    """A page of the change log."""
    query = request.query_params
    since = non_negative(query, "since", 0) or 0
    limit = min(non_negative(query, "limit", 100) or 0, MAX_LIMIT)  # Orthanc refuses no limit
    page = await read_changes(since=since, limit=limit, last_only=flag(query, "last"))
    return {
        "Changes": [
            {
                "ChangeType": change.change_type,
                "Date": change.date.strftime("%Y%m%dT%H%M%S"),
                "ID": change.public_id,
                "Path": f"/{change.level.plural}/{change.public_id}",
                "ResourceType": change.level.value,
                "Seq": change.seq,
            }
            for change in page.changes
        ],
        "Done": page.done,
        "Last": page.last,
    }


@delete("/changes", operation_id="ClearChanges", guards=[editor_only], status_code=HTTP_200_OK)
async def delete_changes() -> Response:
    """Empty the change log (Orthanc answers 200 with an empty body)."""
    await clear_changes()
    return Response(b"", media_type="text/plain")


CHANGE_ROUTES = [get_changes, delete_changes]
