"""The index: patients, studies, series and instances, and the change log.

Each level keeps the attributes QIDO-RS and Orthanc's `/tools/find` match on,
its Orthanc identifier (`public_id`, see `pacsbox.pacs.store.ids`) and the
counts a study list needs. Every value is written by `pacsbox.pacs.store.index`
and nowhere else. String attributes are stored as received (trailing padding
removed); `*_key` columns hold the folded form fuzzy person-name matching uses.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ["Change", "Instance", "Patient", "Series", "Study", "TABLES"]


class Patient(Table, tablename="patients"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True, index=True, help_text="Orthanc ID: SHA-1 of PatientID")
    patient_id = Text(default="", index=True)
    patient_name = Text(default="")
    patient_name_key = Text(default="", help_text="folded name words for fuzzy matching, space-delimited")
    birth_date = Varchar(length=8, default="")
    sex = Varchar(length=16, default="")
    last_update = Timestamptz(default=TimestamptzNow())


class Study(Table, tablename="studies"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True, index=True)
    patient = ForeignKey(Patient, on_delete=OnDelete.cascade, null=False, index=True)
    study_uid = Varchar(length=64, unique=True, index=True)
    study_date = Varchar(length=8, default="", index=True)
    study_time = Varchar(length=16, default="")
    accession_number = Text(default="", index=True)
    description = Text(default="")
    referring_physician = Text(default="")
    referring_physician_key = Text(default="")
    study_id = Text(default="")
    modalities = Text(default="", help_text="ModalitiesInStudy, backslash-delimited with a backslash at each end")
    num_series = Integer(default=0)
    num_instances = Integer(default=0)
    last_update = Timestamptz(default=TimestamptzNow())


class Series(Table, tablename="series"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True, index=True)
    study = ForeignKey(Study, on_delete=OnDelete.cascade, null=False, index=True)
    series_uid = Varchar(length=64, unique=True, index=True)
    modality = Varchar(length=16, default="", index=True)
    series_number = Integer(null=True, default=None)
    description = Text(default="")
    series_date = Varchar(length=8, default="")
    series_time = Varchar(length=16, default="")
    body_part = Text(default="")
    num_instances = Integer(default=0)
    last_update = Timestamptz(default=TimestamptzNow())


class Instance(Table, tablename="instances"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True, index=True)
    series = ForeignKey(Series, on_delete=OnDelete.cascade, null=False, index=True)
    sop_uid = Varchar(length=64, unique=True, index=True)
    sop_class_uid = Varchar(length=64, default="")
    instance_number = Integer(null=True, default=None)
    number_of_frames = Integer(default=1)
    transfer_syntax = Varchar(length=64, default="")
    file_size = BigInt(default=0)
    checksum = Varchar(length=32, default="", help_text="MD5 of the stored file")
    path = Text(help_text="file path relative to the storage folder")
    received_at = Timestamptz(default=TimestamptzNow())
    origin = Varchar(length=16, default="", help_text="how it arrived: REST, DICOMweb, DIMSE, Import")
    origin_aet = Varchar(length=16, default="", help_text="calling AE title of a C-STORE")
    origin_address = Text(default="")
    origin_user = Text(default="")
    metadata = Text(default="", help_text="DICOM JSON of the instance, bulk data as BulkDataURI")


class Change(Table, tablename="changes"):
    """Orthanc's change log: `GET /changes` and the `since` of resource lists."""

    seq = Serial(primary_key=True)
    change_type = Varchar(length=32)
    resource_type = Varchar(length=16)
    public_id = Varchar(length=44)
    date = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (Patient, Study, Series, Instance, Change)
