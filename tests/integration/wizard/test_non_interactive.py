"""`pacsbox setup --non-interactive` as scripts, CI and the compose init step run it."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import jwt
import pytest
from pacsbox.core.settings import Settings
from pacsbox.wizard import pki
from pacsbox.wizard.files import mode_of
from pacsbox.wizard.password import password_matches

from tests.support.tls import client_context, handshake, serve_tls
from tests.support.wizard import PASSWORD, copy_config, layout, run_setup, snapshot

NAMES = ["localhost", "127.0.0.1", "::1", "pacs.clinic.test", "192.168.1.50"]
FLAGS = [
    "--non-interactive", *(f"--hostname={name}" for name in NAMES),
    "--country", "PL", "--locality", "Wroclaw", "--organization", "Clinic",
    "--public-url", "https://pacs.clinic.test:8443", "--https-port", "8443",
    "--dicom-aet", "MYPACS", "--dicom-port", "11112", "--allowed-origins", "https://viewer.example",
]


@pytest.fixture(scope="module")
def password_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "admin-password"
    path.write_text(PASSWORD + "\n")
    return path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, password_file: Path) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("configured")
    result = run_setup(folder, *FLAGS, "--admin-password-file", str(password_file))
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


@pytest.fixture
def folder(first_run: tuple[Path, str], tmp_path: Path) -> Path:
    return copy_config(first_run[0], tmp_path / "config")


def test_the_chain_verifies_against_the_ca_for_every_name(first_run: tuple[Path, str]) -> None:
    files = layout(first_run[0])
    assert pki.certificate_names(pki.load_certificate(files.server_crt)) == tuple(NAMES)
    trusting_ca = client_context(files.ca_crt)
    with serve_tls(files.server_crt, files.server_key) as port:
        for name in NAMES:  # IP names are checked against the IP SANs, whatever address is dialled
            assert handshake(port, name, trusting_ca)[1] == b"ok", name
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            handshake(port, "other.example", trusting_ca)
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            handshake(port, "192.168.1.51", trusting_ca)
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
            handshake(port, "localhost", ssl.create_default_context())


def test_settings_hash_and_keys_are_written(first_run: tuple[Path, str]) -> None:
    folder = first_run[0]
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(folder)})
    assert settings.http.public_url == "https://pacs.clinic.test:8443"
    assert (settings.http.https_port, settings.http.url_prefix) == (8443, "/zhiva")
    assert settings.http.allowed_origins == ("https://viewer.example",)
    assert (settings.dicom.aet, settings.dicom.port) == ("MYPACS", 11112)
    assert settings.auth.admin_password_hash.startswith("$argon2id$")
    assert password_matches(settings.auth.admin_password_hash, PASSWORD)
    assert PASSWORD not in layout(folder).env.read_text()
    assert settings.auth.jwt_algorithm == "RS256"
    token = jwt.encode({"username": "ana", "iss": "pacsbox"}, settings.auth.jwt_private_key.read_bytes(), algorithm="RS256")
    claims = jwt.decode(token, settings.auth.jwt_public_key.read_bytes(), algorithms=["RS256"], issuer="pacsbox")
    assert claims["username"] == "ana"
    assert pki.key_size(pki.load_private_key(settings.auth.jwt_private_key)) == 3072


def test_private_keys_and_env_are_mode_0600(first_run: tuple[Path, str]) -> None:
    files = layout(first_run[0])
    assert {p.name: oct(mode_of(p)) for p in files.secrets} == {
        ".env": "0o600", "ca.key": "0o600", "server.key": "0o600", "jwt_private.pem": "0o600"
    }


def test_the_closing_text_shows_urls_token_page_and_how_to_trust_the_ca(first_run: tuple[Path, str]) -> None:
    folder, out = first_run
    for url in ("https://pacs.clinic.test:8443", "https://localhost:8443", "https://192.168.1.50:8443"):
        assert f"{url}/zhiva/app/explorer.html" in out
    assert "https://pacs.clinic.test:8443/auth/token" in out
    assert pki.fingerprint(pki.load_certificate(layout(folder).ca_crt)) in out
    for place in ("Windows", "macOS", "Debian", "Firefox", "Chrome", "Android", "iPhone"):
        assert place in out
    assert PASSWORD not in out


@pytest.mark.parametrize("extra", [[], ["--non-interactive"]], ids=["same-flags", "no-flags"])
def test_a_second_run_changes_nothing(folder: Path, password_file: Path, extra: list[str]) -> None:
    before = snapshot(folder)
    args = extra or [*FLAGS, "--admin-password-file", str(password_file)]
    result = run_setup(folder, *args)
    assert result.returncode == 0, result.stderr
    assert "Nothing changed" in result.stdout
    assert snapshot(folder) == before


def test_renew_cert_keeps_the_ca(folder: Path) -> None:
    files = layout(folder)
    ca, cert = files.ca_crt.read_bytes(), files.server_crt.read_bytes()
    result = run_setup(folder, "--non-interactive", "--renew-cert")
    assert result.returncode == 0, result.stderr
    assert files.ca_crt.read_bytes() == ca and files.server_crt.read_bytes() != cert
    renewed = pki.load_certificate(files.server_crt)
    assert pki.issued_by(renewed, pki.load_certificate(files.ca_crt))
    assert set(NAMES) <= set(pki.certificate_names(renewed))


def test_rotate_jwt_keys_changes_the_keys_and_warns(folder: Path) -> None:
    files = layout(folder)
    private, public = files.jwt_private.read_bytes(), files.jwt_public.read_bytes()
    result = run_setup(folder, "--non-interactive", "--rotate-jwt-keys")
    assert result.returncode == 0, result.stderr
    assert files.jwt_private.read_bytes() != private and files.jwt_public.read_bytes() != public
    assert "stops working" in result.stdout


def test_es256_from_the_environment(tmp_path: Path) -> None:
    result = run_setup(tmp_path, "--non-interactive", "--generate-admin-password", "--hostname", "localhost",
                       PACSBOX_JWT_ALGORITHM="ES256")
    assert result.returncode == 0, result.stderr
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)})
    assert settings.auth.jwt_algorithm == "ES256"
    assert pki.algorithm_of(pki.load_private_key(settings.auth.jwt_private_key)).value == "ES256"


def test_a_generated_password_is_shown_once_and_is_the_one_hashed(tmp_path: Path) -> None:
    result = run_setup(tmp_path, "--non-interactive", "--generate-admin-password", "--hostname", "localhost")
    assert result.returncode == 0, result.stderr
    shown = re.search(r"shown this once.*\n\s+(\S+)\n", result.stdout)
    assert shown and "password manager" in result.stdout
    hashed = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)}).auth.admin_password_hash
    assert password_matches(hashed, shown.group(1))
    again = run_setup(tmp_path, "--non-interactive", "--generate-admin-password")
    assert shown.group(1) not in again.stdout and "already set is kept" in again.stdout


def test_a_password_from_standard_input(tmp_path: Path) -> None:
    result = run_setup(tmp_path, "--non-interactive", "--admin-password-stdin", "--hostname", "localhost", input=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert password_matches(Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)}).auth.admin_password_hash, PASSWORD)


@pytest.mark.parametrize(("args", "message"), [
    (["--non-interactive"], "admin password: none given and none set yet; use --admin-password-file"),
    (["--non-interactive", "--admin-password-stdin"], "admin password from standard input: empty"),
    (["--non-interactive", "--generate-admin-password", "--dicom-aet", "A" * 17], "DICOM AE title"),
    (["--non-interactive", "--generate-admin-password", "--hostname", "bad_name"], "host name: 'bad_name'"),
    (["--non-interactive", "--generate-admin-password", "--force"], "--force: confirm starting over with --yes"),
    (["--generate-admin-password"], "no terminal to ask questions on: add --non-interactive"),
])
def test_a_missing_or_bad_answer_exits_2_naming_it_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_setup(tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_weak_password_is_refused(tmp_path: Path) -> None:
    result = run_setup(tmp_path, "--non-interactive", "--admin-password-stdin", input="password123\n")
    assert result.returncode == 2 and "too weak" in result.stderr


def test_force_with_yes_starts_over_and_keeps_the_old_files_aside(folder: Path) -> None:
    files = layout(folder)
    old_ca = files.ca_crt.read_bytes()
    result = run_setup(folder, "--non-interactive", "--force", "--yes", "--generate-admin-password")
    assert result.returncode == 0, result.stderr
    assert files.ca_crt.read_bytes() != old_ca
    assert [p.read_bytes() for p in files.ca_crt.parent.glob("ca.crt.old-*")] == [old_ca]
    assert "shown this once" in result.stdout


def test_check_exits_0_on_a_good_configuration_and_1_on_a_broken_one(folder: Path) -> None:
    good = run_setup(folder, "--check")
    assert good.returncode == 0, good.stdout
    assert "names localhost, 127.0.0.1, ::1, pacs.clinic.test, 192.168.1.50" in good.stdout
    layout(folder).jwt_private.chmod(0o644)
    bad = run_setup(folder, "--check")
    assert bad.returncode == 1 and "FAIL  jwt_private.pem: mode 0644" in bad.stdout
