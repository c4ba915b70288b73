"""`pacsbox import PATH...`: files, folders (recursive), ZIPs and DICOMDIRs into the index.

Runs in its own process against the same storage and database as the pacs
service (SQLite in WAL mode takes both), through the one ingest path. Every
input is reported: stored, already stored, or rejected with the reason; the
exit status is 1 when anything was rejected. Paths inside a DICOMDIR are
resolved against its folder and refused if they would leave it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.errors import PacsboxError
from pacsbox.core.settings import Settings
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.store import IndexStatus, InstanceStore, Origin
from pacsbox.pacs.store.zipfiles import is_zip, iter_zip

__all__ = ["ImportReport", "run_import"]

_ORIGIN = Origin(kind="Import")


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def reject(self, name: str, reason: str) -> None:
        self.counts["rejected"] += 1
        self.rejected.append((name, reason))


def _dicomdir_members(path: Path) -> Iterator[Path]:
    """Files a DICOMDIR references, confined to the DICOMDIR's folder."""
    root = path.parent.resolve()
    directory = pydicom.dcmread(path, force=True)
    for record in directory.get("DirectoryRecordSequence", []):
        parts = record.get("ReferencedFileID")
        if not parts:
            continue
        parts = [parts] if isinstance(parts, str) else list(parts)
        target = root.joinpath(*parts).resolve()
        if not target.is_relative_to(root):
            raise PacsboxError(f"DICOMDIR {path} refers outside its folder: {'/'.join(parts)}")
        yield target


def _inputs(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            dicomdirs = sorted(path.rglob("DICOMDIR"))
            if dicomdirs:
                for dicomdir in dicomdirs:
                    yield dicomdir
                covered = {p.parent for p in dicomdirs}
                yield from (p for p in sorted(path.rglob("*")) if p.is_file() and not any(p.is_relative_to(c) for c in covered))
            else:
                yield from (p for p in sorted(path.rglob("*")) if p.is_file())
        else:
            yield path


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done, self.started = total, enabled and sys.stderr.isatty(), 0, time.monotonic()

    def step(self, report: ImportReport) -> None:
        self.done += 1
        if self.enabled:
            rate = self.done / max(time.monotonic() - self.started, 1e-6)
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} inputs, "
                  f"{report.counts['stored']} stored, {report.counts['rejected']} rejected, {rate:.0f}/s",
                  end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


async def _store_path(store: InstanceStore, path: Path, name: str, report: ImportReport) -> None:
    try:
        result = await store.store(await asyncio.to_thread(path.read_bytes), _ORIGIN)
    except PacsboxError as error:
        report.reject(name, error.message)
    except OSError as error:
        report.reject(name, f"cannot read: {error.strerror}")
    else:
        report.counts["stored" if result.status is IndexStatus.SUCCESS else "already stored"] += 1


async def import_paths(store: InstanceStore, paths: list[str], settings: Settings, progress: bool) -> ImportReport:
    report = ImportReport()
    inputs = list(_inputs(paths))
    bar = _Progress(len(inputs), progress)
    for path in inputs:
        try:
            if not path.exists():
                report.reject(str(path), "no such file or folder")
            elif path.name == "DICOMDIR":
                for member in _dicomdir_members(path):
                    await _store_path(store, member, str(member), report)
            elif is_zip(path):
                for member in iter_zip(path, store.storage, settings.limits):
                    if member.written is None:
                        report.reject(f"{path}:{member.name}", member.error)
                        continue
                    try:
                        result = await store.store(member.written, _ORIGIN)
                        report.counts["stored" if result.status is IndexStatus.SUCCESS else "already stored"] += 1
                    except PacsboxError as error:
                        report.reject(f"{path}:{member.name}", error.message)
            else:
                await _store_path(store, path, str(path), report)
        except PacsboxError as error:
            report.reject(str(path), error.message)
        except Exception as error:  # one broken input must not end the import
            report.reject(str(path), f"{type(error).__name__}: {error}")
        bar.step(report)
    bar.close()
    return report


async def run_import(paths: list[str], settings: Settings, *, progress: bool = True) -> int:
    """Import, print the summary; 0 when nothing was rejected, else 1."""
    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    try:
        await SCHEMA.upgrade()
        store = InstanceStore.from_settings(settings)
        started = time.monotonic()
        report = await import_paths(store, paths, settings, progress)
        elapsed = time.monotonic() - started
    finally:
        await close_engine(engine)
    stored = report.counts["stored"]
    print(f"{stored} stored, {report.counts['already stored']} already stored, "
          f"{report.counts['rejected']} rejected in {elapsed:.1f} s ({stored / max(elapsed, 1e-6):.0f} instances/s)")
    for name, reason in report.rejected:
        print(f"  rejected {name}: {reason}")
    return 1 if report.rejected else 0
