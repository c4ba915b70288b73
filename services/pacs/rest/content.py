"""`GET /instances/{id}/content/...`: a stored file browsed element by element, as in Orthanc.

    GET /instances/{id}/content                   the tags of the dataset (JSON list of `gggg-eeee`)
    GET /instances/{id}/content/{tag}             a value (application/octet-stream, the file's bytes),
                                                  or a sequence's items / the pixel data's fragments (JSON)
    GET /instances/{id}/content/{tag}/{i}/{tag}   an attribute inside item i of a sequence, and so on

`pacsbox.pacs.store.content` says what each path names.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, get

from pacsbox.core.imaging import OCTET_STREAM
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.content import read_content
from pacsbox.pacs.store.reader import find_instance_by_id

__all__ = ["CONTENT_ROUTES"]


@get(
    ["/instances/{public_id:str}/content", "/instances/{public_id:str}/content/{steps:path}"],
    operation_id="GetInstanceContent",
)
async def get_instance_content(store: InstanceStore, public_id: str, steps: str = "") -> Response:
    """The dataset, sequence, item, fragment or value that the path names."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    found = await anyio.to_thread.run_sync(lambda: read_content(instance.path, steps.split("/")))
    if isinstance(found, bytes):
        return Response(found, media_type=OCTET_STREAM)
    return Response(found)


CONTENT_ROUTES = [get_instance_content]
