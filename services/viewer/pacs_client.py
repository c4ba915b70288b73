"""The viewer's only door to the pacs service: DICOMweb over HTTP, as the caller.

Every request carries the identity nginx gave the viewer's caller
(`X-Pacsbox-User`, `X-Pacsbox-Can-Edit`, `X-Pacsbox-Scope`), so the pacs
answers the viewer exactly as it would answer that user. Verbs follow
PS3.18 as dicomweb-client names them (search_for_*, retrieve_*, iter_*). Failures become domain errors: 404 stays
404, a pacs that cannot be reached is 503 naming `PACSBOX_PACS_URL`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadGateway, BadRequest, Forbidden, NotFound, PixelDataError, Unavailable

__all__ = ["PacsClient"]

DICOM_JSON = "application/dicom+json"
INSTANCES = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
"""Part 10 files in explicit VR little endian: the pacs decodes compressed ones (PS3.18 8.7.3.5.2)."""


def _uid(value: str) -> str:
    return quote(value, safe="")


def _identity_headers(identity: Identity) -> dict[str, str]:
    if not identity.user:
        return {}
    headers = {"X-Pacsbox-User": identity.user, "X-Pacsbox-Can-Edit": "true" if identity.can_edit else "false"}
    if identity.scope:
        headers["X-Pacsbox-Scope"] = identity.scope
    return headers


def _boundary(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"').encode()
    raise Unavailable(f"pacs answered {content_type!r}, not multipart/related with a boundary")


async def _iter_parts(chunks: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[bytes]:
    """The bodies of a `multipart/related` stream (RFC 2046 5.1), each as soon as it is whole."""
    delimiter = b"\r\n--" + boundary
    buffer = bytearray(b"\r\n")  # the first delimiter then looks like every other one
    body_start: int | None = None
    scan = 0
    async for chunk in chunks:
        buffer += chunk
        while True:
            if body_start is None:
                at = buffer.find(delimiter)
                after = at + len(delimiter)
                if at < 0 or len(buffer) < after + 2:
                    break
                if buffer[after : after + 2] == b"--":
                    return
                head_end = buffer.find(b"\r\n\r\n", after)
                if head_end < 0:
                    break
                body_start = scan = head_end + 4
            end = buffer.find(delimiter, scan)
            if end < 0:
                scan = max(body_start, len(buffer) - len(delimiter))
                break
            yield bytes(buffer[body_start:end])
            del buffer[:end]
            body_start = None


class PacsClient:
    """DICOMweb calls to the pacs service (`PACSBOX_PACS_URL`, DICOMweb root `/pacs`)."""

    def __init__(self, base_url: str, *, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url + "/pacs", timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _unreachable(self, error: httpx.TransportError) -> Unavailable:
        return Unavailable(f"the pacs service at {self.base_url} (PACSBOX_PACS_URL) cannot be reached: {error}")

    async def _get(self, path: str, identity: Identity, accept: str, params: dict[str, str] | None = None
                   ) -> httpx.Response:
        headers = {"Accept": accept, **_identity_headers(identity)}
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.TransportError as error:
            raise self._unreachable(error) from None
        _check(response)
        return response

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

    async def iter_series(self, study: str, series: str, identity: Identity) -> AsyncIterator[bytes]:
        """Every instance of the series as a Part 10 file (explicit VR little endian), as each arrives.

        One request for the whole series (PS3.18 10.4.1.1.1): far fewer round trips than a frame request per slice.
        """
        headers = {"Accept": INSTANCES, **_identity_headers(identity)}
        try:
            async with self._http.stream("GET", f"/studies/{_uid(study)}/series/{_uid(series)}", headers=headers
                                         ) as response:
                if response.status_code != 200:
                    await response.aread()
                    _check(response)
                boundary = _boundary(response.headers.get("content-type", ""))
                async for part in _iter_parts(response.aiter_bytes(), boundary):
                    yield part
        except httpx.TransportError as error:
            raise self._unreachable(error) from None


def _check(response: httpx.Response) -> None:
    """The pacs's answer as a domain error, or nothing when it succeeded."""
    if response.status_code in (200, 204):
        return
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


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return str(body.get("error") or body) if isinstance(body, dict) else str(body)[:200]
