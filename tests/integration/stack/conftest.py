"""One native stack (`pacsbox up`: real nginx, the real services) for the stack tests, on the wizard's files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pacsbox.wizard.apply import apply
from tests.integration.viewer.conftest import OhifBuild, ohif_build  # noqa: F401  (a fixture: OHIF fetched once)
from tests.support.stack import StackProcess
from tests.support.wizard import answers, layout

VIEWER_ORIGIN = "https://viewer.example"


@pytest.fixture(scope="package")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the wizard set up: CA, server certificate for localhost, JWT keys, `.env`."""
    folder = tmp_path_factory.mktemp("stack")
    apply(answers(allowed_origins=(VIEWER_ORIGIN,)), layout(folder))
    return folder


@pytest.fixture(scope="package")
def stack(configured: Path, ohif_build: OhifBuild) -> Iterator[StackProcess]:  # noqa: F811
    ohif = configured / "no-ohif" if ohif_build.problem else ohif_build.folder
    running = StackProcess(configured, PACSBOX_VIEWER_OHIF_DIR=str(ohif)).start()
    try:
        yield running
    finally:
        assert running.stop() == 0, "Ctrl-C did not stop the stack cleanly"


@pytest.fixture(scope="package")
def editor(stack: StackProcess) -> str:
    return stack.token(can_edit=True)


@pytest.fixture(scope="package")
def viewer(stack: StackProcess) -> str:
    return stack.token(can_edit=False)
