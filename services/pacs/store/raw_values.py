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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.valuerep import AMBIGUOUS_VR

__all__ = ["SPECIFIC_CHARACTER_SET", "SharedValues", "convert", "is_shared"]

T = TypeVar("T")

_MAX_LENGTH = 256
_NOT_SHARED_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SQ", *AMBIGUOUS_VR}
SPECIFIC_CHARACTER_SET = 0x00080005
_MISSING = object()


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
