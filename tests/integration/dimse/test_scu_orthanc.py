"""pacsbox and a real Orthanc talking DIMSE both ways: echo, query, retrieve (C-MOVE, C-GET) and send."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

from pacsbox.pacs.store.ids import orthanc_id
from tests.integration.dimse.conftest import start_storescp
from tests.support.dicom import dataset_bytes, make_series
from tests.support.dimse import DicomPacs, dcmtk, sop_uids, write_files
from tests.support.orthanc import OrthancProcess
from tests.support.ports import free_port

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def orthanc(scp: DicomPacs) -> Iterator[OrthancProcess]:
    """Orthanc knowing pacsbox as `pacsbox`; pacsbox knowing it as `orthanc`."""
    peer = OrthancProcess(config={"DicomModalities": {"pacsbox": ["PACSBOX", "127.0.0.1", scp.dicom_port]}}).start()
    try:
        scp.add_remote("orthanc", "ORTHANC", peer.dicom_port)
        yield peer
    finally:
        peer.stop()


def in_orthanc(orthanc: OrthancProcess, datasets: list[Dataset]) -> None:
    for ds in datasets:
        httpx.post(f"{orthanc.url}/instances", content=dataset_bytes(ds)).raise_for_status()


def in_pacsbox(scp: DicomPacs, datasets: list[Dataset], folder: Path) -> None:
    files = write_files(datasets, folder)
    assert dcmtk("storescu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files).returncode == 0


def run_job(scp: DicomPacs, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = scp.http.post(path, json={**body, "Synchronous": True})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_echo_reports_round_trip(scp: DicomPacs, orthanc: OrthancProcess) -> None:
    answer = scp.http.post("/modalities/orthanc/echo")
    assert answer.status_code == 200, answer.text
    assert answer.json()["Status"] == "Success" and answer.json()["RoundTripSeconds"] > 0


def test_echo_of_unreachable_remote_is_503_naming_it(scp: DicomPacs) -> None:
    scp.add_remote("nobody", "NOBODY", free_port())
    answer = scp.http.post("/modalities/nobody/echo")
    assert answer.status_code == 503 and "nobody" in answer.json()["error"]


def test_query_study_series_instance_levels(scp: DicomPacs, orthanc: OrthancProcess) -> None:
    series = list(make_series(3, patient_name="Remote^Query", accession_number="RQ-7"))
    in_orthanc(orthanc, series)
    studies = scp.http.post("/modalities/orthanc/query", json={"Level": "Study", "Query": {"PatientName": "Remote^Q*"}})
    assert studies.status_code == 200 and studies.headers["content-type"].startswith("application/dicom+json")
    [study] = studies.json()
    assert study["0020000D"]["Value"] == [series[0].StudyInstanceUID]
    assert study["00080050"]["Value"] == ["RQ-7"]
    found = scp.http.post("/modalities/orthanc/query", json={
        "Level": "Series", "Query": {"StudyInstanceUID": series[0].StudyInstanceUID}}).json()
    assert [s["0020000E"]["Value"] for s in found] == [[series[0].SeriesInstanceUID]]
    instances = scp.http.post("/modalities/orthanc/query", json={
        "Level": "Instance", "Query": {"StudyInstanceUID": series[0].StudyInstanceUID,
                                       "SeriesInstanceUID": series[0].SeriesInstanceUID, "InstanceNumber": "2"}}).json()
    assert [i["00080018"]["Value"] for i in instances] == [[series[1].SOPInstanceUID]]


def test_query_with_unknown_key_is_400(scp: DicomPacs, orthanc: OrthancProcess) -> None:
    answer = scp.http.post("/modalities/orthanc/query", json={"Level": "Study", "Query": {"NoSuchKeyword": "x"}})
    assert answer.status_code == 400 and "NoSuchKeyword" in answer.json()["error"]


@pytest.mark.parametrize("route", ["move", "get"])
def test_retrieve_study_into_pacsbox(scp: DicomPacs, orthanc: OrthancProcess, route: str) -> None:
    series = list(make_series(4, patient_name=f"Retrieve^{route}"))
    in_orthanc(orthanc, series)
    job = run_job(scp, f"/modalities/orthanc/{route}",
                  {"Level": "Study", "Resources": [{"StudyInstanceUID": series[0].StudyInstanceUID}]})
    assert job["State"] == "Success", job
    assert job["Progress"] == 100 and job["Content"]["Completed"] == 4
    assert scp.count_instances(series[0].StudyInstanceUID) == 4
    assert scp.stored(series[2]) is not None
    assert scp.http.get(f"/jobs/{job['ID']}").json()["State"] == "Success"


def test_retrieve_uses_the_remote_retrieve_mode(scp: DicomPacs, orthanc: OrthancProcess) -> None:
    scp.add_remote("orthanc-get", "ORTHANC", orthanc.dicom_port, RetrieveMode="C-GET")
    series = list(make_series(2, patient_name="Retrieve^Mode"))
    in_orthanc(orthanc, series)
    job = run_job(scp, "/modalities/orthanc-get/retrieve", {
        "Level": "Series",
        "Resources": [{"StudyInstanceUID": series[0].StudyInstanceUID, "SeriesInstanceUID": series[0].SeriesInstanceUID}],
    })
    assert job["State"] == "Success" and job["Content"]["Mode"] == "C-GET"
    assert scp.count_instances(series[0].StudyInstanceUID) == 2


def test_send_study_to_orthanc(scp: DicomPacs, orthanc: OrthancProcess, tmp_path: Path) -> None:
    series = list(make_series(3, patient_name="Send^Plain"))
    in_pacsbox(scp, series, tmp_path)
    study_id = orthanc_id(series[0].PatientID, series[0].StudyInstanceUID)
    job = run_job(scp, "/modalities/orthanc/store", {"Resources": [study_id]})
    assert job["State"] == "Success" and job["Content"]["Completed"] == 3
    assert len(httpx.get(f"{orthanc.url}/studies/{study_id}/instances").json()) == 3


def test_send_in_the_preferred_transfer_syntax(scp: DicomPacs, orthanc: OrthancProcess, tmp_path: Path) -> None:
    scp.add_remote("orthanc-rle", "ORTHANC", orthanc.dicom_port, TransferSyntax=str(RLELossless))
    ds = next(make_series(1, patient_name="Send^Rle"))
    in_pacsbox(scp, [ds], tmp_path)
    instance_id = orthanc_id(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    job = run_job(scp, "/modalities/orthanc-rle/store", {"Resources": [instance_id]})
    assert job["State"] == "Success", job
    syntax = httpx.get(f"{orthanc.url}/instances/{instance_id}/metadata/TransferSyntax").text
    assert syntax == str(RLELossless)


def test_send_decompresses_for_a_remote_taking_only_uncompressed(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Send^Decompressed"))
    [plain] = write_files([ds], tmp_path / "plain")
    compressed = tmp_path / "jpeg-ls.dcm"
    assert dcmtk("dcmcjpls", plain, compressed).returncode == 0
    assert dcmtk("storescu", "-xt", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, compressed).returncode == 0
    assert scp.stored(ds).file_meta.TransferSyntaxUID == JPEGLSLossless
    port = free_port()
    scp.add_remote("plain-only", "STORESCP", port)
    process = start_storescp(tmp_path / "received", port)
    try:
        instance_id = orthanc_id(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        job = run_job(scp, "/modalities/plain-only/store", {"Resources": [instance_id]})
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert job["State"] == "Success", job
    [received] = (tmp_path / "received").iterdir()
    copy = pydicom.dcmread(received)
    assert not copy.file_meta.TransferSyntaxUID.is_compressed
    assert (copy.pixel_array == ds.pixel_array).all()


def test_send_compressed_as_stored_to_orthanc(scp: DicomPacs, orthanc: OrthancProcess, tmp_path: Path) -> None:
    """In one series, an RLE instance reaches Orthanc as RLE, as Orthanc's own send does, not decoded to
    little endian, and an uncompressed one stays uncompressed, not encoded to RLE."""
    ds, plain = make_series(2, patient_name="Send^AsStored")
    [path] = write_files([ds], tmp_path / "plain")
    compressed = tmp_path / "rle.dcm"
    assert dcmtk("dcmcrle", path, compressed).returncode == 0
    assert dcmtk("storescu", "-xr", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, compressed).returncode == 0
    in_pacsbox(scp, [plain], tmp_path / "second")
    job = run_job(scp, "/modalities/orthanc/store", {"Resources": [orthanc_id(ds.PatientID, ds.StudyInstanceUID)]})
    assert job["State"] == "Success" and job["Content"]["Completed"] == 2, job
    for sent, syntax in ((ds, RLELossless), (plain, ExplicitVRLittleEndian)):
        instance_id = orthanc_id(sent.PatientID, sent.StudyInstanceUID, sent.SeriesInstanceUID, sent.SOPInstanceUID)
        assert httpx.get(f"{orthanc.url}/instances/{instance_id}/metadata/TransferSyntax").text == str(syntax)


def test_send_big_endian_instance_with_others_to_orthanc(scp: DicomPacs, orthanc: OrthancProcess, tmp_path: Path) -> None:
    """An instance stored in Explicit VR Big Endian goes as stored (pacsbox does not swap bytes) in a context
    of its own, which Orthanc accepts; the instances after it are sent too."""
    big, plain = make_series(2, patient_name="Send^BigEndian")
    [path] = write_files([big], tmp_path / "plain")
    swapped = tmp_path / "big-endian.dcm"
    assert dcmtk("dcmconv", "+tb", path, swapped).returncode == 0
    assert dcmtk("storescu", "-xb", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, swapped).returncode == 0
    assert scp.stored(big).file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    in_pacsbox(scp, [plain], tmp_path / "second")
    study_id = orthanc_id(big.PatientID, big.StudyInstanceUID)
    job = run_job(scp, "/modalities/orthanc/store", {"Resources": [study_id]})
    assert job["State"] == "Success" and job["Content"]["Completed"] == 2, job
    instance_id = orthanc_id(big.PatientID, big.StudyInstanceUID, big.SeriesInstanceUID, big.SOPInstanceUID)
    copy = pydicom.dcmread(io.BytesIO(httpx.get(f"{orthanc.url}/instances/{instance_id}/file").content))
    assert (copy.pixel_array == big.pixel_array).all()


def test_send_job_can_be_cancelled(scp: DicomPacs, tmp_path: Path) -> None:
    series = list(make_series(6, patient_name="Send^Cancelled", rows=8, columns=8))
    in_pacsbox(scp, series, tmp_path / "sent")
    port = free_port()
    scp.add_remote("slow", "STORESCP", port)
    process = start_storescp(tmp_path / "received", port, "--sleep-during", "1")
    try:
        study_id = orthanc_id(series[0].PatientID, series[0].StudyInstanceUID)
        started = scp.http.post("/modalities/slow/store", json={"Resources": [study_id]}).json()
        assert scp.http.post(f"/jobs/{started['ID']}/cancel").status_code == 200
        job = started
        deadline = time.monotonic() + 30
        while job.get("State") not in ("Success", "Failure"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
            job = scp.http.get(f"/jobs/{started['ID']}").json()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert job["State"] == "Failure" and job["ErrorDescription"] == "cancelled" and job["CancelRequested"]
    assert job["Content"]["Completed"] < 6
    assert scp.http.post(f"/jobs/{started['ID']}/cancel").status_code == 409


def test_orthanc_stores_queries_and_retrieves_from_pacsbox(
    scp: DicomPacs, orthanc: OrthancProcess, tmp_path: Path
) -> None:
    """The other direction: Orthanc as the SCU of pacsbox's SCP."""
    pushed = next(make_series(1, patient_name="From^Orthanc"))
    in_orthanc(orthanc, [pushed])
    pushed_id = orthanc_id(pushed.PatientID, pushed.StudyInstanceUID, pushed.SeriesInstanceUID, pushed.SOPInstanceUID)
    assert httpx.post(f"{orthanc.url}/modalities/pacsbox/echo", json={}).status_code == 200
    assert httpx.post(f"{orthanc.url}/modalities/pacsbox/store", json=[pushed_id], timeout=60).status_code == 200
    assert scp.stored(pushed) is not None

    kept = list(make_series(2, patient_name="Kept^InPacsbox"))
    in_pacsbox(scp, kept, tmp_path)
    query = httpx.post(f"{orthanc.url}/modalities/pacsbox/query",
                       json={"Level": "Study", "Query": {"PatientName": "Kept^*", "StudyInstanceUID": ""}}).json()
    answers = httpx.get(f"{orthanc.url}/queries/{query['ID']}/answers?expand").json()
    assert [a["0020,000d"]["Value"] for a in answers] == [kept[0].StudyInstanceUID]
    moved = httpx.post(f"{orthanc.url}/queries/{query['ID']}/retrieve",
                       json={"TargetAet": "ORTHANC", "Synchronous": True}, timeout=60)
    assert moved.status_code == 200, moved.text
    study_id = orthanc_id(kept[0].PatientID, kept[0].StudyInstanceUID)
    assert len(httpx.get(f"{orthanc.url}/studies/{study_id}/instances").json()) == 2
    assert sop_uids(tmp_path) == {ds.SOPInstanceUID for ds in kept}


def test_move_to_a_listen_port_of_its_own(scp: DicomPacs) -> None:
    """A remote that sends C-MOVE results to another port of ours: a listener opens there for the retrieve only."""
    listen_port = free_port()
    peer = OrthancProcess(aet="ORTHANC2", config={"DicomModalities": {"pacsbox": ["PACSBOX", "127.0.0.1", listen_port]}})
    peer.start()
    try:
        scp.add_remote("orthanc2", "ORTHANC2", peer.dicom_port, ListenPort=listen_port)
        series = list(make_series(2, patient_name="Listen^Port"))
        in_orthanc(peer, series)
        job = run_job(scp, "/modalities/orthanc2/move",
                      {"Level": "Study", "Resources": [{"StudyInstanceUID": series[0].StudyInstanceUID}]})
    finally:
        peer.stop()
    assert job["State"] == "Success", job
    assert scp.count_instances(series[0].StudyInstanceUID) == 2
    assert dcmtk("echoscu", "-aec", "PACSBOX", "127.0.0.1", listen_port).returncode != 0
