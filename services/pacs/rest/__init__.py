"""Orthanc-compatible REST API, one module per family of routes."""

from pacsbox.pacs.rest.upload import upload_instances

REST_ROUTES = [upload_instances]

__all__ = ["REST_ROUTES"]
