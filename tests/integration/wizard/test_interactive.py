"""`pacsbox setup` in a real pseudo-terminal, answering the real questionary prompts key by key."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest
from pacsbox.core.settings import Settings
from pacsbox.wizard import network, pki
from pacsbox.wizard.answers import JwtAlgorithm, Subject
from pacsbox.wizard.password import password_matches

from tests.support.wizard import PASSWORD, clean_env, layout, snapshot

DOWN, BACKSPACE, ENTER = "\x1b[B", "\x7f", "\r"


class Terminal:
    """The wizard on a pseudo-terminal: wait for a prompt's words, then type."""

    def __init__(self, folder: Path, *args: str) -> None:
        env = clean_env(folder, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
        self.child = pexpect.spawn(sys.executable, ["-m", "pacsbox.cli", "setup", *args], env=env,
                                   encoding="utf-8", dimensions=(50, 200), timeout=20)
        self.transcript = folder.parent / f"{folder.name}-terminal.log"
        self.child.logfile_read = open(self.transcript, "a")

    def answer(self, prompt: str, keys: str) -> None:
        self.child.expect_exact(prompt)
        self.child.send(keys)

    def finish(self) -> int:
        self.child.expect(pexpect.EOF, timeout=60)
        self.child.close()
        self.child.logfile_read.close()
        return self.child.exitstatus


def _clear(default: str) -> str:
    return BACKSPACE * len(default)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh set-up answered by hand, including a weak password, a mistyped repeat and a bad AE title."""
    folder = tmp_path_factory.mktemp("interactive")
    offered = [c.name for c in network.candidates()]
    term = Terminal(folder)
    term.answer("Type one", ENTER)
    term.answer("at least 12 characters", "weakpass" + ENTER)
    term.answer("use at least 12 characters", _clear("weakpass") + PASSWORD + ENTER)
    term.answer("The same password again", "not-the-same-one" + ENTER)
    term.answer("differ", "")
    term.answer("at least 12 characters", PASSWORD + ENTER)
    term.answer("The same password again", PASSWORD + ENTER)
    term.answer("Country", "de" + ENTER)
    term.answer("City", "Berlin" + ENTER)
    term.answer("Organisation:", _clear("pacsbox") + "Praxis Nord" + ENTER)
    term.answer("Names and addresses", DOWN * offered.index("::1") + " " + ENTER)  # untick ::1
    term.answer("Other names", "pacs.praxis.test, 10.1.2.3" + ENTER)
    term.answer("HTTPS port", _clear("443") + "8443" + ENTER)
    term.answer("Public URL", ENTER)  # the default followed the port
    term.answer("URL prefix", _clear("/zhiva") + "/serv" + ENTER)
    term.answer("origins", "https://viewer.example" + ENTER)
    term.answer("AE title", _clear("PACSBOX") + "A" * 17 + ENTER)
    term.answer("1 to 16", _clear("A" * 17) + "PRAXIS" + ENTER)
    term.answer("DICOM port", ENTER)
    term.answer("JWT signing keys", DOWN + ENTER)
    assert term.finish() == 0, term.transcript.read_text()
    return folder


def test_the_answers_typed_are_the_configuration_written(first_run: Path) -> None:
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(first_run)})
    assert password_matches(settings.auth.admin_password_hash, PASSWORD)
    assert settings.http.public_url == "https://localhost:8443"
    assert (settings.http.https_port, settings.http.url_prefix) == (8443, "/serv")
    assert settings.http.allowed_origins == ("https://viewer.example",)
    assert (settings.dicom.aet, settings.dicom.port) == ("PRAXIS", 4242)
    assert settings.auth.jwt_algorithm == "ES256"
    assert pki.algorithm_of(pki.load_private_key(settings.auth.jwt_private_key)) is JwtAlgorithm.ES256


def test_the_names_ticked_and_typed_are_the_certificate_names(first_run: Path) -> None:
    cert = pki.load_certificate(layout(first_run).server_crt)
    ticked = [c.name for c in network.candidates() if c.checked and c.name != "::1"]
    assert pki.certificate_names(cert) == (*ticked, "pacs.praxis.test", "10.1.2.3")
    assert pki.certificate_subject(cert) == Subject("DE", "Berlin", "Praxis Nord")


def test_pressing_enter_everywhere_on_a_second_run_changes_nothing(first_run: Path) -> None:
    before = snapshot(first_run)
    term = Terminal(first_run)
    term.answer("An admin password is set. Keep it?", ENTER)
    for prompt in ("Country", "City", "Organisation:", "Names and addresses", "Other names", "HTTPS port",
                   "Public URL", "URL prefix", "origins", "AE title", "DICOM port", "JWT signing keys"):
        term.answer(prompt, ENTER)
    assert term.finish() == 0
    assert "Nothing changed" in term.transcript.read_text()
    assert snapshot(first_run) == before


def test_force_asks_first_and_no_leaves_everything(first_run: Path) -> None:
    before = snapshot(first_run)
    term = Terminal(first_run, "--force")
    term.answer("Start over?", "n")
    assert term.finish() == 0
    assert snapshot(first_run) == before


def test_a_generated_password_is_shown_once_and_is_the_one_hashed(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    term = Terminal(folder)
    term.answer("Generate a strong one", DOWN + ENTER)
    for prompt in ("Country", "City", "Organisation:", "Names and addresses", "Other names", "HTTPS port",
                   "Public URL", "URL prefix", "origins", "AE title", "DICOM port", "JWT signing keys"):
        term.answer(prompt, ENTER)
    assert term.finish() == 0
    screen = term.transcript.read_text()
    shown = re.search(r"shown this once.*\n\s+(\S+)\s*\n", screen)
    assert shown and "password manager" in screen
    hashed = Settings.load({"PACSBOX_CONFIG_DIR": str(folder)}).auth.admin_password_hash
    assert password_matches(hashed, shown.group(1))
