"""ZIP archives of a patient, study or series, streamed while they are made.

    GET /patients/{id}/archive
    GET /studies/{id}/archive
    GET /series/{id}/archive

Entries follow Orthanc's layout, `<PatientID PatientName>/<AccessionNumber
StudyDescription>/<Modality SeriesDescription>/<Modality><index>.dcm`, each folder name reduced
to letters, digits, spaces, `-` and `_` (never `.` or `/`, so no entry can
climb out of the folder it is extracted into) and made unique among its
siblings. Nothing of the request goes into a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.resources import ArchiveFile, archive_files
from pacsbox.pacs.store.zip_stream import ZipEntry, zip_stream

__all__ = ["ARCHIVE_ROUTES", "entry_names"]

_UNSAFE = re.compile(r"[^A-Za-z0-9 _-]+")
_MAX_NAME = 64


def _safe(text: str, fallback: str) -> str:
    name = " ".join(_UNSAFE.sub("", text.replace("^", " ")).split())[:_MAX_NAME].strip()
    return name or fallback


class _Folders:
    """Folder names, unique per parent: a second resource with the same name gets a number."""

    def __init__(self) -> None:
        self._by_resource: dict[str, str] = {}
        self._taken: set[str] = set()

    def name(self, parent: str, resource: str, wanted: str) -> str:
        if resource not in self._by_resource:
            name, number = wanted, 1
            while f"{parent}/{name}" in self._taken:
                number += 1
                name = f"{wanted} {number}"
            self._taken.add(f"{parent}/{name}")
            self._by_resource[resource] = f"{parent}/{name}".lstrip("/")
        return self._by_resource[resource]


def entry_names(files: list[ArchiveFile]) -> Iterator[str]:
    """The archive entry name of each file, in order."""
    folders = _Folders()
    counts: dict[str, int] = {}
    for f in files:
        patient = folders.name("", f.patient, _safe(f"{f.patient_id} {f.patient_name}", "Patient"))
        study = folders.name(patient, f.study, _safe(f"{f.accession_number} {f.study_description}", "Study"))
        modality = _safe(f.modality, "OT")
        series = folders.name(study, f.series, _safe(f"{f.modality} {f.series_description}", modality))
        index = counts.get(series, 0)
        counts[series] = index + 1
        yield f"{series}/{modality}{index:06d}.dcm"


def _route(level: Level) -> object:
    @get(f"/{level.plural}/{{public_id:str}}/archive", operation_id=f"Archive{level.value}")
    async def archive(store: NamedDependency[InstanceStore], public_id: FromPath[str]) -> Stream:
        """Every instance file under the resource, byte for byte, in one ZIP (stored, not compressed)."""
        files = await archive_files(level, public_id)
        entries = [
            ZipEntry(name, store.storage.absolute(f.path), f.size) for name, f in zip(entry_names(files), files)
        ]
        return Stream(
            zip_stream(entries),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{public_id}.zip"'},
        )

    return archive


ARCHIVE_ROUTES = [_route(level) for level in (Level.PATIENT, Level.STUDY, Level.SERIES)]
