"""The viewer's only door to the pacs service: DICOMweb over HTTP, as the caller.

Every request carries the identity nginx gave the viewer's caller
(`X-Pacsbox-User`, `X-Pacsbox-Can-Edit`, `X-Pacsbox-Scope`), so the pacs
answers the viewer exactly as it would answer that user. Verbs follow
PS3.18 (search_for_*, retrieve_*). Failures become domain errors: 404 stays
404, a pacs that cannot be reached is 503 naming `PACSBOX_PACS_URL`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadGateway, BadRequest, Forbidden, NotFound, PixelDataError, Unavailable

__all__ = ["PacsClient"]

DICOM_JSON = "application/dicom+json"
FRAMES = 'multipart/related; type="application/octet-stream"'
"""Frames uncompressed, explicit VR little endian: the pacs decodes compressed ones (PS3.18 8.7.3.5.2)."""


def _uid(value: str) -> str:
    return quote(value, safe="")


def _identity_headers(identity: Identity) -> dict[str, str]:
    if not identity.user:
        return {}
    headers = {"X-Pacsbox-User": identity.user, "X-Pacsbox-Can-Edit": "true" if identity.can_edit else "false"}
    if identity.scope:
        headers["X-Pacsbox-Scope"] = identity.scope
    return headers


def _first_part(body: bytes, content_type: str) -> bytes:
    """The body of the first part of a `multipart/related` answer (RFC 2046 5.1)."""
    boundary = next(
        (p.split("=", 1)[1].strip().strip('"') for p in content_type.split(";") if p.strip().startswith("boundary=")),
        "",
    )
    if not boundary:
        raise Unavailable(f"pacs answered frames as {content_type!r}, not multipart/related")
    delimiter = b"--" + boundary.encode()
    start = body.find(delimiter)
    head_end = body.find(b"\r\n\r\n", start)
    end = body.find(b"\r\n" + delimiter, head_end)
    if start < 0 or head_end < 0 or end < 0:
        raise Unavailable("pacs answered a multipart body without a complete part")
    return body[head_end + 4 : end]


class PacsClient:
    """DICOMweb calls to the pacs service (`PACSBOX_PACS_URL`, DICOMweb root `/pacs`)."""

    def __init__(self, base_url: str, *, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url + "/pacs", timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, identity: Identity, accept: str, params: dict[str, str] | None = None) -> httpx.Response:
        headers = {"Accept": accept, **_identity_headers(identity)}
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.TransportError as error:
            raise Unavailable(f"the pacs service at {self.base_url} (PACSBOX_PACS_URL) cannot be reached: {error}") from None
        if response.status_code in (200, 204):
            return response
        detail = _error_detail(response)
        if response.status_code == 404:
            raise NotFound(detail)
        if response.status_code in (401, 403):
            raise Forbidden(detail)
        if response.status_code == 400:
            raise BadRequest(detail)
        if response.status_code in (406, 415):
            raise PixelDataError(f"the pacs cannot send these pixels uncompressed: {detail}")
        raise BadGateway(f"pacs answered {response.status_code}: {detail}")

    async def search_for_series(self, study: str, series: str, identity: Identity) -> dict[str, Any]:
        """The QIDO-RS match of one series (with its number of instances).

        Raises:
            NotFound: no such series in the study.
        """
        response = await self._get(
            f"/studies/{_uid(study)}/series", identity, DICOM_JSON,
            {"SeriesInstanceUID": series, "includefield": "00201209"},
        )
        matches = response.json() if response.status_code == 200 else []
        if not matches:
            raise NotFound(f"series {series} of study {study} not found")
        return matches[0]

    async def search_for_study(self, study: str, identity: Identity) -> dict[str, Any]:
        """The QIDO-RS match of one study.

        Raises:
            NotFound: no such study.
        """
        response = await self._get("/studies", identity, DICOM_JSON, {"StudyInstanceUID": study})
        matches = response.json() if response.status_code == 200 else []
        if not matches:
            raise NotFound(f"study {study} not found")
        return matches[0]

    async def retrieve_series_metadata(self, study: str, series: str, identity: Identity) -> list[dict[str, Any]]:
        """DICOM JSON of every instance of the series (PS3.18 10.4.1.1.2)."""
        response = await self._get(f"/studies/{_uid(study)}/series/{_uid(series)}/metadata", identity, DICOM_JSON)
        return response.json()

    async def retrieve_frame(self, study: str, series: str, instance: str, identity: Identity, number: int = 1) -> bytes:
        """One frame's pixel bytes, uncompressed little endian."""
        path = f"/studies/{_uid(study)}/series/{_uid(series)}/instances/{_uid(instance)}/frames/{number}"
        response = await self._get(path, identity, FRAMES)
        return _first_part(response.content, response.headers.get("content-type", ""))


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return str(body.get("error") or body) if isinstance(body, dict) else str(body)[:200]
