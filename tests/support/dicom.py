"""Realistic DICOM test data made with pydicom and numpy, and pydicom's own test files."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, EncapsulatedPDFStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

__all__ = ["TEST_FILES", "dataset_bytes", "encapsulated_pdf", "every_attribute", "make_series", "pydicom_test_files"]

TEST_FILES = Path(get_testdata_file("CT_small.dcm")).parent


def pydicom_test_files() -> list[Path]:
    """pydicom's shipped test files (the ones on disk, not the downloadable ones)."""
    return sorted(TEST_FILES.glob("*.dcm"))


def dataset_bytes(ds: Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def make_series(
    count: int,
    *,
    modality: str = "CT",
    rows: int = 64,
    columns: int = 64,
    patient_name: str = "Test^Patient",
    patient_id: str | None = None,
    study_uid: str | None = None,
    series_uid: str | None = None,
    study_date: str = "20240115",
    study_description: str = "Test study",
    accession_number: str = "",
    series_number: int = 1,
    seed: int = 0,
) -> Iterator[Dataset]:
    """`count` slices of one series: 16-bit signed CT or MR with plausible geometry and a gradient image."""
    rng = np.random.default_rng(seed)
    patient_id = patient_id or f"PID{uuid.uuid4().hex[:12]}"
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    base = (np.add.outer(np.arange(rows), np.arange(columns)) * 4 - 1000).astype(np.int16)
    for index in range(count):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = CTImageStorage if modality == "CT" else MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyDate = study_date
        ds.StudyTime = "101500"
        ds.SeriesDate = study_date
        ds.SeriesTime = "101600"
        ds.AccessionNumber = accession_number
        ds.StudyDescription = study_description
        ds.SeriesDescription = f"{modality} series {series_number}"
        ds.ReferringPhysicianName = "Ref^Doctor"
        ds.StudyID = "1"
        ds.Modality = modality
        ds.SeriesNumber = series_number
        ds.InstanceNumber = index + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(index) * 1.25]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.SliceThickness = 1.25
        ds.PixelSpacing = [0.7, 0.7]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = columns
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        ds.PixelData = (base + index).tobytes()
        yield ds


def read(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))


_SAMPLE_VALUES = {
    "AE": "AE", "AS": "010Y", "AT": 0x00100010, "CS": "X", "DA": "20240101", "DS": "1.5", "DT": "20240101101010",
    "FD": 1.0, "FL": 1.0, "IS": "1", "LO": "lo", "LT": "lt", "PN": "A^B", "SH": "sh", "SL": 1, "SS": 1, "ST": "st",
    "SV": 1, "TM": "101010", "UC": "uc", "UI": "1.2.3", "UL": 1, "UR": "http://x", "US": 1, "UT": "ut", "UV": 1,
}


def every_attribute(patient_id: str) -> Dataset:
    """A Secondary Capture header holding every public attribute of pydicom's dictionary that has a text or
    number VR (a sample value) or is a sequence (empty), pixel attributes aside: to see which a route keeps."""
    ds = Dataset()
    for tag, (vr, _, _, _, keyword) in DicomDictionary.items():
        group = tag >> 16
        if not keyword or group % 2 or group in (0x0000, 0x0002, 0x0028, 0x7FE0) or group >= 0xFFFE or tag & 0xFFFF == 0:
            continue
        vr = vr.split(" or ")[0]
        if vr == "SQ":
            ds.add_new(tag, vr, [])
        elif vr in _SAMPLE_VALUES:
            ds.add_new(tag, vr, _SAMPLE_VALUES[vr])
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.PatientID = patient_id
    ds.SmallestPixelValueInSeries = ds.LargestPixelValueInSeries = 1  # group 0028 but part of the series module
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def encapsulated_pdf(document: bytes, *, mime_type: str = "application/pdf", sop_class_uid: str = EncapsulatedPDFStorage,
                     patient_id: str = "PDF") -> Dataset:
    """An Encapsulated PDF instance (PS3.3 A.45.1) holding `document`, padded to an even length when written."""
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class_uid, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientID, ds.PatientName, ds.Modality = patient_id, "Pdf^Patient", "DOC"
    ds.MIMETypeOfEncapsulatedDocument = mime_type
    ds.EncapsulatedDocument = document
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds
