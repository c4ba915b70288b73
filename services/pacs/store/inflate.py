"""Compressed input inflated under limits: gzip request bodies and deflated datasets.

A few kilobytes of zeros deflate a thousandfold. Both kinds of input are
inflated incrementally and refused (`PayloadTooLarge`, naming the limit) as
soon as they pass their size cap; a gzip body also when its compression ratio
passes what real images reach, before it fills the disk.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from litestar import Request

from pacsbox.core.errors import BadRequest, InvalidDicom, PayloadTooLarge, UnsupportedMediaType
from pacsbox.core.settings import Settings
from pacsbox.pacs.store.header_walk import meta_transfer_syntax

__all__ = ["check_deflated_dataset", "decoded_body", "request_body"]

_RATIO_FLOOR = 1 << 20
_CHUNK = 1 << 16


class _Inflater:
    def __init__(self, wbits: int, max_size: int, max_ratio: int | None, what: str, size_setting: str) -> None:
        self._engine = zlib.decompressobj(wbits)
        self.inflated = 0
        self.deflated = 0
        self._limits = (max_size, max_ratio, what, size_setting)

    def feed(self, data: bytes) -> list[bytes]:
        max_size, max_ratio, what, size_setting = self._limits
        self.deflated += len(data)
        out = []
        pending = data
        while pending:
            piece = self._engine.decompress(pending, _CHUNK)
            pending = self._engine.unconsumed_tail
            self.inflated += len(piece)
            if self.inflated > max_size:
                raise PayloadTooLarge(f"{what} inflates beyond {max_size} bytes ({size_setting})")
            if max_ratio and self.inflated > _RATIO_FLOOR and self.inflated > max_ratio * self.deflated:
                raise PayloadTooLarge(f"{what} has a compression ratio over {max_ratio} (PACSBOX_INFLATE_MAX_RATIO)")
            if piece:
                out.append(piece)
            if self._engine.eof:
                break
        return out


async def decoded_body(
    encoding: str, chunks: AsyncIterator[bytes], *, max_size: int, max_ratio: int
) -> AsyncIterator[bytes]:
    """The request body with its `Content-Encoding` (identity or gzip) removed.

    Raises:
        UnsupportedMediaType: an encoding other than gzip.
        PayloadTooLarge: the inflated body passes `max_size` or `max_ratio`.
        BadRequest: a damaged gzip stream.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        async for chunk in chunks:
            yield chunk
        return
    if encoding not in ("gzip", "x-gzip"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported: send identity or gzip")
    inflater = _Inflater(16 + zlib.MAX_WBITS, max_size, max_ratio, "the gzip body", "PACSBOX_MAX_BODY_SIZE")
    try:
        async for chunk in chunks:
            for piece in inflater.feed(chunk):
                yield piece
    except zlib.error as error:
        raise BadRequest(f"damaged gzip body: {error}") from None


def request_body(request: Request, settings: Settings) -> AsyncIterator[bytes]:
    """A request's body as it streams in, decoded and held to the body-size and ratio limits."""
    return decoded_body(
        request.headers.get("content-encoding", ""), request.stream(),
        max_size=settings.http.max_body_size, max_ratio=settings.limits.inflate_max_ratio,
    )


def check_deflated_dataset(source: Path | bytes, *, max_size: int) -> None:
    """Refuse a deflated-transfer-syntax file that would inflate past `max_size` (pydicom reads it whole).

    Raises:
        PayloadTooLarge: over `max_size`.
        InvalidDicom: the deflate stream is damaged.
    """
    if isinstance(source, bytes) and meta_transfer_syntax(source) not in (None, DeflatedExplicitVRLittleEndian):
        return  # the meta header, walked from the bytes, names another syntax: nothing to inflate
    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as stream:
        try:
            read_preamble(stream, force=True)
            meta = _read_file_meta_info(stream)  # leaves the stream where the dataset starts
        except Exception:  # no readable meta: pydicom will not inflate anything either
            return
        if str(meta.get("TransferSyntaxUID", "")).strip("\x00 ") != DeflatedExplicitVRLittleEndian:
            return
        inflater = _Inflater(-zlib.MAX_WBITS, max_size, None, "the deflated dataset", "PACSBOX_DEFLATED_MAX_SIZE")
        try:
            while chunk := stream.read(_CHUNK):
                inflater.feed(chunk)
        except zlib.error as error:
            raise InvalidDicom(f"damaged deflated dataset: {error}") from None
