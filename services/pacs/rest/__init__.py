"""Orthanc-compatible REST API, one module per family of routes, gathered in one router.

One router, because Litestar refuses two routers or controllers declaring the
same path (`/instances` is both the upload's POST and the list's GET).
"""

from litestar import Router

from pacsbox.pacs.rest.jobs import JOB_ROUTES
from pacsbox.pacs.rest.modalities import MODALITY_ROUTES
from pacsbox.pacs.rest.upload import upload_instances

REST_ROUTES = [Router("/", route_handlers=[upload_instances, *MODALITY_ROUTES, *JOB_ROUTES])]

__all__ = ["REST_ROUTES"]
