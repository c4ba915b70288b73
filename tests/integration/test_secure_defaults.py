"""Services refuse to run where they would be reachable without nginx's token checks."""

import os
import subprocess
import sys
from pathlib import Path


def serve(folder: Path, host: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", "serve", "pacs", "--host", host, "--port", "1"],
        env={**os.environ, "PACSBOX_CONFIG_DIR": str(folder), **env}, capture_output=True, text=True, timeout=60,
    )


def test_pacs_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    result = serve(tmp_path, "0.0.0.0")
    assert result.returncode == 2
    assert "PACSBOX_PRIVATE_NETWORK" in result.stderr
