"""Bad input at the SCP: each refused with the right answer, logged, nothing stored half-way, the SCP still serving."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode

from tests.support.dicom import make_series
from tests.support.dimse import DicomPacs, dcmtk, write_files

pytestmark = pytest.mark.db


@contextmanager
def storage_association(scp: DicomPacs, aet: str) -> Iterator[Association]:
    ae = AE(ae_title=aet)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", scp.dicom_port, ae_title="PACSBOX")
    assert assoc.is_established
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def store_message(assoc: Association, ds: Dataset, payload: bytes) -> C_STORE_RQ:
    """A C-STORE request for `ds` whose data set is `payload`, encoded as it would go on the wire."""
    primitive = C_STORE()
    primitive.MessageID, primitive.Priority = 1, 2
    primitive.AffectedSOPClassUID, primitive.AffectedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    primitive.DataSet = BytesIO(payload)
    message = C_STORE_RQ()
    message.primitive_to_message(primitive)
    message.context_id = assoc.accepted_contexts[0].context_id
    return message


def send_raw(assoc: Association, ds: Dataset, payload: bytes) -> int:
    """Send a C-STORE carrying `payload` as its data set; the status answered."""
    assoc._reactor_checkpoint.clear()  # read the answer here rather than in pynetdicom's reactor
    while not assoc._is_paused:
        time.sleep(0.0001)
    message = store_message(assoc, ds, payload)
    for pdata in message.encode_msg(message.context_id, assoc.dimse.maximum_pdu_size):
        assoc.dul.send_pdu(pdata)
    _, response = assoc.dimse.get_msg(block=True)
    assoc._reactor_checkpoint.set()
    assert response is not None
    return int(response.Status)


def still_serving(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="After^Trouble"))
    [path] = write_files([ds], tmp_path / "after")
    assert dcmtk("echoscu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port).returncode == 0
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, path).returncode == 0
    assert scp.stored(ds) is not None


def test_association_proposing_nothing_supported_is_rejected(scp: DicomPacs, tmp_path: Path) -> None:
    ae = AE(ae_title="ODDBALL")
    ae.add_requested_context("1.2.826.0.1.3680043.9.9999.1")
    assoc = ae.associate("127.0.0.1", scp.dicom_port, ae_title="PACSBOX")
    assert assoc.is_rejected
    assert "ODDBALL" in scp.server.log() and "proposes no SOP class pacsbox supports" in scp.server.log()
    still_serving(scp, tmp_path)


def test_malformed_dataset_is_refused_with_c000(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Malformed^Bytes"))
    good = encode(ds, False, True)
    broken = good[:200] + b"\x10\x00\x10\x00PN\xff\xff" + b"\x00" * 8  # a PatientName claiming 65535 bytes
    with storage_association(scp, "MALFORMED") as assoc:
        assert send_raw(assoc, ds, broken) == 0xC000
    assert scp.stored(ds) is None
    assert scp.count_instances(ds.StudyInstanceUID) == 0
    still_serving(scp, tmp_path)


def test_dataset_without_study_uid_is_refused_with_c000(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Missing^Uid"))
    study_uid = ds.StudyInstanceUID
    del ds.StudyInstanceUID
    with storage_association(scp, "NOSTUDY") as assoc:
        assert send_raw(assoc, ds, encode(ds, False, True)) == 0xC000
    assert scp.count_instances(study_uid) == 0
    assert "C-STORE from NOSTUDY refused" in scp.server.log()


def test_abort_mid_transfer_stores_nothing(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Abort^Midway", rows=512, columns=512))
    with storage_association(scp, "ABORTER") as assoc:
        message = store_message(assoc, ds, encode(ds, False, True))
        fragments = list(message.encode_msg(message.context_id, 16384))
        assert len(fragments) > 3
        for pdata in fragments[: len(fragments) // 2]:
            assoc.dul.send_pdu(pdata)
        assoc.abort()
    still_serving(scp, tmp_path)
    assert scp.stored(ds) is None
    assert scp.count_instances(ds.StudyInstanceUID) == 0


def test_storage_failure_answers_a700_and_the_retry_succeeds(scp: DicomPacs, tmp_path: Path) -> None:
    """A file system that refuses the write (as a full disk does) is 0xA700, out of resources; nothing is indexed."""
    ds = next(make_series(1, patient_name="Disk^Trouble"))
    [path] = write_files([ds], tmp_path)
    target = scp.stored_file(ds)
    target.mkdir()  # a folder where the instance's file must go: the rename fails
    try:
        with storage_association(scp, "DISKFULL") as assoc:
            status = assoc.send_c_store(path)
        assert status.Status == 0xA700
        assert scp.count_instances(ds.StudyInstanceUID) == 0
        assert "C-STORE from DISKFULL failed, nothing stored" in scp.server.log()
    finally:
        target.rmdir()
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, path).returncode == 0
    assert scp.stored(ds) is not None


def _open(scp: DicomPacs, aet: str) -> Association:
    ae = AE(ae_title=aet)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    return ae.associate("127.0.0.1", scp.dicom_port, ae_title="PACSBOX")


def _release(associations: list[Association]) -> None:
    for assoc in associations:
        if assoc.is_established:
            assoc.release()


def test_one_calling_ae_gets_four_associations_and_no_more(scp: DicomPacs, tmp_path: Path) -> None:
    held = [_open(scp, "GREEDY") for _ in range(4)]
    try:
        assert all(assoc.is_established for assoc in held)  # just under the limit: all served
        fifth = _open(scp, "GREEDY")
        assert fifth.is_rejected  # just over it: refused, transient
        assert "PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_AE" in scp.server.log()
        other = _open(scp, "MODEST")  # another AE title from the same address still gets in
        assert other.is_established
        held.append(other)
    finally:
        _release(held)
    still_serving(scp, tmp_path)


def test_one_address_gets_six_associations_and_no_more(scp: DicomPacs, tmp_path: Path) -> None:
    held = [_open(scp, f"ADDR{n}") for n in range(6)]
    try:
        assert all(assoc.is_established for assoc in held)
        seventh = _open(scp, "ADDR6")
        assert seventh.is_rejected
        assert "PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_ADDRESS" in scp.server.log()
    finally:
        _release(held)
    still_serving(scp, tmp_path)


def test_a_pdu_longer_than_the_advertised_maximum_ends_the_association(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, rows=512, columns=512))
    with storage_association(scp, "BIGPDU") as assoc:
        assert assoc.acceptor.maximum_length == 256 * 1024
        assert int(assoc.send_c_store(ds).Status) == 0  # PDUs of exactly the maximum: stored
        assoc.dul.socket.send(struct.pack(">BBL", 0x04, 0, 1 << 30))  # a P-DATA-TF declaring 1 GiB
        deadline = time.monotonic() + 10
        while assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not assoc.is_established
    assert "PACSBOX_DICOM_MAX_PDU_SIZE" in scp.server.log()
    assert scp.stored(ds) is not None
    still_serving(scp, tmp_path)
