"""A stored instance re-encoded as Explicit VR Little Endian, the default syntax of PS3.18 8.7.3.5.

Implicit VR and deflated datasets are re-encoded without touching pixels;
compressed pixel data is decoded with pydicom's decoders (its size checked
first, since the whole of it is held in memory). Big-endian datasets are not
converted: their binary values would need swapping one by one, and clients
can take them as stored.
"""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging.frames import FrameReader
from pacsbox.core.imaging.pixels import PixelInfo, check_codestream, check_size
from pacsbox.core.imaging.syntaxes import EXPLICIT_LE, can_decode, is_native

__all__ = ["can_transcode", "to_explicit_little_endian"]

_REENCODED = {str(ImplicitVRLittleEndian), str(DeflatedExplicitVRLittleEndian)}


def can_transcode(transfer_syntax: str) -> bool:
    """Whether `to_explicit_little_endian` can convert a file stored in this syntax."""
    return transfer_syntax in _REENCODED or (not is_native(transfer_syntax) and can_decode(transfer_syntax))


def to_explicit_little_endian(path: Path, *, max_size: int) -> bytes:
    """The Part 10 bytes of the file at `path` in Explicit VR Little Endian, SOP Instance UID kept.

    Raises:
        PixelDataError: the pixel data is over the size limit or cannot be decoded.
    """
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as error:  # hostile files make pydicom raise many kinds
        raise PixelDataError(f"the stored file cannot be read: {error}") from None
    stored = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if not is_native(stored) and "PixelData" in ds:
        info = PixelInfo.of(ds)
        check_size(info, info.number_of_frames, max_size)
        with FrameReader(path, max_size=max_size) as reader:
            for index in range(info.number_of_frames):
                check_codestream(reader.frame(index), info)
        try:
            ds.decompress(generate_instance_uid=False)
        except Exception as error:  # codecs raise anything from ValueError to RuntimeError
            raise PixelDataError(f"the pixel data cannot be decompressed ({stored}): {error}") from None
    ds.file_meta.TransferSyntaxUID = UID(EXPLICIT_LE)
    out = io.BytesIO()
    try:
        ds.save_as(out, enforce_file_format=True)
    except Exception as error:
        raise PixelDataError(f"the instance cannot be re-encoded as {EXPLICIT_LE}: {error}") from None
    return out.getvalue()
