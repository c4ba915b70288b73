"""A client nobody here wrote: pyorthanc's `Orthanc` against the running pacs service."""

from __future__ import annotations

import datetime
import hashlib
import io
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from pyorthanc import Orthanc, Patient, find_instances, find_series, find_studies

from tests.support.dicom import dataset_bytes, encapsulated_pdf, make_series
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


def test_pyorthanc_reads_modules_header_slices_arrays_pdf_and_attachments(pacs: ServiceProcess) -> None:
    name = f"Py{uuid.uuid4().hex[:6]}^Arrays"
    slices = list(make_series(3, patient_name=name, rows=8, columns=8))
    for ds, number in zip(slices, (3, 1, 2)):  # numbers against the positions
        ds.InstanceNumber = number
    client = Orthanc(pacs.url)
    stored = [client.post_instances(dataset_bytes(ds)) for ds in reversed(slices)]
    patient = Patient(stored[0]["ParentPatient"], client)

    assert patient.get_patient_module(simplify=True)["PatientName"] == name
    assert client.get_studies_id_module_patient(stored[0]["ParentStudy"], params={"short": True})["0010,0010"] == name
    assert client.get_instances_id_module(stored[0]["ID"])["0008,0018"]["Value"] == str(slices[-1].SOPInstanceUID)
    header = client.get_instances_id_header(stored[0]["ID"], params={"simplify": True})
    assert header["MediaStorageSOPInstanceUID"] == str(slices[-1].SOPInstanceUID)

    ordered = client.get_series_id_ordered_slices(stored[0]["ParentSeries"])
    assert ordered["Type"] == "Volume"
    assert [item[0] for item in ordered["SlicesShort"]] == [answer["ID"] for answer in reversed(stored)]
    volume = np.load(io.BytesIO(client.get_series_id_numpy(stored[0]["ParentSeries"])))
    assert volume.shape == (3, 8, 8, 1) and volume.dtype == np.float32
    one = np.load(io.BytesIO(client.get_instances_id_numpy(stored[0]["ID"], params={"rescale": False})))
    assert one.dtype == np.int16 and np.array_equal(one[0], volume[2].astype(np.int16))

    assert client.get_instances_id_attachments(stored[0]["ID"]) == ["dicom"]
    data = client.get_instances_id_attachments_name_data(stored[0]["ID"], "dicom")
    assert client.get_instances_id_attachments_name_md5(stored[0]["ID"], "dicom") == hashlib.md5(data).hexdigest()

    document = b"%PDF-1.4\n%%EOF\n"
    pdf = client.post_instances(dataset_bytes(encapsulated_pdf(document)))
    assert client.get_instances_id_pdf(pdf["ID"]) == document


def test_pyorthanc_clears_the_change_log(fresh_pacs: ServiceProcess) -> None:
    client = Orthanc(fresh_pacs.url, headers={"X-Pacsbox-User": "editor", "X-Pacsbox-Can-Edit": "true"})
    client.post_instances(dataset_bytes(next(make_series(1, rows=4, columns=4))))
    last = client.get_changes()["Last"]
    client.delete_changes()
    assert client.get_changes() == {"Changes": [], "Done": True, "Last": last}
