"""A stored file's meta information (PS3.10 7.1, group 0002), which the index does not keep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.filereader import read_file_meta_info

__all__ = ["read_file_meta"]


def read_file_meta(path: Path) -> dict[str, Any]:
    """The file meta elements of the file at `path` as DICOM JSON (PS3.18 F.2), binary values inline.

    Blocking (reads the file's first bytes): run it off the event loop.
    """
    return read_file_meta_info(path).to_json_dict()
