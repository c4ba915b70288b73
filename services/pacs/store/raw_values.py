"""Short header values converted once per distinct raw value.

The instances of a series repeat most of their header byte for byte (patient,
study, equipment, acquisition). pydicom converts every raw element of every
file afresh; the index (`parse`) and the DICOM JSON (`metadata`) instead keep
what they derive from a short raw element, keyed by the element itself: the
same tag, VR and bytes under the same character set always convert to the same
value, so reusing the result never changes what an instance shows.

Only definite VRs that are not binary, sequences or ambiguous (US or SS...),
with values of at most 256 bytes, are shared; everything else goes through the
dataset as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.valuerep import AMBIGUOUS_VR

__all__ = ["convert", "derive_shared"]

T = TypeVar("T")

_MAX_LENGTH = 256
_NOT_SHARED_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SQ", *AMBIGUOUS_VR}
_SPECIFIC_CHARACTER_SET = 0x00080005


def _shareable(ds: Dataset, tag: int) -> RawDataElement | None:
    """The raw element of `tag` in a hashable form if its conversion may be shared, else None."""
    raw: Any = ds._dict.get(tag)
    if (
        isinstance(raw, RawDataElement) and raw.VR is not None and raw.VR not in _NOT_SHARED_VRS
        and raw.value is not None and len(raw.value) <= _MAX_LENGTH
    ):
        return raw._replace(value_tell=0)  # where it sat in its file changes nothing
    return None


def _encoding_of(ds: Dataset, tag: int) -> tuple[str, ...]:
    """The character sets pydicom would decode `tag` of `ds` with."""
    if tag == _SPECIFIC_CHARACTER_SET:
        return (default_encoding,)
    charset = ds.original_character_set or ds._character_set
    return (charset,) if isinstance(charset, str) else tuple(charset)


def convert(raw: RawDataElement, encoding: tuple[str, ...]) -> DataElement:
    """The element pydicom makes of `raw` (callers cache what they derive from it, never the element)."""
    return convert_raw_data_element(raw, encoding=list(encoding))


def derive_shared(ds: Dataset, tag: int, derive: Callable[[RawDataElement, tuple[str, ...]], T]) -> T | None:
    """`derive(raw, encoding)` (a cached function) for a shareable element; None when the dataset must decide.

    None also when the lone value cannot be converted: the dataset's own
    conversion then decides what becomes of it.
    """
    raw = _shareable(ds, tag)
    if raw is None:
        return None
    try:
        return derive(raw, _encoding_of(ds, tag))
    except Exception:
        return None
