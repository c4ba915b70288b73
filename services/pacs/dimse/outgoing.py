"""Instances on their way out (C-GET, C-MOVE, send jobs): each in a transfer syntax the peer accepted.

The stored file goes as it is when the peer accepted its transfer syntax (or,
for uncompressed data, any uncompressed one: pynetdicom re-encodes those).
Otherwise it is decoded to Explicit VR Little Endian when the peer accepted an
uncompressed syntax, or encoded into the peer's compressed syntax when
pydicom has an encoder for it (lossless only: RLE, JPEG-LS, JPEG 2000).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import can_transcode, to_explicit_little_endian
from pacsbox.core.imaging.syntaxes import is_native
from pacsbox.pacs.store.reader import StoredInstance

__all__ = ["ENCODABLE", "outgoing_dataset", "proposed_syntaxes"]

_UNCOMPRESSED = (str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian))
ENCODABLE = frozenset({"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"})
"""Lossless syntaxes pydicom can encode to: RLE Lossless, JPEG-LS Lossless, JPEG 2000 Lossless."""


def proposed_syntaxes(stored: Iterable[str], preferred: str = "") -> list[str]:
    """Transfer syntaxes to propose for one SOP class: preferred first, the stored ones, then uncompressed."""
    syntaxes = ([preferred] if preferred else []) + list(stored) + list(_UNCOMPRESSED)
    return list(dict.fromkeys(syntaxes))


def _encoded(path: Path, target: str, max_size: int) -> Dataset:
    ds = pydicom.dcmread(io.BytesIO(to_explicit_little_endian(path, max_size=max_size)))
    if target in _UNCOMPRESSED:
        return ds
    try:
        ds.compress(UID(target), generate_instance_uid=False)
    except Exception as error:  # encoders refuse some pixel layouts with many exception types
        raise PixelDataError(f"cannot encode {ds.SOPInstanceUID} as {target}: {error}") from None
    return ds


def outgoing_dataset(instance: StoredInstance, accepted: Iterable[str], *, max_size: int) -> Dataset:
    """The instance as a dataset in one of the `accepted` transfer syntaxes (best first).

    Raises:
        PixelDataError: no accepted syntax can be produced from the stored one.
    """
    accepted = list(accepted)
    stored = instance.transfer_syntax
    if stored in accepted or (is_native(stored) and any(is_native(a) for a in accepted)):
        return pydicom.dcmread(instance.path)
    for target in accepted:
        if target in _UNCOMPRESSED and can_transcode(stored):
            return _encoded(instance.path, target, max_size)
        if target in ENCODABLE and (is_native(stored) or can_transcode(stored)):
            return _encoded(instance.path, target, max_size)
    raise PixelDataError(
        f"instance {instance.sop_uid} is stored as {stored}; the peer accepts only {', '.join(accepted)}"
    )
