"""Orthanc-compatible REST API, one module per family of routes, gathered in one router.

One router, because Litestar refuses two routers or controllers declaring the
same path (`/instances` is both the upload's POST and the list's GET). A new
family adds its handlers to `FAMILIES`.
"""

from litestar import Router

from pacsbox.pacs.rest.archive import ARCHIVE_ROUTES
from pacsbox.pacs.rest.arrays import ARRAY_ROUTES
from pacsbox.pacs.rest.attachments import ATTACHMENT_ROUTES
from pacsbox.pacs.rest.changes import CHANGE_ROUTES
from pacsbox.pacs.rest.content import CONTENT_ROUTES
from pacsbox.pacs.rest.find import tools_find
from pacsbox.pacs.rest.instances import INSTANCE_ROUTES
from pacsbox.pacs.rest.jobs import JOB_ROUTES
from pacsbox.pacs.rest.lookup import tools_lookup
from pacsbox.pacs.rest.modalities import MODALITY_ROUTES
from pacsbox.pacs.rest.modules import MODULE_ROUTES
from pacsbox.pacs.rest.resources import RESOURCE_ROUTES
from pacsbox.pacs.rest.slices import SLICE_ROUTES
from pacsbox.pacs.rest.summaries import SUMMARY_ROUTES
from pacsbox.pacs.rest.system import get_statistics, get_system
from pacsbox.pacs.rest.upload import upload_instances

FAMILIES = [
    [get_system, get_statistics],
    [upload_instances],
    RESOURCE_ROUTES,
    SUMMARY_ROUTES,
    INSTANCE_ROUTES,
    CONTENT_ROUTES,
    MODULE_ROUTES,
    SLICE_ROUTES,
    ARRAY_ROUTES,
    ATTACHMENT_ROUTES,
    ARCHIVE_ROUTES,
    [tools_find, tools_lookup],
    CHANGE_ROUTES,
    MODALITY_ROUTES,
    JOB_ROUTES,
]
"""Route handlers by family: system, upload, resources, summaries, instances, content, modules, slices,
arrays, attachments, archive, tools, changes, modalities, jobs."""

REST_ROUTES = [Router("/", route_handlers=[handler for family in FAMILIES for handler in family])]

__all__ = ["REST_ROUTES"]
