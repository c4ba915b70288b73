"""Every parse path refuses hostile input with a clear pacsbox error, never a crash or a hang.

Short in `make test`; `make fuzz` runs the same properties for a large budget.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacsbox.core.errors import BadRequest, InvalidDicom, PayloadTooLarge
from pacsbox.core.settings import LimitSettings
from pacsbox.pacs.dicomweb.multipart import iter_parts
from pacsbox.pacs.store.files import Storage
from pacsbox.pacs.store.parse import parse_instance
from pacsbox.pacs.store.zipfiles import iter_zip
from tests.fuzz.mutations import SEEDS, damaged_dicom
from tests.support.aio import run

_FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(suppress_health_check=_FIXTURE_OK)
@given(damaged_dicom())
def test_part10_parser_refuses_or_reads(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    try:
        parsed = parse_instance(path)
    except InvalidDicom as error:
        assert error.message
    else:
        assert parsed.sop_uid and parsed.study_uid and parsed.series_uid
        assert parsed.metadata.startswith("{")


async def _collect(body: bytes, chunk_sizes: list[int], storage: Storage) -> list[bytes]:
    async def chunks():
        offset, index = 0, 0
        while offset < len(body):
            size = chunk_sizes[index % len(chunk_sizes)]
            yield body[offset: offset + size]
            offset, index = offset + size, index + 1

    parts = []
    async for part in iter_parts(chunks(), "B0UND", storage, max_parts=50, max_size=1 << 22):
        parts.append(part.content if isinstance(part.content, bytes) else part.content.path.read_bytes())
        part.discard()
    return parts


_NEAR_DELIMITER = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"-", b"--", b"B0U", b"ND", b"x"]), max_size=60).map(b"".join)
"""Part contents full of pieces of the delimiter `\r\n--B0UND`, so that chunks end inside near-delimiters."""


@settings(suppress_health_check=_FIXTURE_OK)
@given(
    st.lists(st.one_of(st.binary(max_size=300), _NEAR_DELIMITER), max_size=5),
    st.lists(st.integers(1, 97), min_size=1, max_size=5),
)
def test_multipart_round_trips_whatever_the_chunking(tmp_path: Path, parts: list[bytes], chunk_sizes: list[int]) -> None:
    body = b"preamble\r\n" + b"".join(b"--B0UND\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts)
    body += b"--B0UND--\r\n"
    if any(b"\r\n--B0UND" in p for p in parts):
        return  # a part holding the delimiter is not a well-formed body
    storage = Storage(tmp_path / "storage")
    got = run(_collect(body, chunk_sizes, storage))
    assert [g[128:] if len(g) >= 132 and g[128:132] == b"DICM" else g for g in got] == [
        p[128:] if len(p) >= 132 and p[128:132] == b"DICM" else p for p in parts
    ]


@settings(suppress_health_check=_FIXTURE_OK)
@given(st.binary(max_size=2000), st.lists(st.integers(1, 500), min_size=1, max_size=4))
def test_multipart_refuses_garbage_cleanly(tmp_path: Path, body: bytes, chunk_sizes: list[int]) -> None:
    storage = Storage(tmp_path / "storage")
    try:
        run(_collect(b"--B0UND\r\n" + body, chunk_sizes, storage))
    except (BadRequest, PayloadTooLarge) as error:
        assert error.message
    assert not list(storage.tmp.iterdir())


def _valid_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, data in enumerate(SEEDS[:3]):
            archive.writestr(f"dir/{number}.dcm", data)
    return buffer.getvalue()


VALID_ZIP = _valid_zip()


@settings(suppress_health_check=_FIXTURE_OK)
@given(st.lists(st.tuples(st.integers(0, len(VALID_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=12))
def test_zip_reader_survives_corruption(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_ZIP)
    for at, value in flips:
        data[at] = value
    path = tmp_path / "upload.zip"
    path.write_bytes(bytes(data))
    storage = Storage(tmp_path / "storage")
    limits = LimitSettings()
    try:
        for member in iter_zip(path, storage, limits):
            if member.written is not None:
                member.written.path.unlink()
            else:
                assert member.error
    except (BadRequest, PayloadTooLarge) as error:
        assert error.message
    assert not list(storage.tmp.iterdir())
