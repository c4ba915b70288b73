"""DICOMweb (PS3.18) under `/pacs/`: one module per service."""

DICOMWEB_ROUTES: list = []

__all__ = ["DICOMWEB_ROUTES"]
