"""Remote DICOM servers ("modalities"): validated entries of the `modalities` table.

A remote server is where pacsbox sends and retrieves, and what makes an AE title
"known" to the SCP. The REST API accepts Orthanc's modality JSON
(`{"AET", "Host", "Port", ...}`) plus pacsbox's own fields; every value is
checked here and a bad one is a `BadRequest` naming the field.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from pydicom.uid import UID

from pacsbox.core.errors import BadRequest, NotFound
from pacsbox.pacs.tables import Modality

__all__ = ["RemoteServer", "RetrieveMode", "delete_remote", "get_remote", "list_remotes", "remote_by_aet", "save_remote"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")


class RetrieveMode(StrEnum):
    """How pacsbox retrieves from a remote server."""

    MOVE = "C-MOVE"
    GET = "C-GET"


def _check_aet(value: Any) -> str:
    """An AE title: 1 to 16 characters of the default repertoire, no backslash (PS3.5 table 6.2-1)."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("AET: expected a non-empty AE title")
    text = value.strip()
    if len(text) > 16 or not all(32 <= ord(c) < 127 for c in text) or "\\" in text:
        raise BadRequest(f"AET: {value!r} is not an AE title (1 to 16 printable ASCII characters, no backslash)")
    return text


def _check_host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("Host: expected an IPv4 or IPv6 address or a DNS name")
    text = value.strip().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _HOSTNAME.match(text) or text.replace(".", "").isdigit():
        raise BadRequest(f"Host: {value!r} is not an IPv4 or IPv6 address or a DNS name")
    return text


def _check_port(field: str, value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise BadRequest(f"{field}: expected a TCP port from 1 to 65535, got {value!r}")
    return value


def _check_bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{field}: expected true or false, got {value!r}")
    return value


def _check_text(field: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise BadRequest(f"{field}: expected text of at most {max_length} characters")
    return value.strip()


@dataclass(frozen=True)
class RemoteServer:
    """One remote DICOM server, valid by construction (see `from_json`)."""

    name: str
    aet: str
    host: str
    port: int
    listen_port: int | None = None
    """Our port its C-MOVE sub-associations reach, when not PACSBOX_DICOM_PORT (a listener opens for the retrieve)."""
    retrieve_mode: RetrieveMode = RetrieveMode.MOVE
    transfer_syntax: str = ""
    """Preferred transfer syntax of what we send and ask for; empty: as stored."""
    charset: str = "ISO_IR 192"
    description: str = ""
    tls: bool = False
    verify_cert: bool = True

    @classmethod
    def from_json(cls, name: str, body: Any) -> RemoteServer:
        """Validate Orthanc's modality JSON plus pacsbox's fields.

        Orthanc's fields: `AET`, `Host`, `Port`, `UseDicomTls`. pacsbox's: `ListenPort`,
        `RetrieveMode` (C-MOVE or C-GET), `TransferSyntax`, `CharacterSet`,
        `Description`, `VerifyServerCertificate`. Unknown Orthanc fields
        (`Manufacturer`, `AllowEcho`...) are accepted and ignored.

        Raises:
            BadRequest: naming the first field at fault.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadRequest(f"name: {name!r} must be 1 to 64 letters, digits, '.', '_' or '-'")
        if not isinstance(body, dict):
            raise BadRequest("body: expected a JSON object {\"AET\", \"Host\", \"Port\", ...}")
        mode = body.get("RetrieveMode", RetrieveMode.MOVE.value)
        if mode not in {m.value for m in RetrieveMode}:
            raise BadRequest(f"RetrieveMode: expected C-MOVE or C-GET, got {mode!r}")
        syntax = _check_text("TransferSyntax", body.get("TransferSyntax", ""), 64)
        if syntax and not UID(syntax).is_valid:
            raise BadRequest(f"TransferSyntax: {syntax!r} is not a UID")
        return cls(
            name=name,
            aet=_check_aet(body.get("AET")),
            host=_check_host(body.get("Host")),
            port=_check_port("Port", body.get("Port")),  # type: ignore[arg-type]
            listen_port=_check_port("ListenPort", body.get("ListenPort"), optional=True),
            retrieve_mode=RetrieveMode(mode),
            transfer_syntax=syntax,
            charset=_check_text("CharacterSet", body.get("CharacterSet", "ISO_IR 192"), 64) or "ISO_IR 192",
            description=_check_text("Description", body.get("Description", ""), 10_000),
            tls=_check_bool("UseDicomTls", body.get("UseDicomTls", False)),
            verify_cert=_check_bool("VerifyServerCertificate", body.get("VerifyServerCertificate", True)),
        )

    def to_json(self) -> dict[str, Any]:
        """Orthanc's modality JSON with pacsbox's fields."""
        return {
            "AET": self.aet,
            "Host": self.host,
            "Port": self.port,
            "ListenPort": self.listen_port,
            "RetrieveMode": self.retrieve_mode.value,
            "TransferSyntax": self.transfer_syntax,
            "CharacterSet": self.charset,
            "Description": self.description,
            "UseDicomTls": self.tls,
            "VerifyServerCertificate": self.verify_cert,
        }

    @classmethod
    def _from_row(cls, row: dict[str, Any]) -> RemoteServer:
        return cls(
            name=row["name"], aet=row["aet"], host=row["host"], port=row["port"], listen_port=row["listen_port"],
            retrieve_mode=RetrieveMode(row["retrieve_mode"]), transfer_syntax=row["transfer_syntax"],
            charset=row["charset"], description=row["description"], tls=bool(row["tls"]),
            verify_cert=bool(row["verify_cert"]),
        )


async def list_remotes() -> list[RemoteServer]:
    rows = await Modality.select().order_by(Modality.name)
    return [RemoteServer._from_row(r) for r in rows]


async def get_remote(name: str) -> RemoteServer:
    """Raises: NotFound naming the remote server."""
    row = await Modality.select().where(Modality.name == name).first()
    if row is None:
        raise NotFound(f"no remote DICOM server named {name!r}")
    return RemoteServer._from_row(row)


async def remote_by_aet(aet: str) -> RemoteServer | None:
    """The remote server with this AE title (the first by name when several share it)."""
    row = await Modality.select().where(Modality.aet == aet.strip()).order_by(Modality.name).first()
    return RemoteServer._from_row(row) if row else None


async def save_remote(remote: RemoteServer) -> None:
    """Create or replace the remote server of that name."""
    values = asdict(remote)
    values["retrieve_mode"] = remote.retrieve_mode.value
    columns = {getattr(Modality, key): value for key, value in values.items()}
    updated = await Modality.update(columns).where(Modality.name == remote.name).returning(Modality.id)
    if not updated:
        await Modality.insert(Modality(**values))


async def delete_remote(name: str) -> None:
    """Raises: NotFound naming the remote server."""
    deleted = await Modality.delete().where(Modality.name == name).returning(Modality.id)
    if not deleted:
        raise NotFound(f"no remote DICOM server named {name!r}")
