"""Transfer syntaxes and the media types that carry their pixel data (PS3.18 8.7.3).

Native (uncompressed) frames travel as `application/octet-stream`; a
compressed frame travels in the media type of its codec, labelled with the
exact transfer syntax so that a client never mistakes compressed bytes for
raw pixels.
"""

from __future__ import annotations

from pydicom.pixels import get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

__all__ = [
    "DEFAULT_SYNTAX",
    "EXPLICIT_LE",
    "OCTET_STREAM",
    "can_decode",
    "is_native",
    "pixel_media_type",
]

EXPLICIT_LE = str(ExplicitVRLittleEndian)
"""The default transfer syntax of `application/dicom` and `application/octet-stream` (PS3.18 8.7.3.5)."""
OCTET_STREAM = "application/octet-stream"

_NATIVE = {str(ImplicitVRLittleEndian), EXPLICIT_LE, str(ExplicitVRBigEndian), str(DeflatedExplicitVRLittleEndian)}

_MEDIA_TYPES = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.4.201": "image/jphc",
    "1.2.840.10008.1.2.4.202": "image/jphc",
    "1.2.840.10008.1.2.4.203": "image/jphc",
    "1.2.840.10008.1.2.5": "image/dicom-rle",
    "1.2.840.10008.1.2.4.100": "video/mpeg2",
    "1.2.840.10008.1.2.4.101": "video/mpeg2",
    "1.2.840.10008.1.2.4.102": "video/mp4",
    "1.2.840.10008.1.2.4.103": "video/mp4",
    "1.2.840.10008.1.2.4.104": "video/mp4",
    "1.2.840.10008.1.2.4.105": "video/mp4",
    "1.2.840.10008.1.2.4.106": "video/mp4",
    "1.2.840.10008.1.2.4.107": "video/H265",
    "1.2.840.10008.1.2.4.108": "video/H265",
}

DEFAULT_SYNTAX = {
    OCTET_STREAM: EXPLICIT_LE,
    "image/jpeg": "1.2.840.10008.1.2.4.50",
    "image/jls": "1.2.840.10008.1.2.4.80",
    "image/jp2": "1.2.840.10008.1.2.4.90",
    "image/jpx": "1.2.840.10008.1.2.4.92",
    "image/jphc": "1.2.840.10008.1.2.4.201",
    "image/dicom-rle": "1.2.840.10008.1.2.5",
}
"""The transfer syntax a pixel media type means when the client names none (PS3.18 table 8.7.3-5)."""


def is_native(transfer_syntax: str) -> bool:
    """Uncompressed pixel data (possibly big endian, or deflated as a whole dataset)."""
    return transfer_syntax in _NATIVE


def pixel_media_type(transfer_syntax: str) -> str:
    """The media type of one frame (or of the bulk pixel data) in this transfer syntax."""
    return _MEDIA_TYPES.get(transfer_syntax, OCTET_STREAM)


def can_decode(transfer_syntax: str) -> bool:
    """Whether a decoder plugin for this transfer syntax is installed."""
    try:
        return bool(get_decoder(UID(transfer_syntax)).is_available)
    except NotImplementedError:
        return False
