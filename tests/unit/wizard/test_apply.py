"""`apply` on a real folder: what it creates, what a second run leaves alone, what each request changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
from pacsbox.core.errors import Conflict
from pacsbox.core.settings import Settings, read_dotenv
from pacsbox.wizard import pki
from pacsbox.wizard.answers import JwtAlgorithm
from pacsbox.wizard.apply import apply
from pacsbox.wizard.files import mode_of
from pacsbox.wizard.password import password_matches

from tests.support.wizard import PASSWORD, answers, layout, snapshot


def test_a_first_run_writes_every_file_secrets_mode_0600(folder: Path) -> None:
    files = layout(folder)
    for path in files.all():
        assert path.is_file(), path
    for path in files.secrets:
        assert mode_of(path) == 0o600, path
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(folder)})
    assert password_matches(settings.auth.admin_password_hash, PASSWORD)
    assert settings.auth.jwt_algorithm == "RS256"
    assert (settings.http.public_url, settings.http.url_prefix, settings.dicom.aet) == ("https://localhost", "/zhiva", "PACSBOX")
    assert files.trusted.read_bytes() == files.ca_crt.read_bytes()


def test_a_second_run_changes_nothing(folder: Path) -> None:
    before = snapshot(folder)
    for again in (answers(), answers(admin_password=None)):
        outcome = apply(again, layout(folder))
        assert outcome.changes == [] and outcome.warnings == []
        assert snapshot(folder) == before


def test_renew_cert_keeps_the_ca_and_issues_a_new_server_certificate(folder: Path) -> None:
    files = layout(folder)
    ca, old_cert, old_key = files.ca_crt.read_bytes(), files.server_crt.read_bytes(), files.server_key.read_bytes()
    apply(answers(renew_cert=True), files)
    assert files.ca_crt.read_bytes() == ca
    assert files.server_crt.read_bytes() != old_cert and files.server_key.read_bytes() != old_key
    assert pki.issued_by(pki.load_certificate(files.server_crt), pki.load_certificate(files.ca_crt))


def test_a_new_name_reissues_the_server_certificate_from_the_same_ca(folder: Path) -> None:
    files = layout(folder)
    ca = files.ca_crt.read_bytes()
    outcome = apply(answers(names=("localhost", "10.0.0.5"), public_url="https://pacs.lan:8443"), files)
    assert files.ca_crt.read_bytes() == ca
    assert pki.certificate_names(outcome.server) == ("localhost", "10.0.0.5", "pacs.lan")
    assert any("+10.0.0.5" in change and "-192.168.1.50" in change for change in outcome.changes)


def test_rotating_jwt_keys_invalidates_old_tokens_and_says_so(folder: Path) -> None:
    files = layout(folder)
    token = jwt.encode({"username": "ana"}, files.jwt_private.read_bytes(), algorithm="RS256")
    outcome = apply(answers(rotate_jwt_keys=True), files)
    assert any("stops working" in warning for warning in outcome.warnings)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, files.jwt_public.read_bytes(), algorithms=["RS256"])
    assert mode_of(files.jwt_private) == 0o600


def test_es256_on_request_switches_key_and_setting(folder: Path) -> None:
    files = layout(folder)
    apply(answers(jwt_algorithm=JwtAlgorithm.ES256), files)
    assert pki.algorithm_of(pki.load_private_key(files.jwt_private)) is JwtAlgorithm.ES256
    assert read_dotenv(files.env)["PACSBOX_JWT_ALGORITHM"] == "ES256"
    token = jwt.encode({"username": "ana"}, files.jwt_private.read_bytes(), algorithm="ES256")
    assert jwt.decode(token, files.jwt_public.read_bytes(), algorithms=["ES256"]) == {"username": "ana"}


def test_a_lost_public_key_is_rebuilt_without_rotating(folder: Path) -> None:
    files = layout(folder)
    public, private = files.jwt_public.read_bytes(), files.jwt_private.read_bytes()
    files.jwt_public.unlink()
    outcome = apply(answers(), files)
    assert files.jwt_public.read_bytes() == public and files.jwt_private.read_bytes() == private
    assert outcome.warnings == []


def test_values_set_by_hand_and_certificates_added_to_the_trust_store_stay(folder: Path) -> None:
    files = layout(folder)
    files.env.write_text(files.env.read_text().replace("PACSBOX_LOG_LEVEL=INFO", "PACSBOX_LOG_LEVEL=DEBUG"))
    other_ca = pki.certificate_pem(pki.issue_ca(answers().subject, "a modality's CA", dt.datetime.now(dt.UTC))[1])
    files.trusted.write_bytes(files.trusted.read_bytes() + other_ca)
    apply(answers(dicom_aet="NEWAET"), files)
    values = read_dotenv(files.env)
    assert (values["PACSBOX_LOG_LEVEL"], values["PACSBOX_DICOM_AET"]) == ("DEBUG", "NEWAET")
    assert other_ca in files.trusted.read_bytes() and files.ca_crt.read_bytes() in files.trusted.read_bytes()


def test_a_widened_mode_is_put_back_to_0600(folder: Path) -> None:
    files = layout(folder)
    files.server_key.chmod(0o644)
    files.env.chmod(0o640)
    outcome = apply(answers(), files)
    assert mode_of(files.server_key) == 0o600 and mode_of(files.env) == 0o600
    assert len(outcome.changes) == 2


def test_force_sets_the_old_files_aside_and_starts_over(folder: Path) -> None:
    files = layout(folder)
    old_ca = files.ca_crt.read_bytes()
    outcome = apply(answers(force=True), files)
    assert files.ca_crt.read_bytes() != old_ca
    kept = list(files.ca_crt.parent.glob("ca.crt.old-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == old_ca
    assert mode_of(next(files.ca_key.parent.glob("ca.key.old-*"))) == 0o600
    assert any("set aside" in warning for warning in outcome.warnings)


def test_a_missing_ca_key_stops_a_reissue_and_names_the_file(folder: Path) -> None:
    files = layout(folder)
    files.ca_key.unlink()
    apply(answers(), files)  # nothing to sign: fine
    with pytest.raises(Conflict, match="ca.key"):
        apply(answers(renew_cert=True), files)
