"""The one way an instance enters pacsbox: `InstanceStore.store_file`.

STOW-RS, REST `POST /instances`, C-STORE and `pacsbox import` all end here:

1. the bytes are already in a flushed temporary file (`files.Storage`);
2. its header is parsed (`parse.parse_instance`); unreadable input is refused
   and its temporary file removed;
3. the file is renamed to its final name and the directory flushed;
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
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset

from pacsbox.core.errors import InvalidDicom
from pacsbox.core.settings import LimitSettings, Settings
from pacsbox.pacs.store.files import Storage, WrittenFile, make_durable
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


class _KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


def _as_part10(path: Path, transfer_syntax: str) -> bytes:
    """A dataset without File Meta Information, re-encoded as a Part 10 file."""
    ds = pydicom.dcmread(path, force=True)
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = transfer_syntax
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


class InstanceStore:
    """Stores, replaces and deletes instances: files and index kept in step."""

    def __init__(self, storage: Storage, *, overwrite: bool, limits: LimitSettings) -> None:
        self.storage = storage
        self.overwrite = overwrite
        self.limits = limits
        self._locks = _KeyedLocks()

    @classmethod
    def from_settings(cls, settings: Settings) -> InstanceStore:
        """The store of the data folder and policies `settings` name."""
        return cls(
            Storage(settings.paths.data_dir / "storage"),
            overwrite=settings.storage.overwrite_instances,
            limits=settings.limits,
        )

    def _parse(self, path: Path) -> ParsedInstance:
        """Refuse a deflate bomb, then parse the header (in a worker thread)."""
        check_deflated_dataset(path, max_size=self.limits.deflated_max_size)
        return parse_instance(path)

    async def _prepare(self, path: Path) -> tuple[ParsedInstance, str]:
        """The file flushed to disk and hashed in one worker thread while another parses its header.

        Both run to their end even when parsing refuses the file, so the caller
        removes it only once nobody reads it.
        """
        durable = asyncio.ensure_future(asyncio.to_thread(make_durable, path))
        try:
            parsed = await asyncio.to_thread(self._parse, path)
        except BaseException:
            await asyncio.gather(durable, return_exceptions=True)
            raise
        return parsed, await durable

    async def store_bytes(self, data: bytes | memoryview, origin: Origin) -> StoreResult:
        """Store an instance held in memory (a C-STORE dataset, a small upload)."""
        written = await asyncio.to_thread(self.storage.write_bytes, data)
        return await self.store_file(written, origin)

    async def store_file(
        self, written: WrittenFile, origin: Origin, *, check: Callable[[ParsedInstance], None] | None = None
    ) -> StoreResult:
        """Store the instance in a flushed temporary file; the file is consumed either way.

        Args:
            written: the complete temporary file.
            origin: where it came from.
            check: called with the parsed header before anything is committed; raising refuses the instance.

        Raises:
            InvalidDicom: the file is not a storable DICOM instance (nothing is stored).
            PacsboxError: whatever `check` raised (nothing is stored).
        """
        try:
            parsed, md5 = await self._prepare(written.path)
            if check is not None:
                check(parsed)
            if not parsed.has_file_meta:
                written = await asyncio.to_thread(self._rewrite_as_part10, written, parsed.transfer_syntax)
                md5 = await asyncio.to_thread(make_durable, written.path)
        except BaseException:
            written.path.unlink(missing_ok=True)
            raise
        async with self._locks.hold(parsed.sop_uid):
            if not self.overwrite:
                existing = await stored_instance(parsed.sop_uid)
                if existing is not None:
                    written.path.unlink(missing_ok=True)
                    return StoreResult(parsed.ids, IndexStatus.ALREADY_STORED, existing["path"], parsed)
            relative = await asyncio.to_thread(self.storage.commit, written, parsed.ids.instance)
            try:
                status, obsolete = await index_instance(
                    parsed, path=relative, size=written.size, md5=md5, origin=origin
                )
            except BaseException:
                await self._forget_unindexed(parsed.sop_uid, relative)
                raise
            if obsolete and obsolete != relative:
                self.storage.remove(obsolete)
        return StoreResult(parsed.ids, status, relative, parsed)

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

    def _rewrite_as_part10(self, written: WrittenFile, transfer_syntax: str) -> WrittenFile:
        try:
            data = _as_part10(written.path, transfer_syntax)
        except Exception as error:
            raise InvalidDicom(f"cannot re-encode the dataset as a DICOM file: {error}") from None
        finally:
            written.path.unlink(missing_ok=True)
        return self.storage.write_bytes(data)

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
                parsed, md5 = await self._prepare(path)
                if parsed.ids.instance != instance_id:
                    raise InvalidDicom("file name does not match its UIDs")
                relative = self.storage.relative(path)
                _, obsolete = await index_instance(
                    parsed, path=relative, size=path.stat().st_size, md5=md5, origin=Origin(kind="Recovered")
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
