"""C-FIND, C-MOVE and C-GET from dcmtk's findscu, movescu and getscu."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.support.dicom import make_series
from tests.support.dimse import DicomPacs, dcmtk, sop_uids, write_files

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def study(scp: DicomPacs, tmp_path_factory: pytest.TempPathFactory) -> list[Dataset]:
    """Two series (CT 3 slices, MR 2) of one study, stored through storescu."""
    ct = list(make_series(3, patient_name="Query^Retrieve", accession_number="QR-1", modality="CT"))
    mr = list(make_series(
        2, patient_name="Query^Retrieve", patient_id=ct[0].PatientID, study_uid=ct[0].StudyInstanceUID,
        modality="MR", series_number=2, accession_number="QR-1",
    ))
    files = write_files(ct + mr, tmp_path_factory.mktemp("qr"))
    result = dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files)
    assert result.returncode == 0, result.stderr
    return ct + mr


def findscu(scp: DicomPacs, model: str, *keys: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    args = ["findscu", model, "-aec", "PACSBOX", *extra]
    for key in keys:
        args += ["-k", key]
    return dcmtk(*args, "127.0.0.1", scp.dicom_port)


def responses(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The identifiers findscu printed, one string each."""
    return re.split(r"Find Response: \d+ \(Pending\)", result.stderr + result.stdout)[1:]


def test_find_patient_level_patient_root(scp: DicomPacs, study: list[Dataset]) -> None:
    result = findscu(scp, "-P", "QueryRetrieveLevel=PATIENT", f"PatientID={study[0].PatientID}", "PatientName",
                     "NumberOfPatientRelatedStudies")
    assert result.returncode == 0, result.stderr
    [answer] = responses(result)
    assert "Query^Retrieve" in answer and re.search(r"\(0020,1200\) IS \[1 ?\]", answer)


def test_find_patient_level_counts_series_and_instances(scp: DicomPacs, study: list[Dataset]) -> None:
    """NumberOfPatientRelatedSeries and -Instances are answered (PS3.4 C.6.1.1.2), as Orthanc does, not left empty."""
    result = findscu(scp, "-P", "QueryRetrieveLevel=PATIENT", f"PatientID={study[0].PatientID}",
                     "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances")
    [answer] = responses(result)
    assert re.search(r"\(0020,1202\) IS \[2 ?\]", answer) and re.search(r"\(0020,1204\) IS \[5 ?\]", answer)


def test_find_study_level_by_name_wildcard_and_accession(scp: DicomPacs, study: list[Dataset]) -> None:
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "PatientName=Query^Retr*", "AccessionNumber=QR-1",
                     "StudyInstanceUID", "ModalitiesInStudy", "NumberOfStudyRelatedInstances")
    assert result.returncode == 0, result.stderr
    [answer] = responses(result)
    assert study[0].StudyInstanceUID in answer
    assert "CT\\MR" in answer and re.search(r"\(0020,1208\) IS \[5 ?\]", answer)


def test_find_series_level_by_modality(scp: DicomPacs, study: list[Dataset]) -> None:
    result = findscu(scp, "-S", "QueryRetrieveLevel=SERIES", f"StudyInstanceUID={study[0].StudyInstanceUID}",
                     "Modality=MR", "SeriesInstanceUID", "NumberOfSeriesRelatedInstances")
    [answer] = responses(result)
    assert study[3].SeriesInstanceUID in answer and re.search(r"\(0020,1209\) IS \[2 ?\]", answer)


def test_find_image_level_returns_keys_outside_the_index(scp: DicomPacs, study: list[Dataset]) -> None:
    result = findscu(scp, "-S", "QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={study[0].StudyInstanceUID}",
                     f"SeriesInstanceUID={study[0].SeriesInstanceUID}", "SOPInstanceUID", "InstanceNumber=2",
                     "Rows", "SliceThickness")
    [answer] = responses(result)
    assert study[1].SOPInstanceUID in answer
    assert re.search(r"\(0028,0010\) US 64", answer) and "1.25" in answer


def test_find_date_range_matches_like_qido(scp: DicomPacs, study: list[Dataset]) -> None:
    inside = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "StudyDate=20240101-20240131", "PatientName=Query^*",
                     "StudyInstanceUID")
    outside = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "StudyDate=20250101-", "PatientName=Query^*",
                      "StudyInstanceUID")
    assert len(responses(inside)) == 1 and responses(outside) == []


@pytest.mark.parametrize("date", ["2024.01.15", "2024.01.01-2024.01.31", "2024.01.15-"])
def test_find_date_in_the_pre_3_0_form_matches(scp: DicomPacs, study: list[Dataset], date: str) -> None:
    """`yyyy.mm.dd` (the ACR-NEMA form PS3.5 6.2 asks readers to accept) matches as `yyyymmdd`, ranges too."""
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", f"StudyDate={date}", "PatientName=Query^*",
                     "StudyInstanceUID")
    [answer] = responses(result)
    assert study[0].StudyInstanceUID in answer and "[20240115]" in answer


def _item(**attributes: str) -> Dataset:
    item = Dataset()
    for keyword, value in attributes.items():
        setattr(item, keyword, value)
    return item


@pytest.fixture(scope="module")
def coded_study(scp: DicomPacs, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """One instance whose study holds a ReferencedStudySequence and a ProcedureCodeSequence of two codes."""
    (ds,) = make_series(1, patient_name="Sequence^Keys")
    ds.ReferencedStudySequence = [
        _item(ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1", ReferencedSOPInstanceUID="1.2.3.45"),
    ]
    ds.ProcedureCodeSequence = [
        _item(CodeValue="P1", CodingSchemeDesignator="99X", CodeMeaning="Chest CT"),
        _item(CodeValue="P2", CodingSchemeDesignator="99X", CodeMeaning="Abdomen CT"),
    ]
    files = write_files([ds], tmp_path_factory.mktemp("sequences"))
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files).returncode == 0
    return ds


def test_find_returns_sequence_keys_whole_and_empty_when_not_held(scp: DicomPacs, coded_study: Dataset) -> None:
    """A sequence key without item keys is answered with every stored item (PS3.4 C.2.2.2.6), as Orthanc does;
    one the study does not hold comes back empty, as other keys do (Orthanc leaves it out)."""
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", f"StudyInstanceUID={coded_study.StudyInstanceUID}",
                     "ProcedureCodeSequence", "ReferencedStudySequence", "ReferencedPatientSequence")
    [answer] = responses(result)
    assert re.search(r"\(0008,1032\) SQ \(Sequence with explicit length #=2\)", answer)
    assert "Chest CT" in answer and "Abdomen CT" in answer and "[99X ]" in answer
    assert re.search(r"\(0008,1110\) SQ \(Sequence with explicit length #=1\)", answer) and "1.2.3.45" in answer
    assert re.search(r"\(0008,1120\) SQ \(Sequence with explicit length #=0\)", answer)


def test_find_returns_only_the_item_keys_a_sequence_key_names(scp: DicomPacs, coded_study: Dataset) -> None:
    """Item keys in a sequence key ask for those attributes of each item only (PS3.4 C.2.2.2.6); Orthanc sends
    whole items."""
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", f"StudyInstanceUID={coded_study.StudyInstanceUID}",
                     "ProcedureCodeSequence[0].CodeValue", "ProcedureCodeSequence[0].CodeMeaning")
    [answer] = responses(result)
    assert "[P1]" in answer and "[P2]" in answer and "Chest CT" in answer
    assert "99X" not in answer


def test_find_honours_c_cancel(scp: DicomPacs, tmp_path: Path) -> None:
    """findscu cancels after the first match: the answer ends early with status 0xFE00 (cancelled).

    pynetdicom reads an incoming C-CANCEL only when it has no answer left to
    send, so on a loaded machine a whole answer may go out before the cancel
    is read: up to three tries.
    """
    series = list(make_series(100, patient_name="Cancel^Me", rows=8, columns=8))
    files = write_files(series, tmp_path)
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files).returncode == 0
    for _ in range(3):
        result = findscu(scp, "-S", "QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={series[0].StudyInstanceUID}",
                         "SOPInstanceUID", extra=("-v", "--cancel", "1"))
        if "Final Find Response (Cancel: MatchingTerminatedDueToCancelRequest)" in result.stderr:
            break
    else:
        pytest.fail("the C-CANCEL was never honoured")
    assert len(responses(result)) < 100


def test_find_from_unknown_ae_is_rejected(scp: DicomPacs) -> None:
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", extra=("-aet", "STRANGER"))
    assert result.returncode != 0
    assert "Calling AE Title Not Recognized" in result.stderr
    assert "STRANGER" in scp.server.log()


def test_move_study_to_known_storescp(scp: DicomPacs, study: list[Dataset], storescp: Path) -> None:
    result = dcmtk("movescu", "-S", "-aec", "PACSBOX", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert result.returncode == 0, result.stderr
    assert sop_uids(storescp) == {ds.SOPInstanceUID for ds in study}


def test_move_one_series_reports_its_sub_operations(scp: DicomPacs, study: list[Dataset], storescp: Path) -> None:
    result = dcmtk("movescu", "-v", "-S", "-aec", "PACSBOX", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=SERIES",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}",
                   "-k", f"SeriesInstanceUID={study[3].SeriesInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert result.returncode == 0, result.stderr
    assert sop_uids(storescp) == {study[3].SOPInstanceUID, study[4].SOPInstanceUID}
    assert "Received Final Move Response (Success)" in result.stderr


def test_move_to_unknown_ae_fails_with_move_destination_unknown(scp: DicomPacs, study: list[Dataset]) -> None:
    result = dcmtk("movescu", "-S", "-aec", "PACSBOX", "-aem", "NOWHERE", "-k", "QueryRetrieveLevel=STUDY",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert "MoveDestinationUnknown" in result.stderr + result.stdout
    assert "NOWHERE" in scp.server.log()


def test_get_instance_and_study(scp: DicomPacs, study: list[Dataset], tmp_path: Path) -> None:
    one, whole = tmp_path / "one", tmp_path / "whole"
    one.mkdir(), whole.mkdir()
    result = dcmtk("getscu", "-S", "-aec", "PACSBOX", "-od", one, "-k", "QueryRetrieveLevel=IMAGE",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}",
                   "-k", f"SeriesInstanceUID={study[0].SeriesInstanceUID}",
                   "-k", f"SOPInstanceUID={study[2].SOPInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert result.returncode == 0, result.stderr
    assert sop_uids(one) == {study[2].SOPInstanceUID}
    result = dcmtk("getscu", "-S", "-aec", "PACSBOX", "-od", whole, "-k", "QueryRetrieveLevel=STUDY",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert result.returncode == 0, result.stderr
    assert sop_uids(whole) == {ds.SOPInstanceUID for ds in study}
    received = pydicom.dcmread(next(whole.iterdir()))
    assert received.PatientName == "Query^Retrieve"


def test_move_with_a_bad_level_fails_cleanly(scp: DicomPacs, study: list[Dataset], storescp: Path) -> None:
    result = dcmtk("movescu", "-S", "-aec", "PACSBOX", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=FRAME",
                   "-k", f"StudyInstanceUID={study[0].StudyInstanceUID}", "127.0.0.1", scp.dicom_port)
    assert "DataSetDoesNotMatchSOPClass" in result.stderr  # 0xA900, as dcmtk names it
    assert list(storescp.iterdir()) == []


def test_find_matches_modalities_in_study(scp: DicomPacs, tmp_path: Path) -> None:
    """ModalitiesInStudy=MR finds the studies holding an MR series, as QIDO-RS and Orthanc do, not every study."""
    ct = list(make_series(1, patient_name="Modalities^Filter", modality="CT"))
    mr = list(make_series(1, patient_name="Modalities^Filter", modality="MR"))
    files = write_files(ct + mr, tmp_path)
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files).returncode == 0
    result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "PatientName=Modalities^Filter", "ModalitiesInStudy=MR",
                     "StudyInstanceUID")
    [answer] = responses(result)
    assert mr[0].StudyInstanceUID in answer
    # Modality, a series key, is what many workstations send in a study-level query: it means the same
    as_modality = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "PatientName=Modalities^Filter", "Modality=MR",
                          "StudyInstanceUID")
    [answer] = responses(as_modality)
    assert mr[0].StudyInstanceUID in answer


@pytest.mark.parametrize("tool", ["movescu", "getscu"])
@pytest.mark.parametrize("unique", ["", "*", "1.2.3*"])
def test_retrieve_without_a_unique_key_sends_nothing(
    scp: DicomPacs, study: list[Dataset], storescp: Path, tmp_path: Path, tool: str, unique: str
) -> None:
    """A C-MOVE or C-GET naming no study (universal or wildcard StudyInstanceUID) is refused with 0xA900,
    instead of sending every matching study (PS3.4 C.4.2.1.4.1)."""
    destination = ("-aem", "STORESCP") if tool == "movescu" else ("-od", tmp_path)
    result = dcmtk(tool, "-S", "-aec", "PACSBOX", *destination, "-k", "QueryRetrieveLevel=STUDY",
                   "-k", "PatientName=Query^Retrieve", "-k", f"StudyInstanceUID={unique}", "127.0.0.1", scp.dicom_port)
    assert "DataSetDoesNotMatchSOPClass" in result.stderr  # 0xA900, as dcmtk names it
    assert list(storescp.iterdir()) == [] and sop_uids(tmp_path) == set()


def test_find_reads_dotted_acr_nema_dates(scp: DicomPacs, tmp_path: Path) -> None:
    """A StudyDate written `1997.04.24` (the pre-3.0 form PS3.5 6.2 asks readers to accept) is matched by date
    and range and answered as 19970424, not cut to `1997.04.`."""
    [ds] = make_series(1, patient_name="Dotted^Date", study_date="1997.04.24")
    files = write_files([ds], tmp_path)
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files).returncode == 0
    for date in ("19970424", "19970101-19971231"):
        result = findscu(scp, "-S", "QueryRetrieveLevel=STUDY", "PatientName=Dotted^Date", f"StudyDate={date}",
                         "StudyInstanceUID")
        [answer] = responses(result)
        assert ds.StudyInstanceUID in answer and "[19970424]" in answer
