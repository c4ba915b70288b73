"""What must hold before the stack starts: its secrets exist and nobody else can read them.

`pacsbox up` (and the containers, through the services' own checks) refuse to start rather than
run with no admin password, without signing keys or with a private key other users can read.
Every problem is reported at once, each with the command that fixes it.
"""

from __future__ import annotations

import stat
from pathlib import Path

from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings

__all__ = ["check_secure", "secure_problems"]


def _exposed(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def secure_problems(settings: Settings) -> list[str]:
    """Every reason the stack must not start, as sentences saying how to fix each."""
    certs = settings.paths.certs_dir
    problems = []
    if not settings.auth.admin_password_hash:
        problems.append("the admin password is not set (PACSBOX_ADMIN_PASSWORD_HASH is empty): run `pacsbox setup`")
    required = {
        settings.auth.jwt_private_key: True,
        settings.auth.jwt_public_key: False,
        certs / "server.key": True,
        certs / "server.crt": False,
    }
    private = [*(path for path, secret in required.items() if secret), certs / "ca.key", settings.paths.config_dir / ".env"]
    for path in required:
        if not path.is_file():
            problems.append(f"{path} is missing: run `pacsbox setup`")
    for path in private:
        if path.is_file() and _exposed(path):
            mode = stat.S_IMODE(path.stat().st_mode)
            problems.append(f"{path} is readable by other users (mode {mode:04o}): run `chmod 600 {path}`")
    return problems


def check_secure(settings: Settings) -> None:
    """Raises:
        SettingsError: listing every problem `secure_problems` found.
    """
    problems = secure_problems(settings)
    if problems:
        raise SettingsError("refusing to start insecurely:\n  - " + "\n  - ".join(problems))
