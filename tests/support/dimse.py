"""DICOM networking as tests use it: a pacs service with its DICOM port open, dcmtk's tools, test certificates."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import httpx
import pydicom
from pydicom.dataset import Dataset

from pacsbox.pacs.store.ids import orthanc_id
from pacsbox.wizard import pki
from pacsbox.wizard.answers import Subject
from tests.support.ports import free_port
from tests.support.servers import ServiceProcess

__all__ = ["DicomPacs", "dcmtk", "issue_test_certs", "sop_uids", "write_files"]


def dcmtk(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a dcmtk tool; output captured, never raising on a DICOM failure status."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False)


def write_files(datasets: list[Dataset], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, ds in enumerate(datasets):
        path = folder / f"{index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def sop_uids(folder: Path) -> set[str]:
    """SOP Instance UIDs of the DICOM files in `folder`."""
    return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in folder.iterdir() if p.is_file()}


def issue_test_certs(certs: Path, *, client: Path | None = None) -> Path:
    """A test CA, a server certificate for 127.0.0.1 and `trusted.crt` in `certs`; returns the CA file.

    With `client`, a client key and certificate signed by the same CA go there (client.key, client.crt).
    """
    now = dt.datetime.now(dt.timezone.utc)
    subject = Subject("PL", "Wroclaw", "Test")
    ca_key, ca_cert = pki.issue_ca(subject, "pacsbox test CA", now)
    key, cert = pki.issue_server(ca_key, ca_cert, subject, ("localhost", "127.0.0.1"), now)
    certs.mkdir(parents=True, exist_ok=True)
    (certs / "ca.crt").write_bytes(pki.certificate_pem(ca_cert))
    (certs / "trusted.crt").write_bytes(pki.certificate_pem(ca_cert))
    (certs / "server.crt").write_bytes(pki.certificate_pem(cert))
    (certs / "server.key").write_bytes(pki.private_pem(key))
    (certs / "server.key").chmod(0o600)
    if client is not None:
        client.mkdir(parents=True, exist_ok=True)
        client_key, client_cert = pki.issue_server(ca_key, ca_cert, subject, ("workstation",), now)
        (client / "client.crt").write_bytes(pki.certificate_pem(client_cert))
        (client / "client.key").write_bytes(pki.private_pem(client_key))
    return certs / "ca.crt"


class DicomPacs:
    """A `pacsbox serve pacs` with its DICOM port (and TLS port when asked) open on free ports."""

    def __init__(self, folder: Path, env: dict[str, str], *, tls: bool = False) -> None:
        self.dicom_port = free_port()
        self.tls_port = free_port() if tls else 0
        self.server = ServiceProcess(
            "pacs", folder,
            {**env, "PACSBOX_DICOM_PORT": str(self.dicom_port), "PACSBOX_DICOM_TLS_PORT": str(self.tls_port)},
        )
        self.url = self.server.url
        self.http = httpx.Client(base_url=self.url, timeout=120)

    def start(self) -> DicomPacs:
        self.server.start()
        return self

    def stop(self) -> None:
        self.http.close()
        self.server.stop()

    def add_remote(self, name: str, aet: str, port: int, **extra: object) -> None:
        body = {"AET": aet, "Host": "127.0.0.1", "Port": port} | extra
        self.http.put(f"/modalities/{name}", json=body).raise_for_status()

    def stored_file(self, ds: Dataset) -> Path:
        """Where the instance's file lives (whether or not it is there)."""
        instance = orthanc_id(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        return self.server.data_dir / "storage" / instance[0:2] / f"{instance}.dcm"

    def stored(self, ds: Dataset) -> Dataset | None:
        path = self.stored_file(ds)
        return pydicom.dcmread(path) if path.is_file() else None

    def count_instances(self, study_uid: str) -> int:
        answer = self.http.get("/pacs/instances", params={"StudyInstanceUID": study_uid})
        answer.raise_for_status()
        return len(answer.json())
