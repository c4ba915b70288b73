"""A client nobody here wrote: pyorthanc's `Orthanc` against the running pacs service."""

from __future__ import annotations

import datetime
import io
import uuid
import zipfile
from pathlib import Path

import pytest
from pyorthanc import Orthanc, find_instances, find_series, find_studies

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


def test_pyorthanc_finds_reads_downloads_and_deletes(pacs: ServiceProcess, tmp_path: Path) -> None:
    name = f"Py{uuid.uuid4().hex[:6]}^Orthanc"
    slices = list(make_series(3, patient_name=name, study_date="20240310", study_description="Pyorthanc study"))
    sent = {str(ds.SOPInstanceUID): dataset_bytes(ds) for ds in slices}
    client = Orthanc(pacs.url)
    for data in sent.values():
        assert client.post_instances(data)["Status"] == "Success"

    (study,) = find_studies(client, query={"PatientName": name.upper()})  # Orthanc matches case-insensitively
    assert study.uid == slices[0].StudyInstanceUID
    assert study.date == datetime.datetime(2024, 3, 10, 10, 15)
    assert study.description == "Pyorthanc study"
    assert study.patient_information["PatientName"] == name
    assert study.parent_patient.name == name
    assert not study.is_stable and isinstance(study.last_update, datetime.datetime)  # stored just now

    (series,) = study.series
    assert series.modality == "CT" and series.series_number == 1
    assert [instance.uid for instance in series.instances] == [str(ds.SOPInstanceUID) for ds in slices]
    instance = series.instances[1]
    assert instance.instance_number == 2 and instance.file_size == len(sent[instance.uid])
    assert instance.get_dicom_file_content() == sent[instance.uid]
    assert instance.get_pydicom().SOPInstanceUID == instance.uid
    assert instance.simplified_tags["PatientName"] == name
    assert instance.tags["0010,0010"]["Value"] == name
    assert instance.image_orientation_patient == [1, 0, 0, 0, 1, 0]

    assert client.post_tools_lookup(data=study.uid) == [{"ID": study.id_, "Path": f"/studies/{study.id_}", "Type": "Study"}]
    assert len(find_series(client, query={"PatientName": name, "Modality": "CT"})) == 1
    assert len(find_instances(client, query={"PatientName": name})) == 3

    with zipfile.ZipFile(io.BytesIO(study.get_zip())) as archive:
        assert sorted(archive.read(n) for n in archive.namelist()) == sorted(sent.values())
    target = tmp_path / "study.zip"
    study.download(str(target))
    with zipfile.ZipFile(target) as archive:
        assert len(archive.namelist()) == 3

    patient = study.patient_identifier
    client.delete_studies_id(study.id_)
    assert find_studies(client, query={"PatientName": name}) == []
    assert patient not in client.get_patients()
