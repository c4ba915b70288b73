"""Short header values converted once per distinct raw value.

The instances of a series repeat most of their header byte for byte (patient,
study, equipment, acquisition). pydicom converts every raw element of every
file afresh; the index (`parse`) and the DICOM JSON (`metadata`) instead keep
what they derive from a short raw element, keyed by its tag, VR and bytes: the
same tag, VR and bytes under the same character set always convert to the same
value, so reusing the result never changes what an instance shows.

Only definite VRs that are not binary, sequences or ambiguous (US or SS...),
with values of at most 256 bytes, are shared; everything else goes through the
dataset as before. A header walked without pydicom's reader (`header_walk`)
looks its values up with the same keys (`SharedValues.get`), so both readings
share what they derived.

A value seen for the first time is converted by pydicom, except the short
text of the common string VRs (`plain_values`): pydicom's conversion of one
element (a DataElement, its checks, its JSON) cost about 15 us, and a new
study brings a dozen such values (UIDs, names, dates, descriptions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydicom import config
from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.valuerep import AMBIGUOUS_VR

__all__ = ["SPECIFIC_CHARACTER_SET", "SharedValues", "convert", "is_shared", "person_name_json", "plain_values"]

T = TypeVar("T")

_MAX_LENGTH = 256
_NOT_SHARED_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SQ", *AMBIGUOUS_VR}
SPECIFIC_CHARACTER_SET = 0x00080005
_MISSING = object()
_ESCAPE = 0x1B
_DATES_AS_TEXT = {"DA", "DT", "TM"}
_STRING_VRS = {"AS", "CS", *_DATES_AS_TEXT}
_TEXT_VRS = {"SH", "LO", "UC"}
_SINGLE_TEXT_VRS = {"LT", "ST", "UT"}
_CHARSET_VRS = {*_TEXT_VRS, *_SINGLE_TEXT_VRS, "PN"}
_PLAIN_VRS = {*_STRING_VRS, *_CHARSET_VRS, "UI", "AE", "UR"}


def _encoding_of(ds: Dataset, tag: int) -> tuple[str, ...]:
    """The character sets pydicom would decode `tag` of `ds` with."""
    if tag == SPECIFIC_CHARACTER_SET:
        return (default_encoding,)
    charset = ds.original_character_set or ds._character_set
    return (charset,) if isinstance(charset, str) else tuple(charset)


def is_shared(vr: str | None, value: Any) -> bool:
    """Whether a raw element of this VR and value is converted once per distinct value."""
    return vr is not None and vr not in _NOT_SHARED_VRS and value is not None and len(value) <= _MAX_LENGTH


def convert(raw: RawDataElement, encoding: tuple[str, ...]) -> DataElement:
    """The element pydicom makes of `raw` (callers keep what they derive from it, never the element)."""
    return convert_raw_data_element(raw, encoding=list(encoding))


def plain_values(vr: str, value: bytes, encoding: tuple[str, ...]) -> list[str] | None:
    """The values pydicom reads (`convert`) from a short element of a string VR, read without pydicom; None for
    other VRs, and for values pydicom must read.

    pydicom's reading, VR by VR (`pydicom.values`):

    - AS, CS, DA, DT, TM: the whole value less its trailing spaces and NULs, split at backslashes;
    - UI: the same, then each value less its white space;
    - AE: each value less its spaces; UR: one value, less its trailing white space;
    - SH, LO, UC: decoded with the character set, split, each value less its trailing NULs and spaces;
    - LT, ST, UT: one value, decoded, less its trailing NULs and spaces;
    - PN: here only in ASCII, without an empty value among several, with at most three component groups and
      no empty group at the end (pydicom drops those); `person_name_json` makes its JSON.

    An ISO 2022 escape, or bytes the character set cannot decode (pydicom substitutes and warns), leave the
    value to pydicom. A value of no bytes is one empty string, as pydicom reads it.
    """
    if vr not in _PLAIN_VRS or (vr in _DATES_AS_TEXT and config.datetime_conversion):
        return None
    if not value:
        return [""]
    if vr in _CHARSET_VRS:
        if _ESCAPE in value:
            return None
        try:
            text = (value.rstrip(b"\x00 ") if vr == "PN" else value).decode(encoding[0])
        except (UnicodeError, LookupError):
            return None
        if vr in _TEXT_VRS:
            return [item.rstrip("\0 ") for item in text.split("\\")]
        if vr in _SINGLE_TEXT_VRS:
            return [text.rstrip("\0 ")]
        names = text.split("\\")
        plain = text.isascii() and (len(names) == 1 or all(names))
        if not plain or any(name.count("=") > 2 or name.endswith("=") for name in names):
            return None
        return names
    text = value.decode(default_encoding)
    if vr == "UI":
        return [item.strip() for item in text.rstrip("\0 ").split("\\")]
    if vr == "AE":
        return [item.strip() for item in text.split("\\")]
    if vr == "UR":
        return [text.rstrip()]
    return text.rstrip(" \x00").split("\\")


def person_name_json(name: str) -> dict[str, str]:
    """PS3.18 F.2.2's object of one person name that `plain_values` gave: its component groups by name."""
    groups = name.split("=")
    return dict(zip(("Alphabetic", "Ideographic", "Phonetic"), groups))


class SharedValues(Generic[T]):
    """What `derive(raw, encoding)` makes of short raw elements, kept per distinct value.

    The key is the element's tag, VR, bytes, encoding flags and character sets
    (not where it sat in its file), built as a plain tuple: a copy of the raw
    element as key cost a microsecond per element. At `max_entries` the
    values kept are dropped and gathered again.
    """

    def __init__(self, derive: Callable[[RawDataElement, tuple[str, ...]], T], max_entries: int) -> None:
        self._derive = derive
        self._max_entries = max_entries
        self._values: dict[tuple[Any, ...], T] = {}

    def of(self, ds: Dataset, tag: int) -> T | None:
        """The derived value of `tag` in `ds`; None when the element is not shared (the dataset must decide),
        or its lone value cannot be converted (the dataset's own conversion then decides what becomes of it)."""
        raw: Any = ds._dict.get(tag)
        if not (isinstance(raw, RawDataElement) and is_shared(raw.VR, raw.value)):
            return None
        encoding = _encoding_of(ds, tag)
        return self.get((int(tag), raw.VR, raw.value, raw.is_implicit_VR, raw.is_little_endian, encoding), lambda: raw)

    def get(self, key: tuple[Any, ...], raw: Callable[[], RawDataElement]) -> T | None:
        """The value derived for `key` (int tag, VR, bytes, implicit, little endian, character sets), derived
        from the element `raw()` makes on its first use; None when it cannot be converted."""
        value: Any = self._values.get(key, _MISSING)
        if value is not _MISSING:
            return value
        try:
            value = self._derive(raw(), key[-1])
        except Exception:
            return None
        if len(self._values) >= self._max_entries:
            self._values.clear()
        self._values[key] = value
        return value
