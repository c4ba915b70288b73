"""Query-string parameters and small bodies of the REST API, read the way Orthanc clients send them."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Request

from pacsbox.core.errors import BadRequest, PayloadTooLarge

__all__ = ["flag", "non_negative", "small_body"]


def non_negative(query: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    """`?name=N` as a non-negative integer, `default` when absent.

    Raises:
        BadRequest: a value that is not a non-negative integer, named.
    """
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise BadRequest(f"{name}={value!r}: expected a non-negative integer")
    return int(value)


def flag(query: Mapping[str, str], name: str) -> bool:
    """`?name`, `?name=true` or `?name=1` are on; `?name=false` and `?name=0` (or no `name`) are off."""
    if name not in query:
        return False
    return query[name].lower() not in ("false", "0")


async def small_body(request: Request, limit: int) -> bytes:
    """The whole body of a request that carries a query, not data.

    Raises:
        PayloadTooLarge: more than `limit` bytes, naming the route and the limit.
    """
    if (request.content_length or 0) > limit:  # refused before a byte of it is read
        raise PayloadTooLarge(f"a {request.url.path} body is at most {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"a {request.url.path} body is at most {limit} bytes")
    return bytes(data)
