"""Query-string parameters of the REST API, read the way Orthanc clients send them."""

from __future__ import annotations

from collections.abc import Mapping

from pacsbox.core.errors import BadRequest

__all__ = ["flag", "non_negative"]


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

