"""`GET /instances/{id}/content/...`: a stored file browsed element by element, as in Orthanc.

    GET /instances/{id}/content                   the tags of the dataset (JSON list of `gggg-eeee`)
    GET /instances/{id}/content/{tag}             a value (application/octet-stream, the file's bytes),
                                                  or a sequence's items / the pixel data's fragments (JSON)
    GET /instances/{id}/content/{tag}/{i}/{tag}   an attribute inside item i of a sequence, and so on

    GET /instances/{id}/pdf                       the Encapsulated Document of an Encapsulated PDF instance
                                                  (application/pdf); 404 for any other instance

`pacsbox.pacs.store.content` says what each path names. The PDF is the
document without the NUL byte that pads an odd-length value (PS3.5 6.2).
Orthanc 1.10.1 removes any last byte but CR or LF, and so cuts the `F` of
an even-length PDF ending with `%%EOF`; pacsbox keeps it.
"""

from __future__ import annotations

import json

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydicom.uid import EncapsulatedPDFStorage

from pacsbox.core.errors import NotFound
from pacsbox.core.imaging import OCTET_STREAM
from pacsbox.pacs.rest.tags import element_text
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.content import read_content
from pacsbox.pacs.store.reader import find_instance_by_id

__all__ = ["CONTENT_ROUTES"]


@get(
    ["/instances/{public_id:str}/content", "/instances/{public_id:str}/content/{steps:path}"],
    operation_id="GetInstanceContent",
)
async def get_instance_content(
    store: NamedDependency[InstanceStore], public_id: FromPath[str], steps: FromPath[str] = ""
) -> Response:
    """The dataset, sequence, item, fragment or value that the path names."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    found = await anyio.to_thread.run_sync(lambda: read_content(instance.path, steps.split("/")))
    if isinstance(found, bytes):
        return Response(found, media_type=OCTET_STREAM)
    return Response(found)


@get("/instances/{public_id:str}/pdf", operation_id="GetInstancePdf")
async def get_instance_pdf(store: NamedDependency[InstanceStore], public_id: FromPath[str]) -> Response:
    """The PDF document an Encapsulated PDF instance holds."""
    instance = await find_instance_by_id(store.storage.root, public_id, with_metadata=True)
    mime = element_text(json.loads(instance.metadata or "{}").get("00420012", {}))
    if instance.sop_class_uid != EncapsulatedPDFStorage or mime != "application/pdf":
        raise NotFound(f"Instance {public_id} is not an Encapsulated PDF document (MIME type application/pdf)")
    document = await anyio.to_thread.run_sync(lambda: read_content(instance.path, ["00420011"]))
    if not isinstance(document, bytes):
        raise NotFound(f"Instance {public_id} has no Encapsulated Document (0042,0011)")
    if document.endswith(b"\0"):
        document = document[:-1]
    return Response(document, media_type="application/pdf")


CONTENT_ROUTES = [get_instance_content, get_instance_pdf]
