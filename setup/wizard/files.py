"""Where the wizard's files live, and how they are written: whole, durable, with their mode from the start."""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from pacsbox.core.settings import Settings

__all__ = ["PRIVATE", "PUBLIC", "Layout", "mode_of", "set_aside", "write_file"]

PRIVATE = 0o600
PUBLIC = 0o644


@dataclass(frozen=True)
class Layout:
    """Every file the wizard owns, from the settings' paths."""

    env: Path
    ca_crt: Path
    ca_key: Path
    server_crt: Path
    server_key: Path
    trusted: Path
    jwt_private: Path
    jwt_public: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Layout:
        certs = settings.paths.certs_dir
        return cls(
            env=settings.paths.config_dir / ".env",
            ca_crt=certs / "ca.crt",
            ca_key=certs / "ca.key",
            server_crt=certs / "server.crt",
            server_key=certs / "server.key",
            trusted=certs / "trusted.crt",
            jwt_private=settings.auth.jwt_private_key,
            jwt_public=settings.auth.jwt_public_key,
        )

    @property
    def secrets(self) -> tuple[Path, ...]:
        """Files that must stay mode 0600."""
        return (self.env, self.ca_key, self.server_key, self.jwt_private)

    def all(self) -> tuple[Path, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_file(path: Path, data: bytes, mode: int) -> bool:
    """Replace `path` with `data` atomically, the new file created with `mode`.

    Nothing is written when the file already holds `data`, so a second run
    leaves files byte-identical and untouched.

    Returns:
        Whether the content changed.
    """
    if path.is_file() and path.read_bytes() == data:
        return False
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_aside(paths: tuple[Path, ...], stamp: str) -> list[tuple[Path, Path]]:
    """Rename each existing file to `<name>.old-<stamp>` (modes kept), for `--force`.

    Returns:
        `(old path, new path)` of each file moved.
    """
    moved = []
    for path in paths:
        if path.exists():
            target = path.with_name(f"{path.name}.old-{stamp}")
            path.rename(target)
            moved.append((path, target))
    return moved
