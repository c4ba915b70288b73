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
    Boolean,
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

__all__ = ["Change", "Instance", "Job", "Modality", "Patient", "Series", "Study", "TABLES"]


class Patient(Table, tablename="patients"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True, help_text="Orthanc ID: SHA-1 of PatientID")
    patient_id = Text(default="", index=True)
    patient_name = Text(default="")
    patient_name_key = Text(default="", help_text="folded name words for fuzzy matching, space-delimited")
    birth_date = Varchar(length=8, default="")
    sex = Varchar(length=16, default="")
    last_update = Timestamptz(default=TimestamptzNow())


class Study(Table, tablename="studies"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True)
    patient = ForeignKey(Patient, on_delete=OnDelete.cascade, null=False, index=True)
    study_uid = Varchar(length=64, unique=True)
    study_date = Varchar(length=8, default="", index=True)
    study_time = Varchar(length=16, default="")
    accession_number = Text(default="", index=True)
    description = Text(default="")
    referring_physician = Text(default="")
    referring_physician_key = Text(default="")
    study_id = Text(default="")
    # The patient as this study's instances name it: studies that share a PatientID (an empty one, in
    # anonymised data) may name different people, and a study-level search matches and returns its own.
    patient_name = Text(default="")
    patient_name_key = Text(default="", help_text="folded name words for fuzzy matching, space-delimited")
    patient_birth_date = Varchar(length=8, default="")
    patient_sex = Varchar(length=16, default="")
    modalities = Text(default="", help_text="ModalitiesInStudy, backslash-delimited with a backslash at each end")
    num_series = Integer(default=0)
    num_instances = Integer(default=0)
    last_update = Timestamptz(default=TimestamptzNow())
    stable = Boolean(default=False, index=True, help_text="no new instance for PACSBOX_STABLE_AGE seconds")


class Series(Table, tablename="series"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True)
    study = ForeignKey(Study, on_delete=OnDelete.cascade, null=False, index=True)
    series_uid = Varchar(length=64, unique=True)
    modality = Varchar(length=16, default="", index=True)
    series_number = Integer(null=True, default=None)
    description = Text(default="")
    series_date = Varchar(length=8, default="")
    series_time = Varchar(length=16, default="")
    body_part = Text(default="")
    num_instances = Integer(default=0)
    last_update = Timestamptz(default=TimestamptzNow())
    stable = Boolean(default=False, index=True, help_text="no new instance for PACSBOX_STABLE_AGE seconds")


class Instance(Table, tablename="instances"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=44, unique=True)
    series = ForeignKey(Series, on_delete=OnDelete.cascade, null=False, index=True)
    sop_uid = Varchar(length=64, unique=True)
    sop_class_uid = Varchar(length=64, default="")
    instance_number = Integer(null=True, default=None)
    number_of_frames = Integer(default=1)
    transfer_syntax = Varchar(length=64, default="")
    file_size = BigInt(default=0)
    checksum = Varchar(length=64, default="", help_text="BLAKE3 (48 hex digits) of the stored file; older rows: SHA-256 (64) or MD5 (32)")
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


class Modality(Table, tablename="modalities"):
    """A remote DICOM server: where pacsbox sends and retrieves, and who is a "known" AE to the SCP.

    Validated by `pacsbox.pacs.dimse.remotes.RemoteServer` before any write.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=64, unique=True, help_text="the name in /modalities/{name}")
    aet = Varchar(length=16, index=True)
    host = Text(help_text="IPv4, IPv6 or DNS name")
    port = Integer()
    listen_port = Integer(null=True, default=None, help_text="our port its C-MOVE sub-associations reach; null: PACSBOX_DICOM_PORT")
    retrieve_mode = Varchar(length=8, default="C-MOVE", help_text="C-MOVE or C-GET")
    transfer_syntax = Varchar(length=64, default="", help_text="preferred transfer syntax UID; empty: as stored")
    charset = Varchar(length=64, default="ISO_IR 192", help_text="SpecificCharacterSet of queries sent")
    description = Text(default="")
    tls = Boolean(default=False)
    verify_cert = Boolean(default=True, help_text="with TLS: check its certificate against certs/trusted.crt")


class Job(Table, tablename="jobs"):
    """Long work (retrieve, send) with progress, run by `pacsbox.pacs.jobs`."""

    id = Serial(primary_key=True)
    public_id = Varchar(length=36, unique=True)
    job_type = Varchar(length=32)
    state = Varchar(length=16, default="Pending", help_text="Pending, Running, Success, Failure")
    progress = Integer(default=0, help_text="percent")
    content = Text(default="{}", help_text="JSON: what the job does and what it did")
    error = Text(default="")
    cancel_requested = Boolean(default=False)
    process = Integer(default=0, help_text="process ID of the pacs process running it")
    created = Timestamptz(default=TimestamptzNow())
    completed = Timestamptz(null=True, default=None)


TABLES: tuple[type[Table], ...] = (Patient, Study, Series, Instance, Change, Modality, Job)
