"""Attribute matching as PS3.4 C.2.2.2 defines it, turned into SQL conditions.

One matcher for QIDO-RS, C-FIND and Orthanc's `/tools/find`. The kinds:

- universal: an empty value matches everything (the key is only returned);
- single value: equality; person names compare case-insensitively, other
  values case-sensitively unless the caller asks otherwise (Orthanc's
  `CaseSensitive`);
- wildcard: `*` any run of characters, `?` exactly one (not for UIDs);
- UID list: several UIDs separated by `\\` (or `,` as QIDO clients send) match
  any of them; likewise code strings such as Modality (`CT\\MR`, `CT,MR`);
- range: dates, times and date-times `A-B`, `A-` or `-B`, inclusive;
  dates and times in the pre-3.0 forms `yyyy.mm.dd` and `hh:mm:ss` (PS3.5 6.2)
  are matched as the DICOM 3 values the index holds;
- fuzzy (QIDO `fuzzymatching=true`, person names only): every word of the
  query is a case- and accent-insensitive prefix of a word of the name.

Conditions use piccolo's `{}` placeholders; values are always parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.search.attributes import Attribute
from pacsbox.pacs.store.parse import dicom3_date, dicom3_time, fold_person_name

__all__ = ["Condition", "condition_for"]

_ESCAPE = "!"
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")
_DATETIME = re.compile(r"^\d{4,14}(\.\d{1,6})?([+-]\d{4})?$")
_RANGE_VRS = {"DA": _DATE, "TM": _TIME, "DT": _DATETIME}
_LIST_VRS = {"UI", "CS"}
_DICOM3 = {"DA": dicom3_date, "TM": dicom3_time}


@dataclass(frozen=True)
class Condition:
    sql: str
    args: tuple[object, ...]


def _like_pattern(value: str) -> str:
    escaped = value.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return escaped.replace("*", "%").replace("?", "_")


def _split_list(value: str, vr: str) -> list[str]:
    if vr in _LIST_VRS:
        return [v.strip() for v in re.split(r"[\\,]", value) if v.strip()]
    return [value]


def _text(column: str, value: str, case_sensitive: bool) -> Condition:
    wildcard = "*" in value or "?" in value
    if case_sensitive:
        if wildcard:
            return Condition(f"{column} LIKE {{}} ESCAPE '{_ESCAPE}'", (_like_pattern(value),))
        return Condition(f"{column} = {{}}", (value,))
    if wildcard:
        return Condition(f"LOWER({column}) LIKE LOWER({{}}) ESCAPE '{_ESCAPE}'", (_like_pattern(value),))
    return Condition(f"LOWER({column}) = LOWER({{}})", (value,))


def _range(attribute: Attribute, value: str, name: str) -> Condition:
    pattern = _RANGE_VRS[attribute.vr]
    low, _, high = value.partition("-")
    low, high = _dicom3(attribute.vr, low.strip()), _dicom3(attribute.vr, high.strip())
    for bound in (low, high):
        if bound and not pattern.match(bound):
            raise BadRequest(f"{name}={value!r}: not a valid {attribute.vr} range")
    if not low and not high:
        raise BadRequest(f"{name}={value!r}: a range needs at least one bound")
    parts, args = [f"{attribute.column} != ''"], []
    if low:
        parts.append(f"{attribute.column} >= {{}}")
        args.append(low)
    if high:
        parts.append(f"{attribute.column} <= {{}}")
        args.append(_upper_bound(attribute.vr, high))
    return Condition(" AND ".join(parts), tuple(args))


def _dicom3(vr: str, value: str) -> str:
    convert = _DICOM3.get(vr)
    return convert(value) if convert else value


def _upper_bound(vr: str, high: str) -> str:
    """An upper time bound covers the whole unit it names: `1030` includes `103059.5`."""
    if vr == "DA" or "." in high:
        return high
    return high.ljust(6 if vr == "TM" else 14, "9") + ".999999"


def _fuzzy(attribute: Attribute, value: str) -> Condition | None:
    words = fold_person_name(value.replace("*", " ").replace("?", " ")).split()
    if not words:
        return None
    parts = [f"{attribute.fuzzy_column} LIKE {{}} ESCAPE '{_ESCAPE}'" for _ in words]
    return Condition(" AND ".join(parts), tuple(f"% {_like_pattern(w)}%" for w in words))


_IS_MIN, _IS_MAX = -(2**31), 2**31 - 1
"""The range of an Integer String (PS3.5 6.2) and of the index's integer columns."""


def _integer(attribute: Attribute, value: str, name: str) -> Condition | None:
    values = [v.strip() for v in value.split("\\") if v.strip()]
    if not values:  # separators only: an empty list matches everything
        return None
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        raise BadRequest(f"{name}={value!r}: expected an integer") from None
    if any(not _IS_MIN <= n <= _IS_MAX for n in numbers):  # nothing stored lies outside; the SQL integer would overflow
        raise BadRequest(f"{name}={value!r}: outside the integer range {_IS_MIN}..{_IS_MAX}")
    return Condition(f"{attribute.column} IN ({', '.join('{}' for _ in numbers)})", tuple(numbers))


def condition_for(
    attribute: Attribute,
    value: str,
    *,
    name: str | None = None,
    fuzzy: bool = False,
    case_sensitive: bool | None = None,
) -> Condition | None:
    """The SQL condition matching `attribute` against query `value`; None for universal matching.

    Args:
        attribute: the indexed attribute.
        value: the query value as a client sends it (DICOM query syntax).
        name: how the client named the key, for error messages (default: the keyword).
        fuzzy: QIDO `fuzzymatching=true`.
        case_sensitive: force case (Orthanc's `CaseSensitive`); default: insensitive for PN only.

    Raises:
        BadRequest: a value that cannot be matched (bad range, non-integer number).
    """
    name = name or attribute.keyword
    value = value.strip().rstrip("\x00")  # a UID may arrive padded with NUL (PS3.5 9.1)
    if "\x00" in value:  # no stored value holds one, and PostgreSQL text cannot
        raise BadRequest(f"{name}: a NUL character cannot be matched")
    if value in ("", "*"):
        return None
    if attribute.keyword == "ModalitiesInStudy":
        modalities = _split_list(value, "CS")
        if not modalities:  # separators only: an empty list matches everything
            return None
        parts = " OR ".join(f"{attribute.column} LIKE {{}} ESCAPE '{_ESCAPE}'" for _ in modalities)
        return Condition(f"({parts})", tuple(f"%\\{_like_pattern(m)}\\%" for m in modalities))
    if attribute.computed:
        raise BadRequest(f"{name} can be returned but not matched")
    if attribute.vr in ("IS", "US", "UL", "SL", "SS"):
        return _integer(attribute, value, name)
    if attribute.vr in _RANGE_VRS and "-" in value:
        return _range(attribute, value, name)
    if attribute.vr == "PN" and fuzzy and attribute.fuzzy_column:
        return _fuzzy(attribute, value)
    values = _split_list(_dicom3(attribute.vr, value), attribute.vr)
    if not values:  # separators only: an empty list matches everything
        return None
    if len(values) > 1:
        if attribute.vr == "UI" or not any("*" in v or "?" in v for v in values):
            return Condition(f"{attribute.column} IN ({', '.join('{}' for _ in values)})", tuple(values))
        parts = [_text(attribute.column, v, case_sensitive is not False) for v in values]
        return Condition("(" + " OR ".join(p.sql for p in parts) + ")", tuple(a for p in parts for a in p.args))
    if attribute.vr == "UI":
        return Condition(f"{attribute.column} = {{}}", (values[0],))
    sensitive = case_sensitive if case_sensitive is not None else attribute.vr != "PN"
    return _text(attribute.column, values[0], sensitive)
