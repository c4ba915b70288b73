"""`GET /system` and `GET /statistics`: what Orthanc clients ask first about a server.

    GET /system       {"Name", "Version", "ApiVersion", "DicomAet", "DicomPort", "HttpPort", ...}
    GET /statistics   {"CountPatients", ..., "TotalDiskSize", "TotalDiskSizeMB", ...}

`Version` is pacsbox's own; `ApiVersion` is the level of Orthanc's REST API
(Orthanc 1.10) that these routes follow, which is what clients test features
against. Stored files are never compressed, so the uncompressed size is the
disk size.
"""

from __future__ import annotations

import importlib.metadata

from litestar import Request, get
from litestar.di import NamedDependency

from pacsbox.core.settings import Settings
from pacsbox.pacs.rest.summaries import size_fields
from pacsbox.pacs.store.resources import read_statistics

__all__ = ["API_VERSION", "get_statistics", "get_system"]

API_VERSION = 16
"""Orthanc 1.10's REST API level."""


@get("/system", operation_id="GetSystem")
async def get_system(request: Request, settings: NamedDependency[Settings]) -> dict[str, object]:
    """The server's name, versions, DICOM identity and ports."""
    server = request.scope.get("server") or ("", 0)
    return {
        "Name": "pacsbox",
        "Version": importlib.metadata.version("pacsbox"),
        "ApiVersion": API_VERSION,
        "DatabaseVersion": 6,
        "DicomAet": settings.dicom.aet,
        "DicomPort": settings.dicom.port,
        "HttpPort": server[1],
        "IsHttpServerSecure": True,
        "PluginsEnabled": False,
        "DatabaseBackendPlugin": None,
        "StorageAreaPlugin": None,
        "CheckRevisions": False,
    }


@get("/statistics", operation_id="GetStatistics")
async def get_statistics() -> dict[str, object]:
    """Resource counts and storage size (sizes as strings, as Orthanc sends them)."""
    stats = await read_statistics()
    return {
        "CountPatients": stats.patients,
        "CountStudies": stats.studies,
        "CountSeries": stats.series,
        "CountInstances": stats.instances,
        **size_fields(("TotalDisk", "TotalUncompressed"), stats.disk_size),
    }
