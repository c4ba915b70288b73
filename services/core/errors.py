"""The errors pacsbox raises on purpose, each carrying the HTTP status it maps to.

    PacsboxError (500)
    ├── SettingsError (500)        a PACSBOX_* variable cannot be read
    ├── BadRequest (400)           a parameter, query key or body is malformed
    │   └── InvalidDicom (400)     the bytes are not a DICOM instance we can store
    ├── Unauthorized (401)         no credentials, or expired ones
    ├── Forbidden (403)            credentials refused, or not allowed to do this
    ├── NotFound (404)             an unknown UID, resource ID or name
    ├── NotAcceptable (406)        no media type in Accept can be produced
    ├── Conflict (409)             the request contradicts what is stored
    ├── PayloadTooLarge (413)      a body or a part over its limit
    ├── UnsupportedMediaType (415) a Content-Type we do not read
    │   └── PixelDataError (415)   stored pixel data we cannot decode, or past the size limit
    ├── TooManyRequests (429)      throttled
    ├── BadGateway (502)           a peer service answered with an error
    └── Unavailable (503)          a dependency (database, peer) cannot be reached

Routes and domain code raise these; `pacsbox.core.app` maps them to responses in
one place, and the DIMSE handlers map them to status codes in theirs.
"""

from __future__ import annotations

__all__ = [
    "BadGateway",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidDicom",
    "NotAcceptable",
    "NotFound",
    "PacsboxError",
    "PayloadTooLarge",
    "PixelDataError",
    "SettingsError",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
]


class PacsboxError(Exception):
    """Base of every deliberate pacsbox error; `str(error)` is safe to show to the client."""

    status_code: int = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class SettingsError(PacsboxError):
    status_code = 500


class BadRequest(PacsboxError):
    status_code = 400


class InvalidDicom(BadRequest):
    status_code = 400


class Unauthorized(PacsboxError):
    status_code = 401


class Forbidden(PacsboxError):
    status_code = 403


class NotFound(PacsboxError):
    status_code = 404


class NotAcceptable(PacsboxError):
    status_code = 406


class Conflict(PacsboxError):
    status_code = 409


class PayloadTooLarge(PacsboxError):
    status_code = 413


class UnsupportedMediaType(PacsboxError):
    status_code = 415


class PixelDataError(UnsupportedMediaType):
    status_code = 415


class TooManyRequests(PacsboxError):
    status_code = 429


class BadGateway(PacsboxError):
    status_code = 502


class Unavailable(PacsboxError):
    status_code = 503
