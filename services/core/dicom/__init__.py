"""DICOM vocabulary shared by the services: the DICOM JSON model (PS3.18 F.2)."""

from pacsbox.core.dicom.dicom_json import element, text_values

__all__ = ["element", "text_values"]
