"""The public addresses the viewer hands to browsers, built from the settings alone.

Absolute URLs (for the Zhiva viewer and links) start with `PACSBOX_PUBLIC_URL`;
the OHIF configuration uses absolute paths instead (`/zhiva/pacs`), which hold
on every address users reach the stack by.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from pacsbox.core.settings import HttpSettings

__all__ = ["VIEWER_BASE", "ViewerUrls"]

VIEWER_BASE = "/viewer"
"""Where nginx publishes this service (DESIGN.md's URL table); OHIF's router basename."""


@dataclass(frozen=True)
class ViewerUrls:
    """Paths (same origin) and absolute URLs of the stack's parts, as a browser reaches them."""

    public_url: str
    url_prefix: str

    @classmethod
    def of(cls, http: HttpSettings) -> ViewerUrls:
        return cls(http.public_url.rstrip("/"), "/" + http.url_prefix.strip("/"))

    @property
    def dicomweb_path(self) -> str:
        return f"{self.url_prefix}/pacs"

    @property
    def wado_uri_path(self) -> str:
        return f"{self.url_prefix}/wado"

    def absolute(self, path: str) -> str:
        return self.public_url + path

    def study_path(self, study: str, series: str | None = None) -> str:
        """The OHIF viewer page of one study (and series), a path under `/viewer`."""
        query = {"StudyInstanceUIDs": study, **({"SeriesInstanceUIDs": series} if series else {})}
        return f"{VIEWER_BASE}/viewer?{urlencode(query)}"
