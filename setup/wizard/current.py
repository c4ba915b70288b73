"""What an earlier run left behind: the defaults of a second run, so that it changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from pacsbox.core.settings import read_dotenv
from pacsbox.wizard import pki
from pacsbox.wizard.answers import JwtAlgorithm, Subject
from pacsbox.wizard.files import Layout

__all__ = ["Current"]


@dataclass(frozen=True)
class Current:
    """The configuration on disk (all empty on a fresh machine or with `--force`)."""

    dotenv: dict[str, str] = field(default_factory=dict)
    """`.env` as it is, quotes removed."""
    names: tuple[str, ...] = ()
    """Names the server certificate covers."""
    subject: Subject | None = None
    """Organisation details of the server certificate."""
    jwt_algorithm: JwtAlgorithm | None = None
    """Algorithm of the JWT private key on disk."""

    @property
    def admin_hash(self) -> str:
        return self.dotenv.get("PACSBOX_ADMIN_PASSWORD_HASH", "")

    @classmethod
    def read(cls, layout: Layout) -> Current:
        """Read `.env`, the server certificate and the JWT key; unreadable files count as absent."""
        names: tuple[str, ...] = ()
        subject = None
        if layout.server_crt.is_file():
            try:
                cert = pki.load_certificate(layout.server_crt)
            except ValueError:
                pass
            else:
                names, subject = pki.certificate_names(cert), pki.certificate_subject(cert)
        algorithm = None
        if layout.jwt_private.is_file():
            try:
                algorithm = pki.algorithm_of(pki.load_private_key(layout.jwt_private))
            except ValueError:
                pass
        return cls(read_dotenv(layout.env), names, subject, algorithm)
