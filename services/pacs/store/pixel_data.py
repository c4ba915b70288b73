"""Frames and bulk data of stored instances (PS3.18 WADO-RS frames and BulkDataURI targets).

Frames are read one by one from the file (`FrameReader`), either as stored
(native bytes, or one compressed frame) or decoded to uncompressed little
endian. A bulk value is found by tag, first at the top level, then in
sequences, as `pacsbox.pacs.store.metadata` named it; a native pixel value is
streamed from its offset, an encapsulated one as its fragments (a video's
bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

import pydicom
from pydicom.dataset import Dataset

from pacsbox.core.errors import NotFound, PixelDataError
from pacsbox.core.imaging import OCTET_STREAM, PIXEL_TAGS, FrameReader, pixel_media_type
from pacsbox.core.imaging.cache import ReadCache
from pacsbox.pacs.store.reader import StoredInstance
from pacsbox.pacs.store.retrieve import FileSpan, Payload

__all__ = ["count_frames", "read_bulkdata", "read_frames"]


def read_frames(
    instance: StoredInstance, numbers: Sequence[int], *, decode: bool, max_size: int, cache: ReadCache | None = None
) -> list[bytes]:
    """Frames `numbers` (from 1) of an instance: as stored, or decoded to little-endian native bytes.

    `cache` holds parsed headers and decoded frames of files read before; this instance's are taken or added.

    Raises:
        NotFound: a frame number past the instance's last frame.
        PixelDataError: no pixel data, or a frame that cannot be read or decoded.
    """
    with FrameReader(instance.path, max_size=max_size, cache=cache) as reader:
        if not reader.has_pixels:
            raise PixelDataError(f"instance {instance.sop_uid} has no pixel data, so no frames")
        count = reader.number_of_frames
        missing = [n for n in numbers if n > count]
        if missing:
            raise NotFound(f"instance {instance.sop_uid} has {count} frame(s): no frame {missing[0]}")
        if decode:
            return [reader.little_endian_frame(n - 1) for n in numbers]
        return [reader.frame(n - 1) for n in numbers]


def count_frames(instance: StoredInstance, *, max_size: int, cache: ReadCache | None = None) -> int:
    """The number of frames of an instance, checked against its pixel data (not the header's word alone).

    Raises:
        PixelDataError: no pixel data, or a frame count its bytes cannot hold.
    """
    with FrameReader(instance.path, max_size=max_size, cache=cache) as reader:
        return reader.checked_number_of_frames()


def _find(ds: Dataset, tag: int) -> pydicom.DataElement | None:
    if tag in ds:
        return ds[tag]
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                found = _find(item, tag)
                if found is not None:
                    return found
    return None


def read_bulkdata(instance: StoredInstance, tag: int, *, max_size: int) -> Payload:
    """The value of attribute `tag` of an instance, as a payload.

    Raises:
        NotFound: the instance has no such attribute.
        PixelDataError: the header cannot be read, or malformed encapsulated pixel data.
    """
    if tag in PIXEL_TAGS:
        return _pixel_bulkdata(instance, tag, max_size)
    try:
        ds = pydicom.dcmread(instance.path, stop_before_pixels=True, force=True)
        element = _find(ds, tag)
        value = None if element is None else element.value
    except Exception as error:  # hostile headers make pydicom raise many kinds
        raise PixelDataError(f"the header of instance {instance.sop_uid} cannot be read: {error}") from None
    if element is None or value is None:
        raise NotFound(f"instance {instance.sop_uid} has no attribute {tag:08X}")
    data = value if isinstance(value, bytes) else str(value).encode()
    return Payload(OCTET_STREAM, data)


def _pixel_bulkdata(instance: StoredInstance, tag: int, max_size: int) -> Payload:
    with FrameReader(instance.path, max_size=max_size) as reader:
        if reader.tag != tag:
            raise NotFound(f"instance {instance.sop_uid} has no attribute {tag:08X}")
        if not reader.encapsulated and not reader.inflated:
            offset, length = reader.value_span()
            return Payload(OCTET_STREAM, FileSpan(instance.path, offset, length), reader.transfer_syntax)
        if instance.file_size > max_size:  # what follows is held in memory
            raise PixelDataError(f"{instance.file_size} bytes of pixel data, over PACSBOX_MAX_PIXEL_DATA_SIZE ({max_size})")
        if reader.encapsulated:
            media = pixel_media_type(reader.transfer_syntax)
            return Payload(media, b"".join(reader.fragments()), reader.transfer_syntax)
        reader.stream.seek(0)
        return Payload(OCTET_STREAM, reader.stream.read(), reader.transfer_syntax)
