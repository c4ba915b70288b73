"""Archive entry names: Orthanc's layout, reduced to safe characters, unique per folder."""

from __future__ import annotations

from pathlib import PurePosixPath

from pacsbox.pacs.rest.archive import entry_names
from pacsbox.pacs.store.resources import ArchiveFile


def archived(patient: str, name: str, study: str, description: str, series: str, modality: str) -> ArchiveFile:
    return ArchiveFile(
        path="ab/cd/x.dcm", size=1, patient=patient, patient_id="PID", patient_name=name, study=study,
        study_description=description, accession_number="", series=series, modality=modality,
        series_description="",
    )


def test_hostile_values_cannot_leave_the_archive_folder() -> None:
    files = [archived("p", "../../etc^passwd", "t", "/root/.ssh", "s", "../CT")]
    (name,) = entry_names(files)
    assert name == "PID etc passwd/rootssh/CT/CT000000.dcm"
    assert ".." not in PurePosixPath(name).parts


def test_empty_values_get_a_generic_name_and_instances_are_numbered_per_series() -> None:
    files = [archived("p", "", "t", "", "s", ""), archived("p", "", "t", "", "s", "")]
    assert list(entry_names(files)) == ["PID/Study/OT/OT000000.dcm", "PID/Study/OT/OT000001.dcm"]


def test_two_resources_with_the_same_name_get_two_folders() -> None:
    files = [archived("p", "Doe", "t", "Head", "s1", "CT"), archived("p", "Doe", "t", "Head", "s2", "CT")]
    assert list(entry_names(files)) == ["PID Doe/Head/CT/CT000000.dcm", "PID Doe/Head/CT 2/CT000000.dcm"]
