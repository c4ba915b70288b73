"""A configuration made once per module by `apply`, and a private copy of it per test (RSA keys are slow to make)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pacsbox.wizard.apply import apply

from tests.support.wizard import answers, copy_config, layout


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("configured")
    apply(answers(), layout(folder))
    return folder


@pytest.fixture
def folder(configured: Path, tmp_path: Path) -> Path:
    """A copy of `configured`, modes kept, that the test may change."""
    return copy_config(configured, tmp_path / "config")
