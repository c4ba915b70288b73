"""Building DICOM JSON elements (PS3.18 F.2) from index values.

Multi-valued strings are stored joined by backslashes, as DICOM encodes them;
`element` splits them back into a JSON value list.
"""

from __future__ import annotations

from typing import Any

__all__ = ["element", "text_values"]

_NUMBER_VRS = {"IS", "US", "UL", "SL", "SS", "UV", "SV"}
_DECIMAL_VRS = {"DS", "FL", "FD"}


def text_values(value: str) -> list[str]:
    """`CT\\MR` -> `["CT", "MR"]`; leading and trailing delimiters ignored (`\\CT\\MR\\`)."""
    return [part for part in value.strip("\\").split("\\")] if value.strip("\\") else []


def element(vr: str, value: Any) -> dict[str, Any]:
    """A DICOM JSON element of `vr` holding `value` (None or "" gives an element without Value)."""
    if value is None or value == "":
        return {"vr": vr}
    if vr in _NUMBER_VRS:
        values: list[Any] = [int(v) for v in (text_values(value) if isinstance(value, str) else [value])]
    elif vr in _DECIMAL_VRS:
        values = [float(v) for v in (text_values(value) if isinstance(value, str) else [value])]
    elif vr == "PN":
        values = [{"Alphabetic": name} for name in text_values(str(value))]
    else:
        values = text_values(str(value))
    return {"vr": vr, "Value": values} if values else {"vr": vr}
