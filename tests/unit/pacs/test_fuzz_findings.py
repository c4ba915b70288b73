"""Inputs the fuzzers found, kept so the fixes stay fixed."""

from pathlib import Path

from pacsbox.core.settings import LimitSettings
from pacsbox.pacs.store.files import Storage
from pacsbox.pacs.store.zipfiles import iter_zip

FINDINGS = Path(__file__).parents[2] / "data" / "fuzz"


def test_zip_with_a_broken_deflate_stream_reports_the_member(tmp_path: Path) -> None:
    """zlib.error escaped the ZIP reader (a 500 on upload)."""
    storage = Storage(tmp_path / "storage")
    members = list(iter_zip(FINDINGS / "zip-invalid-stored-block.zip", storage, LimitSettings()))
    broken = [m for m in members if m.written is None]
    assert broken and all("cannot extract" in m.error for m in broken)
    for member in members:
        if member.written:
            member.written.path.unlink()
    assert not list(storage.tmp.iterdir())
