"""The one way an instance enters pacsbox: `InstanceStore.store`.

STOW-RS, REST `POST /instances`, C-STORE and `pacsbox import` all end here:

1. the bytes are already in a complete temporary file (`files.Storage`);
2. its header is parsed (`parse.parse_instance`); unreadable input is refused
   and its temporary file removed; the file is flushed and hashed;
3. the instance is claimed (`claims.Claims`), the file renamed to its final
   name and the directory flushed; steps 2 and 3 are one worker-thread item;
4. the index job commits (`index.index_instance`, grouped with the jobs of
   other instances stored at the same moment);
5. only then does the caller answer success.

A crash before 4 leaves a complete file without a row: `reconcile` (run at
start-up) indexes it again. A crash before 3 leaves a temporary file, which
`reconcile` removes. No index row ever points at a missing file.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset

from pacsbox.core.errors import InvalidDicom
from pacsbox.core.settings import LimitSettings, Settings
from pacsbox.pacs.store.claims import Claims
from pacsbox.pacs.store.files import (
    IN_MEMORY_MAX,
    Storage,
    WrittenFile,
    file_checksum,
    make_durable,
    read_whole,
    zero_preamble,
)
from pacsbox.pacs.store.ids import Level, ResourceIds
from pacsbox.pacs.store.inflate import check_deflated_dataset
from pacsbox.pacs.store.index import IndexStatus, Origin, delete_resource, index_instance, stored_instance
from pacsbox.pacs.store.parse import ParsedInstance, parse_instance
from pacsbox.pacs.tables import Instance

__all__ = ["InstanceStore", "StoreResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreResult:
    """What a caller reports back: the IDs, the status and the stored file."""

    ids: ResourceIds
    status: IndexStatus
    path: str
    parsed: ParsedInstance


@dataclass(frozen=True)
class _Prepared:
    """A flushed, parsed instance file; `placed` is its final relative path when the worker renamed it (claimed)."""

    written: WrittenFile
    parsed: ParsedInstance
    checksum: str
    placed: str | None


def _as_part10(source: Path | bytes, transfer_syntax: str) -> bytes:
    """A dataset without File Meta Information (a file's path or its bytes), re-encoded as a Part 10 file.

    Raises:
        InvalidDicom: pydicom cannot write it back.
    """
    try:
        ds = pydicom.dcmread(io.BytesIO(source) if isinstance(source, bytes) else source, force=True)
        meta = FileMetaDataset()
        meta.TransferSyntaxUID = transfer_syntax
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta = meta
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
    except Exception as error:
        raise InvalidDicom(f"cannot re-encode the dataset as a DICOM file: {error}") from None
    return out.getvalue()


class InstanceStore:
    """Stores, replaces and deletes instances: files and index kept in step."""

    def __init__(self, storage: Storage, *, overwrite: bool, limits: LimitSettings) -> None:
        self.storage = storage
        self.overwrite = overwrite
        self.limits = limits
        self._claims = Claims(storage.root / "claims.lock")
        self._running: set[asyncio.Future[StoreResult]] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> InstanceStore:
        """The store of the data folder and policies `settings` name."""
        return cls(
            Storage(settings.paths.data_dir / "storage"),
            overwrite=settings.storage.overwrite_instances,
            limits=settings.limits,
        )

    def _parse(self, source: Path | bytes) -> ParsedInstance:
        """Refuse a deflate bomb, then parse the header (of the file at a path, or of its bytes)."""
        check_deflated_dataset(source, max_size=self.limits.deflated_max_size)
        return parse_instance(source)

    def _prepare(self, source: WrittenFile | bytes, check: Callable[[ParsedInstance], None] | None) -> _Prepared:
        """Parse, check, flush and hash an instance, then rename its file into place if the instance is free.

        One work item in one worker thread: each hand-off between threads costs
        a wake-up and a turn at the GIL, which for small instances cost more
        than the work. `source` is the instance's bytes as received (up to
        `IN_MEMORY_MAX`) or a complete temporary file; a file that small is
        read once, so that parsing (which seeks and reads dozens of times) and
        hashing run in memory. A refused instance leaves no file. The rename
        needs the instance's claim; when another store holds it, the file stays
        under its temporary name and `_store` waits for the claim.
        """
        if isinstance(source, bytes):
            written, parsed, checksum = self._flush_bytes(zero_preamble(source), check)
        else:
            written, parsed, checksum = self._flush_file(source, check)
        if not self.overwrite or not self._claims.try_claim(parsed.sop_uid):
            return _Prepared(written, parsed, checksum, None)
        try:
            return _Prepared(written, parsed, checksum, self.storage.commit(written, parsed.ids.instance))
        except BaseException:
            self._claims.release(parsed.sop_uid)
            written.path.unlink(missing_ok=True)
            raise

    def _flush_bytes(
        self, data: bytes, check: Callable[[ParsedInstance], None] | None
    ) -> tuple[WrittenFile, ParsedInstance, str]:
        """Write the bytes to a temporary file first, so the disk works while they are hashed and parsed.

        Hashed first: hashing lets the GIL go, so a direct write handed to its own thread
        (`files.DirectWrites`) starts at once instead of after the parse.
        """
        pending = self.storage.start_file(data)
        try:
            checksum = file_checksum(data)
            parsed = self._parse(data)
            if check is not None:
                check(parsed)
            if not parsed.has_file_meta:
                pending.discard()
                data = _as_part10(data, parsed.transfer_syntax)
                pending = self.storage.start_file(data)
                checksum = file_checksum(data)
            return pending.finish(), parsed, checksum
        except BaseException:
            pending.discard()
            raise

    def _flush_file(
        self, written: WrittenFile, check: Callable[[ParsedInstance], None] | None
    ) -> tuple[WrittenFile, ParsedInstance, str]:
        """Parse a complete temporary file (from memory when small), then flush and hash it."""
        try:
            data = read_whole(written.path, IN_MEMORY_MAX)
            parsed = self._parse(written.path if data is None else data)
            if check is not None:
                check(parsed)
            if parsed.has_file_meta:
                return written, parsed, make_durable(written.path, data)
            part10 = _as_part10(written.path if data is None else data, parsed.transfer_syntax)
        except BaseException:
            written.path.unlink(missing_ok=True)
            raise
        written.path.unlink(missing_ok=True)
        pending = self.storage.start_file(part10)
        try:
            checksum = file_checksum(part10)
            return pending.finish(), parsed, checksum
        except BaseException:
            pending.discard()
            raise

    async def store(
        self, content: bytes | WrittenFile, origin: Origin, *, check: Callable[[ParsedInstance], None] | None = None
    ) -> StoreResult:
        """Store one instance: its bytes (a C-STORE dataset, a STOW-RS part, a small upload) or a complete
        temporary file, which is consumed either way.

        Once called, the store runs to its end even if the caller is cancelled
        (a client that hangs up after sending an instance whole): a file is
        never left renamed but unindexed, or a claim held, by a cancellation.

        Args:
            content: the instance's bytes, or its complete temporary file.
            origin: where it came from.
            check: called with the parsed header before anything is committed; raising refuses the instance.

        Raises:
            InvalidDicom: not a storable DICOM instance (nothing is stored).
            PacsboxError: whatever `check` raised (nothing is stored).
        """
        task = asyncio.ensure_future(self._store(content, origin, check))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def settle(self) -> None:
        """Wait for the stores still running (at shutdown, before the database closes)."""
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _store(
        self, source: WrittenFile | bytes, origin: Origin, check: Callable[[ParsedInstance], None] | None
    ) -> StoreResult:
        prepared = await asyncio.to_thread(self._prepare, source, check)
        parsed, written = prepared.parsed, prepared.written
        if prepared.placed is None:
            await self._claims.claim(parsed.sop_uid)
        try:
            if prepared.placed is not None:
                relative = prepared.placed
            elif not self.overwrite and (existing := await stored_instance(parsed.sop_uid)) is not None:
                written.path.unlink(missing_ok=True)
                return StoreResult(parsed.ids, IndexStatus.ALREADY_STORED, existing["path"], parsed)
            else:
                relative = await asyncio.to_thread(self.storage.commit, written, parsed.ids.instance)
            try:
                status, obsolete = await index_instance(
                    parsed, path=relative, size=written.size, checksum=prepared.checksum, origin=origin
                )
            except BaseException:
                await self._forget_unindexed(parsed.sop_uid, relative)
                raise
            if obsolete and obsolete != relative:
                self.storage.remove(obsolete)
        finally:
            self._claims.release(parsed.sop_uid)
        return StoreResult(parsed.ids, status, relative, parsed)

    def _parse_stored(self, path: Path) -> tuple[ParsedInstance, str]:
        """The header and checksum of a file already in its final place (start-up check)."""
        return self._parse(path), make_durable(path)

    async def _forget_unindexed(self, sop_uid: str, relative: str) -> None:
        """After a failed index write: remove the file unless an earlier copy of the instance is indexed.

        When the database cannot even be asked, the file stays: the start-up check
        indexes it, which is harmless, whereas removing an indexed file is not.
        """
        try:
            indexed = await stored_instance(sop_uid)
        except Exception:  # the database is down: leave the file to the start-up check
            return
        if indexed is None:
            self.storage.remove(relative)

    async def delete(self, level: Level, public_id: str) -> int:
        """Delete a resource and its files; returns how many instance files went.

        Raises:
            NotFound: no such resource.
        """
        paths = await delete_resource(level, public_id)
        for relative in paths:
            self.storage.remove(relative)
        return len(paths)

    async def reconcile(self) -> dict[str, int]:
        """Start-up check: files and index made consistent after a crash; logs what it did."""
        report = {"temporary_removed": self.storage.clear_temporary(), "rows_removed": 0, "files_indexed": 0}
        files = await asyncio.to_thread(self.storage.stored_files)
        rows = await Instance.raw("SELECT public_id, path FROM instances")
        indexed = set()
        for row in rows:
            if not self.storage.absolute(row["path"]).is_file():
                await delete_resource(Level.INSTANCE, row["public_id"])
                report["rows_removed"] += 1
            indexed.add(row["public_id"])
        for instance_id, path in files.items():
            if instance_id in indexed:
                continue
            try:
                parsed, checksum = await asyncio.to_thread(self._parse_stored, path)
                if parsed.ids.instance != instance_id:
                    raise InvalidDicom("file name does not match its UIDs")
                relative = self.storage.relative(path)
                _, obsolete = await index_instance(
                    parsed, path=relative, size=path.stat().st_size, checksum=checksum, origin=Origin(kind="Recovered")
                )
                if obsolete and obsolete != relative:
                    self.storage.remove(obsolete)
                report["files_indexed"] += 1
            except InvalidDicom as error:
                log.warning("start-up check: %s is unreadable (%s); moved aside", path.name, error)
                path.rename(path.with_suffix(".unreadable"))
        if any(report.values()):
            log.warning("start-up check repaired the storage: %s", report)
        return report
