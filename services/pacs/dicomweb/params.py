"""Query and path parameters of DICOMweb requests, parsed into typed values.

Every malformed value is refused with 400 naming the parameter first
(`frames: ...`, `window: ...`), as PS3.18 8.3 and 8.6 ask of an origin server.
"""

from __future__ import annotations

from collections.abc import Mapping

from pacsbox.core.errors import BadRequest
from pacsbox.core.imaging import ImageType, RenderOptions, Viewport, VoiFunction, Window

__all__ = ["parse_frame_numbers", "parse_tag", "render_options"]


def parse_frame_numbers(text: str) -> list[int]:
    """`1,3,5` -> [1, 3, 5].

    Raises:
        BadRequest: not a comma-separated list of numbers from 1, naming `frames`.
    """
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise BadRequest(f"frames: {text[:64]!r} is not a comma-separated list of frame numbers from 1")
    return numbers


def parse_tag(text: str) -> int:
    if len(text) != 8:
        raise BadRequest(f"tag: {text[:64]!r} is not an attribute tag of 8 hexadecimal digits")
    try:
        return int(text, 16)
    except ValueError:
        raise BadRequest(f"tag: {text!r} is not an attribute tag of 8 hexadecimal digits") from None


def _numbers(name: str, text: str, count: tuple[int, ...]) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in count:
        raise BadRequest(f"{name}: {text[:64]!r} is not {' or '.join(map(str, count))} comma-separated numbers")
    return values


def render_options(query: Mapping[str, str], media_type: ImageType, viewport: Viewport | None = None) -> RenderOptions:
    """Typed rendering options from PS3.18 8.3.5.1 query parameters.

    Raises:
        BadRequest: a malformed quality, viewport or window, naming the parameter.
    """
    quality = 90
    if "quality" in query:
        raw = query["quality"]
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise BadRequest(f"quality: {raw[:16]!r} is not a number from 1 to 100")
        quality = int(raw)
    if "viewport" in query:
        values = _numbers("viewport", query["viewport"], (2, 6))
        try:
            source = tuple(int(v) for v in values[2:]) or None
            viewport = Viewport(int(values[0]), int(values[1]), source)  # type: ignore[arg-type]
        except ValueError as error:
            raise BadRequest(f"viewport: {error}") from None
    window = None
    if "window" in query:
        raw = query["window"]
        parts = raw.split(",")
        try:
            if len(parts) not in (2, 3):
                raise ValueError(f"{len(parts)} values")
            function = VoiFunction.parse(parts[2]) if len(parts) == 3 else VoiFunction.LINEAR
            window = Window(float(parts[0]), float(parts[1]), function)
        except ValueError as error:
            raise BadRequest(f"window: {raw[:64]!r} is not center,width[,linear|linear-exact|sigmoid] ({error})") from None
    return RenderOptions(media_type=media_type, quality=quality, window=window, viewport=viewport)
