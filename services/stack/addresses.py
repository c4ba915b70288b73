"""The addresses `pacsbox up` and the compose stack print at start: where users on the LAN go."""

from __future__ import annotations

from urllib.parse import urlsplit

from pacsbox.core.settings import Settings
from pacsbox.wizard.answers import public_url_for
from pacsbox.wizard.network import lan_addresses

__all__ = ["origins", "url_lines"]


def origins(settings: Settings, listen: str = "") -> list[str]:
    """The public URL's origin, then `https://<LAN address>[:port]` for each private IPv4 address
    when nginx listens on every interface (or the one address it listens on)."""
    port = settings.http.https_port
    found = [settings.http.public_url.rstrip("/")]
    hosts = [address for address, _ in lan_addresses()] if not listen else [listen]
    found += [public_url_for(host, port) for host in hosts if host not in ("0.0.0.0", "::")]
    return list(dict.fromkeys(found))


def url_lines(settings: Settings, listen: str = "") -> list[str]:
    """What to open, one line each: explorer, admin token page, viewer, DICOMweb root, DICOM port."""
    prefix = settings.http.url_prefix.rstrip("/")
    lines = []
    for origin in origins(settings, listen):
        host = urlsplit(origin).hostname or "localhost"
        dicom_host = f"[{host}]" if ":" in host else host
        lines += [
            f"{origin}",
            f"  explorer       {origin}{prefix}/app/explorer.html",
            f"  admin tokens   {origin}/auth/token",
            f"  viewer         {origin}/viewer/",
            f"  DICOMweb root  {origin}{prefix}/pacs",
        ]
        if settings.dicom.port:
            lines.append(f"  DICOM          {dicom_host}:{settings.dicom.port} (AE title {settings.dicom.aet})")
    return lines
