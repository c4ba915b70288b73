"""Frames of a stored file, read one at a time without loading or decoding the rest.

`FrameReader` parses the header up to the pixel data element and notes where
its value starts. A native (uncompressed) frame is then a slice at a computed
offset; an encapsulated frame is found through the Extended Offset Table, the
Basic Offset Table, or by scanning fragments (pydicom's `get_frame`). Only a
deflated dataset, whose bytes have no fixed offsets, is inflated whole.

Decoding goes through pydicom's pixel decoders and the pylibjpeg plugins,
after `check_size` has accepted the frame's dimensions (JPEG Lossless by
libjpeg-turbo first, `lossless.py`; a native grey frame straight from its
bytes, as pydicom would shape it). Every failure, whatever the codec raised,
surfaces as `PixelDataError` naming the frame. Given a `ReadCache`, a reader
takes the header from it when the same file was read before, and a decoded
compressed frame too (read-only then).

    with FrameReader(path, max_size=settings.limits.max_pixel_data_size) as reader:
        first = reader.frame(0)          # stored bytes (compressed or native)
        pixels = reader.decode(0)        # numpy array of pixel values
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from struct import unpack
from typing import BinaryIO, Self

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments, get_frame, parse_basic_offsets
from pydicom.pixels import get_decoder
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import lossless
from pacsbox.core.imaging.cache import FileKey, Header, ReadCache, file_key
from pacsbox.core.imaging.pixels import PixelInfo, check_codestream, check_size
from pacsbox.core.imaging.syntaxes import EXPLICIT_LE

__all__ = ["PIXEL_TAGS", "FrameReader"]

log = logging.getLogger(__name__)

_PIXEL_KEYWORDS = {0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData", 0x7FE00010: "PixelData"}
PIXEL_TAGS = frozenset(_PIXEL_KEYWORDS)
"""Float, Double Float and (integer) Pixel Data: the elements that hold frames."""
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN"}
"""VRs a pixel data element may carry, all with a 4-byte length after 2 reserved bytes."""
_UNDEFINED = 0xFFFFFFFF


class FrameReader:
    """One stored file's pixel data, frame by frame. Use as a context manager.

    Raises:
        PixelDataError: the header cannot be read.
    """

    def __init__(self, path: Path, *, max_size: int, cache: ReadCache | None = None) -> None:
        self.max_size = max_size
        self._fp: BinaryIO = open(path, "rb")
        try:
            self._cache = cache
            self._key: FileKey | None = file_key(path, self._fp) if cache is not None else None
            cached = cache.headers.get(self._key) if cache is not None else None
            if cached is not None:
                self._adopt(cached)
            else:
                self._open(path)
                if cache is not None and not self.inflated:
                    cache.headers.put(self._key, self._header())
        except BaseException:
            self._fp.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fp.close()

    def _open(self, path: Path) -> None:
        try:
            self.dataset: Dataset = pydicom.dcmread(self._fp, stop_before_pixels=True, force=True)
        except Exception as error:  # hostile headers make pydicom raise many kinds
            raise PixelDataError(f"the header cannot be read: {error}") from None
        meta = self.dataset.file_meta
        self.transfer_syntax = str(meta.get("TransferSyntaxUID", "") or EXPLICIT_LE).strip("\x00 ")
        self.tag: int | None = None
        self._vr = ""
        self._offset = 0
        self._length: int | None = None
        self.inflated = False
        """True for a deflated dataset, whose pixel value is held in memory (`stream`)."""
        if self.transfer_syntax == DeflatedExplicitVRLittleEndian:
            self._inflate(path)
        else:
            self._locate_pixel_element()

    def _header(self) -> Header:
        return Header(self.dataset, self.transfer_syntax, self.tag, self._vr, self._offset, self._length, self._endian)

    def _adopt(self, header: Header) -> None:
        self.dataset, self.transfer_syntax, self.tag = header.dataset, header.transfer_syntax, header.tag
        self._vr, self._offset, self._length, self._endian = header.vr, header.offset, header.length, header.endian
        self.inflated = False

    def _locate_pixel_element(self) -> None:
        implicit, little = self.dataset.original_encoding
        self._endian = "<" if little is not False else ">"
        head = self._fp.read(8)
        if len(head) < 8:
            return
        group, element = unpack(f"{self._endian}HH", head[:4])
        tag = group << 16 | element
        if tag not in _PIXEL_KEYWORDS:
            return
        if implicit or head[4:6] not in _LONG_VRS:  # no VR where one should be: written implicit anyway
            (length,) = unpack(f"{self._endian}L", head[4:8])
            vr = ""
        else:
            (length,) = unpack(f"{self._endian}L", self._fp.read(4))
            vr = head[4:6].decode()
        self.tag, self._vr, self._offset = tag, vr, self._fp.tell()
        self._length = None if length == _UNDEFINED else length

    def _inflate(self, path: Path) -> None:
        """A deflated dataset has no fixed offsets: read it whole and keep its pixel value in memory."""
        try:
            full = pydicom.dcmread(path, force=True)
        except Exception as error:
            raise PixelDataError(f"the deflated dataset cannot be read: {error}") from None
        self._endian = "<"
        for tag in PIXEL_TAGS:
            if tag in full:
                value = full[tag].value
                self.tag, self._vr, self._length = tag, full[tag].VR, len(value)
                self._fp.close()
                self._fp = io.BytesIO(value)
                self.transfer_syntax = EXPLICIT_LE
                self.inflated = True
                return

    @property
    def has_pixels(self) -> bool:
        return self.tag is not None

    @property
    def encapsulated(self) -> bool:
        return self.has_pixels and self._length is None

    @property
    def native_little_endian(self) -> bool:
        """Frames whose stored bytes are what `little_endian_frame` returns: no decoding."""
        return self.has_pixels and not self.encapsulated and self._endian == "<"

    @cached_property
    def info(self) -> PixelInfo:
        """The Image Pixel module, validated.

        Raises:
            PixelDataError: no pixel data, or attributes that cannot describe it.
        """
        if not self.has_pixels:
            raise PixelDataError("this instance has no pixel data")
        return PixelInfo.of(self.dataset)

    @property
    def number_of_frames(self) -> int:
        return self.info.number_of_frames

    def checked_number_of_frames(self) -> int:
        """NumberOfFrames, refused when the pixel data could not hold that many frames.

        A hostile header may claim 2**31 frames over a few bytes; whoever walks
        every frame (a rendered multi-frame instance) asks this first.

        Raises:
            PixelDataError: no pixel data, or more frames than its bytes can hold.
        """
        info = self.info
        if info.number_of_frames == 1:
            return 1
        if self.encapsulated:  # each frame takes one item at least: an 8-byte header
            size = self._fp.seek(0, io.SEEK_END) - self._offset
            capacity = size // 8
        else:
            size = self._length or 0
            capacity = size * 8 // info.frame_bits
        if info.number_of_frames > capacity:
            raise PixelDataError(
                f"NumberOfFrames {info.number_of_frames} cannot fit in {size} bytes of pixel data"
            )
        return info.number_of_frames

    def _check_index(self, index: int) -> PixelInfo:
        info = self.info
        if not 0 <= index < info.number_of_frames:
            raise PixelDataError(f"frame {index + 1} does not exist: the instance has {info.number_of_frames}")
        return info

    def frame(self, index: int) -> bytes:
        """Frame `index` (from 0) as stored: native bytes in the stored byte order, or one compressed frame.

        Raises:
            PixelDataError: no such frame, or the pixel data is truncated or malformed.
        """
        info = self._check_index(index)
        if self.encapsulated:
            return self._encapsulated_frame(index, info)
        return self._native_frame(index, info)

    def _native_span(self, index: int, info: PixelInfo) -> tuple[int, int, int]:
        """(first bit, byte start, byte end) of a native frame within the pixel value."""
        bits = info.frame_bits
        first_bit = index * bits
        start, end = first_bit // 8, -(-(first_bit + bits) // 8)
        if self._length is None or end > self._length:
            raise PixelDataError(f"the pixel data is truncated: frame {index + 1} ends past its {self._length} bytes")
        return first_bit, start, end

    def _native_frame(self, index: int, info: PixelInfo) -> bytes:
        first_bit, start, end = self._native_span(index, info)
        self._fp.seek(self._offset + start)
        data = self._fp.read(end - start)
        if len(data) != end - start:
            raise PixelDataError(f"the file is truncated inside frame {index + 1}")
        if first_bit % 8 or info.frame_bits % 8:  # 1-bit frames need not start on a byte
            unpacked = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
            shift = first_bit % 8
            return np.packbits(unpacked[shift : shift + info.frame_bits], bitorder="little").tobytes()
        return data

    def _encapsulated_frame(self, index: int, info: PixelInfo) -> bytes:
        self._fp.seek(self._offset)
        extended = None
        if "ExtendedOffsetTable" in self.dataset and "ExtendedOffsetTableLengths" in self.dataset:
            extended = (self.dataset.ExtendedOffsetTable, self.dataset.ExtendedOffsetTableLengths)
        try:
            return get_frame(
                self._fp, index, number_of_frames=info.number_of_frames,
                extended_offsets=extended, endianness=self._endian,
            )
        except Exception as error:  # malformed items, offsets past the end...
            raise PixelDataError(f"frame {index + 1} cannot be read from the encapsulated pixel data: {error}") from None

    def little_endian_frame(self, index: int) -> bytes:
        """Frame `index` uncompressed and little endian: what `application/octet-stream` carries.

        Native little-endian frames are the stored bytes; big-endian and
        compressed ones are decoded (samples as stored, not converted to RGB).
        """
        info = self._check_index(index)
        if self.native_little_endian:
            return self._native_frame(index, info)
        pixels = self.decode(index, raw=True)
        if info.bits_allocated == 1:
            return np.packbits(pixels.astype(np.uint8).ravel(), bitorder="little").tobytes()
        kind = "f" if pixels.dtype.kind == "f" else ("i" if info.pixel_representation else "u")
        return np.ascontiguousarray(pixels, dtype=f"<{kind}{info.bits_allocated // 8}").tobytes()

    def decode(self, index: int, *, raw: bool = False) -> np.ndarray:
        """Pixel values of frame `index`: (rows, columns) or (rows, columns, samples).

        With `raw=False` YBR colour is converted to RGB, as a display needs.

        Raises:
            PixelDataError: no decoder for the transfer syntax, the frame is over
                the size limit, or the codec failed.
        """
        info = self._check_index(index)
        check_size(info, 1, self.max_size)
        if self._plain_grey(info):
            return self._grey_frame(index, info)
        if self._cache is not None and self._key is not None and self.encapsulated:
            pixels = self._cache.frame(self._key, index, raw)
            if pixels is None:
                pixels = self._cache.keep_frame(self._key, index, raw, self._decode(index, info, raw))
            return pixels
        return self._decode(index, info, raw)

    def _decode(self, index: int, info: PixelInfo, raw: bool) -> np.ndarray:
        try:
            decoder = get_decoder(UID(self.transfer_syntax))
        except NotImplementedError:
            raise PixelDataError(f"no decoder for transfer syntax {self.transfer_syntax}") from None
        if not decoder.is_available:
            raise PixelDataError(f"no decoder plugin is installed for transfer syntax {self.transfer_syntax}")
        options = as_pixel_options(self.dataset, transfer_syntax_uid=UID(self.transfer_syntax))
        options["pixel_keyword"] = _PIXEL_KEYWORDS[self.tag or 0x7FE00010]
        if self._vr:
            options["pixel_vr"] = self._vr
        if self.encapsulated:
            check_codestream(self._encapsulated_frame(index, info), info)
        else:
            self._native_span(index, info)
        plugins = [lossless.PLUGIN, ""] if lossless.suits(self.transfer_syntax, info) else [""]
        for plugin in plugins:  # "": every installed plugin, in pydicom's order
            try:
                self._fp.seek(self._offset)
                pixels, _ = decoder.as_array(self._fp, index=index, validate=True, raw=raw, decoding_plugin=plugin,
                                             **options)
                return pixels
            except Exception as error:  # codecs raise anything from ValueError to RuntimeError
                log.debug("decoding frame %d with %r failed", index + 1, plugin or "any plugin", exc_info=True)
                failure = error
        raise PixelDataError(f"frame {index + 1} cannot be decoded ({self.transfer_syntax}): {failure}") from None

    def _plain_grey(self, info: PixelInfo) -> bool:
        """A native little-endian grey frame of whole bytes: its stored bytes are its values."""
        return (
            not self.encapsulated and not self.inflated and self._endian == "<" and self.tag == 0x7FE00010
            and info.samples_per_pixel == 1 and info.bits_allocated in (8, 16, 32)
        )

    def _grey_frame(self, index: int, info: PixelInfo) -> np.ndarray:
        """The frame as pydicom's native decoder gives it, without its set-up cost.

        Like pydicom, bits above Bits Stored are ignored (PS3.5 8.1.1): shifted
        out and back, which sign-extends signed values.
        """
        kind = "i" if info.pixel_representation else "u"
        values = np.frombuffer(self._native_frame(index, info), f"<{kind}{info.bits_allocated // 8}")
        pixels = values.reshape(info.rows, info.columns).copy()
        unused = info.bits_allocated - info.bits_stored
        if unused:
            np.left_shift(pixels, unused, out=pixels)
            np.right_shift(pixels, unused, out=pixels)
        return pixels

    def value_span(self) -> tuple[int, int]:
        """(offset, length) of a native pixel value in the file (or in `stream` when inflated)."""
        if not self.has_pixels or self.encapsulated:
            raise PixelDataError("the pixel data is not native")
        return self._offset, self._length or 0

    def fragments(self) -> Iterator[bytes]:
        """The compressed fragments in order, without the Basic Offset Table (a video's bytes)."""
        self._fp.seek(self._offset)
        try:
            parse_basic_offsets(self._fp, endianness=self._endian)
            yield from generate_fragments(self._fp, endianness=self._endian)
        except ValueError as error:
            raise PixelDataError(f"the encapsulated pixel data is malformed: {error}") from None

    @property
    def stream(self) -> BinaryIO:
        """The open file (or inflated buffer) the offsets refer to."""
        return self._fp
