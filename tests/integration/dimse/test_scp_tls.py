"""DICOM TLS on its own port with the wizard's certificate: dcmtk's echoscu and storescu with `+tls`/`+tla`."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_env
from tests.support.dicom import make_series
from tests.support.dimse import DicomPacs, dcmtk, issue_test_certs, write_files
from tests.support.postgres import TemporaryPostgres

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def pki_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two independent test PKIs (RSA 3072 keys take a while: made once): `ours` and a `stranger`'s."""
    sets = {}
    for name in ("ours", "stranger"):
        folder = tmp_path_factory.mktemp(name)
        issue_test_certs(folder / "certs", client=folder / "client")
        sets[name] = folder
    return sets


def tls_pacs(
    folder: Path, pki: Path, postgres: TemporaryPostgres | None, **env: str
) -> tuple[DicomPacs, Path, Path]:
    """A pacs with DICOM TLS and the certificates of `pki`; returns it, the CA file and the client folder."""
    shutil.copytree(pki / "certs", folder / "certs", copy_function=shutil.copy2)
    return DicomPacs(folder, {**database_env(postgres), **env}, tls=True).start(), pki / "certs" / "ca.crt", pki / "client"


@pytest.fixture(scope="module")
def tls(
    tmp_path_factory: pytest.TempPathFactory, postgres: TemporaryPostgres | None, pki_sets: dict[str, Path]
) -> Iterator[tuple[DicomPacs, Path, Path]]:
    server, ca, client = tls_pacs(tmp_path_factory.mktemp("tls"), pki_sets["ours"], postgres)
    try:
        yield server, ca, client
    finally:
        server.stop()


def test_echo_over_tls_with_client_certificate(tls: tuple[DicomPacs, Path, Path]) -> None:
    server, ca, client = tls
    result = dcmtk("echoscu", "+tls", client / "client.key", client / "client.crt", "+cf", ca,
                   "-aec", "PACSBOX", "127.0.0.1", server.tls_port)
    assert result.returncode == 0, result.stderr


def test_store_over_anonymous_tls_lands_in_index(tls: tuple[DicomPacs, Path, Path], tmp_path: Path) -> None:
    server, ca, _ = tls
    datasets = list(make_series(2, patient_name="Tls^Store"))
    files = write_files(datasets, tmp_path)
    result = dcmtk("storescu", "+tla", "+cf", ca, "-aec", "PACSBOX", "127.0.0.1", server.tls_port, *files)
    assert result.returncode == 0, result.stderr
    assert server.count_instances(datasets[0].StudyInstanceUID) == 2


def test_client_refuses_a_server_it_cannot_verify(tls: tuple[DicomPacs, Path, Path], pki_sets: dict[str, Path]) -> None:
    server, _, _ = tls
    other_ca = pki_sets["stranger"] / "certs" / "ca.crt"
    result = dcmtk("echoscu", "+tla", "+cf", other_ca, "-aec", "PACSBOX", "127.0.0.1", server.tls_port)
    assert result.returncode != 0


def test_plain_port_is_not_tls(tls: tuple[DicomPacs, Path, Path]) -> None:
    server, ca, _ = tls
    assert dcmtk("echoscu", "-aec", "PACSBOX", "127.0.0.1", server.dicom_port).returncode == 0
    assert dcmtk("echoscu", "+tla", "+cf", ca, "-aec", "PACSBOX", "127.0.0.1", server.dicom_port).returncode != 0


def test_required_client_certificate(
    tmp_path: Path, postgres: TemporaryPostgres | None, pki_sets: dict[str, Path]
) -> None:
    server, ca, client = tls_pacs(tmp_path, pki_sets["ours"], postgres, PACSBOX_DICOM_TLS_REQUIRE_CLIENT_CERT="true")
    try:
        anonymous = dcmtk("echoscu", "+tla", "+cf", ca, "-aec", "PACSBOX", "127.0.0.1", server.tls_port)
        assert anonymous.returncode != 0
        stranger = pki_sets["stranger"] / "client"
        untrusted = dcmtk("echoscu", "+tls", stranger / "client.key", stranger / "client.crt", "+cf", ca,
                          "-aec", "PACSBOX", "127.0.0.1", server.tls_port)
        assert untrusted.returncode != 0
        trusted = dcmtk("echoscu", "+tls", client / "client.key", client / "client.crt", "+cf", ca,
                        "-aec", "PACSBOX", "127.0.0.1", server.tls_port)
        assert trusted.returncode == 0, trusted.stderr
    finally:
        server.stop()


@pytest.mark.parametrize("verify", [True, False])
def test_scu_echo_over_tls(tls: tuple[DicomPacs, Path, Path], verify: bool) -> None:
    """pacsbox as a DICOM TLS client (of its own TLS port): its certificate is checked against trusted.crt."""
    server, _, _ = tls
    server.add_remote("self-tls", "PACSBOX", server.tls_port, UseDicomTls=True, VerifyServerCertificate=verify)
    answer = server.http.post("/modalities/self-tls/echo")
    assert answer.status_code == 200, answer.text


def test_scu_refuses_a_tls_server_whose_certificate_does_not_name_it(tls: tuple[DicomPacs, Path, Path]) -> None:
    server, _, _ = tls
    server.add_remote("self-other-name", "PACSBOX", server.tls_port, Host="127.0.0.2", UseDicomTls=True)
    answer = server.http.post("/modalities/self-other-name/echo")
    assert answer.status_code == 503 and "self-other-name" in answer.json()["error"]


def test_scu_names_a_host_that_does_not_resolve(tls: tuple[DicomPacs, Path, Path]) -> None:
    server, _, _ = tls
    server.add_remote("nowhere", "PACSBOX", server.tls_port, Host="pacs.nowhere.invalid")
    answer = server.http.post("/modalities/nowhere/echo")
    assert answer.status_code == 503 and "pacs.nowhere.invalid" in answer.json()["error"]


def test_a_peer_silent_after_connecting_does_not_hold_up_other_peers(tls: tuple[DicomPacs, Path, Path]) -> None:
    """The TLS handshake of one connection must not stop the port from serving the next (slowloris)."""
    server, ca, _ = tls
    with socket.create_connection(("127.0.0.1", server.tls_port)):  # connects, then never says a word
        try:
            echo = dcmtk("echoscu", "+tla", "+cf", ca, "-aec", "PACSBOX", "127.0.0.1", server.tls_port, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("an echo over DICOM TLS waited behind a peer that never started its handshake")
    assert echo.returncode == 0, echo.stderr


def test_a_silent_peer_is_dropped_after_the_acse_timeout(
    tmp_path: Path, postgres: TemporaryPostgres | None, pki_sets: dict[str, Path]
) -> None:
    server, _, _ = tls_pacs(tmp_path, pki_sets["ours"], postgres, PACSBOX_DICOM_ACSE_TIMEOUT="1")
    try:
        with socket.create_connection(("127.0.0.1", server.tls_port)) as silent:
            silent.settimeout(20)
            assert silent.recv(1) == b""  # the server closed the connection: its handshake wait is bounded
    finally:
        server.stop()


@pytest.mark.parametrize(("cipher", "accepted"), [
    ("ECDHE-RSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-CHACHA20-POLY1305", True),
    ("ECDHE-RSA-AES128-SHA256", False),
    ("ECDHE-RSA-AES256-SHA384", False),
    ("AES128-GCM-SHA256", False),
])
def test_tls_12_offers_the_fronts_forward_secret_aead_ciphers_only(
    tls: tuple[DicomPacs, Path, Path], cipher: str, accepted: bool
) -> None:
    """As nginx does (docs/SECURITY.md): CBC suites and RSA key exchange are refused, seen by openssl."""
    server, ca, _ = tls
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{server.tls_port}", "-tls1_2", "-cipher", cipher,
         "-CAfile", str(ca), "-servername", "localhost"],
        input="", capture_output=True, text=True, timeout=30, check=False,
    )
    assert (f"Cipher is {cipher}" in result.stdout) is accepted, result.stdout + result.stderr


@pytest.mark.parametrize("old", ["-tls1", "-tls1_1"])
def test_tls_10_and_11_refused_by_the_server(tls: tuple[DicomPacs, Path, Path], old: str) -> None:
    server, ca, _ = tls
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{server.tls_port}", old, "-cipher", "DEFAULT:@SECLEVEL=0",
         "-CAfile", str(ca), "-servername", "localhost"],
        input="", capture_output=True, text=True, timeout=30, check=False,
    )
    assert "alert protocol version" in result.stderr, result.stdout + result.stderr  # the server's alert 70
