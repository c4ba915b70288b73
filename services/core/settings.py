"""One settings object for every pacsbox service, built once from the environment.

Every value comes from a `PACSBOX_*` variable. Variables already in the process
environment win over the `.env` file in `PACSBOX_CONFIG_DIR`; the file wins over
the defaults written here. A value that cannot be read raises `SettingsError`
naming the variable and the value, so a typo in `.env` stops a service at start
rather than at the first request. `.env.example` documents each variable; a test
keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacsbox.core.errors import SettingsError

__all__ = [
    "AuthSettings",
    "DatabaseSettings",
    "DicomSettings",
    "HttpSettings",
    "LimitSettings",
    "LogSettings",
    "PathSettings",
    "Settings",
    "StorageSettings",
    "ViewerSettings",
    "read_dotenv",
]

PREFIX = "PACSBOX_"


def setting(env: str, default: Any) -> Any:
    """A dataclass field read from `PACSBOX_<env>`, `default` when unset."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable defaults are not allowed; use a tuple")
    return field(default=default, metadata={"env": PREFIX + env})


@dataclass(frozen=True)
class PathSettings:
    config_dir: Path = setting("CONFIG_DIR", Path("."))
    """Holds `.env` and `certs/`; relative paths below are resolved against it."""
    data_dir: Path = setting("DATA_DIR", Path("data"))
    """Stored instances, the SQLite databases and job files."""
    certs_dir: Path = setting("CERTS_DIR", Path("certs"))
    """Keys and certificates the wizard generates (mode 0600, never in git)."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting("DATABASE_URL", "")
    """Empty for SQLite files under the data directory, or `postgresql://user:pw@host:port/db`."""


@dataclass(frozen=True)
class LogSettings:
    level: str = setting("LOG_LEVEL", "INFO")
    """DEBUG, INFO, WARNING or ERROR. PHI and tokens appear only at DEBUG."""
    json: bool = setting("LOG_JSON", False)
    """One JSON object per line instead of plain text."""


@dataclass(frozen=True)
class HttpSettings:
    public_url: str = setting("PUBLIC_URL", "https://localhost")
    """The origin users reach through nginx; absolute URLs the services emit start with it."""
    url_prefix: str = setting("URL_PREFIX", "/zhiva")
    """The path under which nginx publishes the PACS (REST, DICOMweb, WADO-URI, explorer)."""
    https_port: int = setting("HTTPS_PORT", 443)
    """Port nginx serves HTTPS on; the public URL carries it when it is not 443."""
    allowed_origins: tuple[str, ...] = setting("ALLOWED_ORIGINS", ())
    """Origins besides the public URL allowed to call the stack from a browser (comma list)."""
    pacs_url: str = setting("PACS_URL", "http://127.0.0.1:8042")
    """Internal base URL of the pacs service."""
    auth_url: str = setting("AUTH_URL", "http://127.0.0.1:4000")
    """Internal base URL of the auth service."""
    viewer_url: str = setting("VIEWER_URL", "http://127.0.0.1:8000")
    """Internal base URL of the viewer service."""
    private_network: bool = setting("PRIVATE_NETWORK", False)
    """The services' HTTP ports are reachable by nginx alone (a container network): they may bind beyond loopback."""
    pacs_processes: int = setting("PACS_PROCESSES", 0)
    """Processes of the pacs service sharing its HTTP port; 0: one per core it may run on, at most 4. One keeps
    about one core busy (the GIL); more let concurrent clients use more cores, each holding its own caches."""
    max_body_size: int = setting("MAX_BODY_SIZE", 2000 * 1024 * 1024)
    """Largest request body accepted (bytes); nginx and the services refuse more with 413."""
    http_port: int = setting("HTTP_PORT", 80)
    """Port nginx answers plain HTTP on, only to redirect to HTTPS (0: not at all)."""
    hsts_max_age: int = setting("HSTS_MAX_AGE", 0)
    """Strict-Transport-Security max-age nginx sends, in seconds; 0 (default) sends none, as LAN names change."""

    @property
    def pacs_root(self) -> str:
        """Public URL of the PACS REST root, e.g. `https://host/zhiva`."""
        return self.public_url.rstrip("/") + self.url_prefix

    @property
    def dicomweb_path(self) -> str:
        """Absolute path of the DICOMweb root, e.g. `/zhiva/pacs`: valid on every address users reach."""
        return self.url_prefix.rstrip("/") + "/pacs"

    @property
    def dicomweb_root(self) -> str:
        """Public URL of the DICOMweb root, e.g. `https://host/zhiva/pacs`."""
        return self.pacs_root + "/pacs"


@dataclass(frozen=True)
class StorageSettings:
    overwrite_instances: bool = setting("OVERWRITE_INSTANCES", True)
    """A SOP Instance UID received again replaces the stored one (else it is kept, `AlreadyStored`)."""
    max_concurrent_renders: int = setting("MAX_CONCURRENT_RENDERS", 2)
    """Rendered images decoded at once by each pacs process; more wait, so decoding cannot starve the server."""
    header_cache_entries: int = setting("HEADER_CACHE_ENTRIES", 500)
    """Parsed file headers each pacs process keeps (about 20-100 kB each), so frames and renderings skip re-parsing;
    0: none."""
    decoded_frame_cache_size: int = setting("DECODED_FRAME_CACHE_SIZE", 64 * 1024**2)
    """Bytes of decoded compressed frames each pacs process keeps, so rendering a frame again skips its decoding;
    0: none."""
    stable_age: int = setting("STABLE_AGE", 60)
    """Seconds without a new instance after which a series, its study and patient are stable (Orthanc's
    StableAge): `StableSeries`, `StableStudy`, `StablePatient` in `/changes`, `IsStable` in the REST API."""


@dataclass(frozen=True)
class LimitSettings:
    zip_max_entries: int = setting("ZIP_MAX_ENTRIES", 100_000)
    """Most members a ZIP upload or import may hold."""
    zip_max_entry_size: int = setting("ZIP_MAX_ENTRY_SIZE", 4 * 1024**3)
    """Largest uncompressed size of one ZIP member (bytes, or 512m, 4g)."""
    zip_max_total_size: int = setting("ZIP_MAX_TOTAL_SIZE", 64 * 1024**3)
    """Largest uncompressed size of a whole ZIP."""
    zip_max_ratio: int = setting("ZIP_MAX_RATIO", 200)
    """Largest compression ratio of a ZIP member (a higher one is a ZIP bomb)."""
    multipart_max_parts: int = setting("MULTIPART_MAX_PARTS", 100_000)
    """Most parts one multipart (STOW-RS) request may carry."""
    search_max_results: int = setting("SEARCH_MAX_RESULTS", 10_000)
    """Most matches one QIDO-RS, C-FIND or /tools/find answer returns (more are flagged, not sent)."""
    inflate_max_ratio: int = setting("INFLATE_MAX_RATIO", 200)
    """Largest compression ratio of a gzip request body (past its first megabyte)."""
    deflated_max_size: int = setting("DEFLATED_MAX_SIZE", 512 * 1024**2)
    """Largest inflated size of a dataset in the deflated transfer syntax (it is read whole)."""
    max_pixel_data_size: int = setting("MAX_PIXEL_DATA_SIZE", 1024**3)
    """Largest decoded pixel data (rows x columns x frames x samples x bits) decoded in one piece; 415 beyond."""


@dataclass(frozen=True)
class DicomSettings:
    aet: str = setting("DICOM_AET", "PACSBOX")
    """Our Application Entity title."""
    port: int = setting("DICOM_PORT", 4242)
    """DIMSE listening port (0 disables the listener)."""
    tls_port: int = setting("DICOM_TLS_PORT", 2762)
    """DICOM TLS listening port (0 disables it)."""
    store_from_anyone: bool = setting("DICOM_STORE_FROM_ANYONE", True)
    """Any calling AE may C-ECHO and C-STORE (else only AEs in the remote servers table)."""
    retrieve_from_anyone: bool = setting("DICOM_RETRIEVE_FROM_ANYONE", False)
    """Any calling AE may C-FIND, C-MOVE and C-GET (else only AEs in the remote servers table)."""
    max_associations: int = setting("DICOM_MAX_ASSOCIATIONS", 10)
    """Associations served at once; more are rejected (transient, local limit exceeded)."""
    max_associations_per_ae: int = setting("DICOM_MAX_ASSOCIATIONS_PER_AE", 4)
    """Associations one calling AE title may hold at once; more are rejected (transient, local limit exceeded)."""
    max_associations_per_address: int = setting("DICOM_MAX_ASSOCIATIONS_PER_ADDRESS", 6)
    """Associations one peer address may hold at once; more are rejected (transient, local limit exceeded)."""
    acse_timeout: float = setting("DICOM_ACSE_TIMEOUT", 30.0)
    """Seconds to wait for association negotiation and release messages."""
    dimse_timeout: float = setting("DICOM_DIMSE_TIMEOUT", 60.0)
    """Seconds to wait for a DIMSE message (a request, a response, a dataset)."""
    network_timeout: float = setting("DICOM_NETWORK_TIMEOUT", 60.0)
    """Seconds without any network traffic after which an association is aborted."""
    max_pdu_size: int = setting("DICOM_MAX_PDU_SIZE", 256 * 1024)
    """Largest P-DATA PDU peers may send us (bytes; 0: unlimited)."""
    tls_require_client_cert: bool = setting("DICOM_TLS_REQUIRE_CLIENT_CERT", False)
    """DICOM TLS peers must present a certificate signed by one in certs/trusted.crt."""


@dataclass(frozen=True)
class AuthSettings:
    jwt_issuer: str = setting("JWT_ISSUER", "pacsbox")
    """`iss` of every token this stack signs and the only issuer it accepts."""
    jwt_algorithm: str = setting("JWT_ALGORITHM", "RS256")
    """The one signing algorithm accepted: RS256 or ES256, matching the key pair."""
    jwt_private_key: Path = setting("JWT_PRIVATE_KEY", Path("certs/jwt_private.pem"))
    """PEM private key signing tokens (auth service only)."""
    jwt_public_key: Path = setting("JWT_PUBLIC_KEY", Path("certs/jwt_public.pem"))
    """PEM public key verifying tokens."""
    admin_password_hash: str = setting("ADMIN_PASSWORD_HASH", "")
    """argon2id hash of the admin password, written by the wizard (read literally: it holds `$`)."""
    one_off_token_lifetime: int = setting("ONE_OFF_TOKEN_LIFETIME", 24 * 3600)
    """Seconds a one-off login token stays valid (it also dies at its first exchange)."""
    access_token_lifetime: int = setting("ACCESS_TOKEN_LIFETIME", 3600)
    """Seconds an access token (and the session cookie holding it) stays valid."""
    refresh_token_lifetime: int = setting("REFRESH_TOKEN_LIFETIME", 30 * 24 * 3600)
    """Seconds a session (refresh token family) lasts from its exchange; rotation does not extend it."""
    session_cookie: str = setting("SESSION_COOKIE", "pacsbox_session")
    """Name of the HttpOnly cookie `/auth/oauth` sets; the refresh cookie is this name + `_refresh`."""
    revocation_cache_seconds: float = setting("REVOCATION_CACHE_SECONDS", 1.0)
    """Longest time a revocation made by another process (`pacsbox user deactivate`) takes to apply."""
    password_min_length: int = setting("PASSWORD_MIN_LENGTH", 8)
    """Shortest user password accepted."""
    login_delay_after: int = setting("LOGIN_DELAY_AFTER", 3)
    """Failed logins (per address and per username) after which each new try must wait."""
    login_delay_seconds: float = setting("LOGIN_DELAY_SECONDS", 1.0)
    """First wait after `LOGIN_DELAY_AFTER` failures; it doubles with each further failure."""
    login_lockout_after: int = setting("LOGIN_LOCKOUT_AFTER", 10)
    """Failed logins after which every try, even a right one, is refused for `LOGIN_LOCKOUT_SECONDS`."""
    login_lockout_seconds: int = setting("LOGIN_LOCKOUT_SECONDS", 900)
    """How long a lockout lasts; failures older than this are forgotten."""


@dataclass(frozen=True)
class ViewerSettings:
    ohif_dir: Path = setting("VIEWER_OHIF_DIR", Path("build/ohif"))
    """The OHIF viewer patched for `/viewer/` (`scripts/fetch-ohif` writes it); the viewer service serves it."""
    volume_cache_size: int = setting("VIEWER_VOLUME_CACHE_SIZE", 512 * 1024**2)
    """Bytes of decoded volumes (MPR, 3D) kept in memory; the least recently used go first."""
    max_volume_size: int = setting("VIEWER_MAX_VOLUME_SIZE", 1024**3)
    """Largest volume (4 bytes a voxel) built for MPR or 3D; 413 beyond."""
    max_render_size: int = setting("VIEWER_MAX_RENDER_SIZE", 1024)
    """Largest width or height of a 3D rendering or an MPR `viewport` (pixels)."""


@dataclass(frozen=True)
class Settings:
    """Everything a pacsbox process is configured with, one dataclass per concern."""

    paths: PathSettings = PathSettings()
    database: DatabaseSettings = DatabaseSettings()
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()
    dicom: DicomSettings = DicomSettings()
    auth: AuthSettings = AuthSettings()
    limits: LimitSettings = LimitSettings()
    viewer: ViewerSettings = ViewerSettings()

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings: `environ` (default `os.environ`) over `$PACSBOX_CONFIG_DIR/.env`."""
        environ = dict(os.environ if environ is None else environ)
        config_dir = Path(environ.get(PREFIX + "CONFIG_DIR") or ".").resolve()
        values = {**read_dotenv(config_dir / ".env"), **environ}
        values[PREFIX + "CONFIG_DIR"] = str(config_dir)
        parts = {f.name: _build(f.type, values, config_dir) for f in dataclasses.fields(cls)}
        return cls(**parts)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some concerns replaced, e.g. `settings.replace(dicom=DicomSettings(port=0))`."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def variables(cls) -> dict[str, Any]:
        """Every `PACSBOX_*` variable with its default, in declaration order."""
        out: dict[str, Any] = {}
        for part in dataclasses.fields(cls):
            for f in dataclasses.fields(_concern(part.type)):
                out[f.metadata["env"]] = f.default
        return out


def _concern(type_name: Any) -> type:
    return globals()[type_name] if isinstance(type_name, str) else type_name


def _build(type_name: Any, values: Mapping[str, str], config_dir: Path) -> Any:
    concern = _concern(type_name)
    hints = typing.get_type_hints(concern)
    kwargs = {}
    for f in dataclasses.fields(concern):
        name = f.metadata["env"]
        raw = values.get(name)
        value = f.default if raw is None else _cast(name, raw, hints[f.name])
        if isinstance(value, Path) and not value.is_absolute():
            value = config_dir / value
        kwargs[f.name] = value
    return concern(**kwargs)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _cast(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError("expected true or false")
            return lowered in _TRUE
        if kind is int:
            return _parse_size(raw) if name.endswith("_SIZE") else int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw)
        if typing.get_origin(kind) is tuple:
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        return raw
    except ValueError as error:
        raise SettingsError(f"{name}={raw!r}: {error}") from None


_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


def _parse_size(raw: str) -> int:
    """Bytes from `2000m`, `1g`, `512k` or a plain number, as nginx writes sizes."""
    text = raw.strip().lower()
    if text and text[-1] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    return int(text)


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines of a `.env` file; blank lines and `#` comments ignored, quotes removed."""
    if not path.is_file():
        return {}
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
