"""Instances on their way out (C-GET, C-MOVE, send jobs): each in a transfer syntax the peer accepted.

The stored file goes as it is when the peer accepted its transfer syntax (or,
for uncompressed data, any uncompressed one of the same byte order: pynetdicom
re-encodes those, but cannot swap bytes). Otherwise it is decoded to Explicit
VR Little Endian when the peer accepted an uncompressed syntax, or encoded
into the peer's compressed syntax when pydicom has an encoder for it
(lossless only: RLE, JPEG-LS, JPEG 2000). A remote's preferred syntax comes
before sending as stored.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_encoder
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.presentation import PresentationContext, build_context

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import can_transcode, to_explicit_little_endian
from pacsbox.core.imaging.syntaxes import is_native
from pacsbox.pacs.store.reader import StoredInstance

__all__ = ["LOSSLESS", "accepted_syntaxes", "can_encode", "outgoing_contexts", "outgoing_dataset", "proposed_syntaxes"]

_UNCOMPRESSED = (str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian))
LOSSLESS = ("1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90")
"""Lossless syntaxes pydicom may encode to (RLE, JPEG-LS, JPEG 2000), when their encoder is installed."""


def can_encode(transfer_syntax: str) -> bool:
    """Whether pacsbox can encode pixel data into this (lossless) transfer syntax."""
    if transfer_syntax not in LOSSLESS:
        return False
    try:
        return bool(get_encoder(UID(transfer_syntax)).is_available)
    except NotImplementedError:
        return False


def proposed_syntaxes(stored: Iterable[str], preferred: str = "") -> list[str]:
    """Transfer syntaxes to propose for one SOP class: preferred first, the stored ones, then uncompressed."""
    syntaxes = ([preferred] if preferred else []) + list(stored) + list(_UNCOMPRESSED)
    return list(dict.fromkeys(syntaxes))


def outgoing_contexts(stored: dict[str, list[str]], preferred: str = "") -> list[PresentationContext]:
    """Contexts to propose for sending instances of these SOP classes (class -> stored syntaxes).

    A preferred syntax, and each stored syntax other than Explicit and Implicit
    VR Little Endian, gets a context of its own, so that the peer accepts or
    refuses it rather than picking another from a list (peers such as Orthanc
    pick uncompressed, which pacsbox cannot produce from big-endian or every
    compressed file). Every class keeps its list context; at most 128 contexts
    (PS3.8 9.3.2.2), the stored syntaxes' own contexts left out first.
    """
    contexts = []
    spare = 128 - len(stored) * (2 if preferred else 1)
    for sop_class, syntaxes in stored.items():
        if preferred and preferred not in syntaxes:
            contexts.append(build_context(sop_class, [preferred]))
        for syntax in dict.fromkeys(syntaxes):
            if syntax not in _UNCOMPRESSED and syntax != preferred and spare > 0:
                contexts.append(build_context(sop_class, [syntax]))
                spare -= 1
        contexts.append(build_context(sop_class, proposed_syntaxes(dict.fromkeys(syntaxes))))
    return contexts[:128]


def _same_bytes(stored: str, target: str) -> bool:
    """Whether a file stored in `stored` goes as it is in `target` (pynetdicom converts VR and deflation only)."""
    if target == stored:
        return True
    return is_native(stored) and is_native(target) and UID(stored).is_little_endian == UID(target).is_little_endian


def accepted_syntaxes(contexts: Iterable[PresentationContext]) -> dict[str, list[str]]:
    """The transfer syntaxes accepted per SOP class, in context order, from an association's accepted contexts."""
    out: dict[str, list[str]] = {}
    for context in contexts:
        out.setdefault(str(context.abstract_syntax), []).append(str(context.transfer_syntax[0]))
    return out


def _encoded(path: Path, target: str, max_size: int) -> Dataset:
    ds = pydicom.dcmread(io.BytesIO(to_explicit_little_endian(path, max_size=max_size)))
    if target in _UNCOMPRESSED:
        return ds
    try:
        ds.compress(UID(target), generate_instance_uid=False)
    except Exception as error:  # encoders refuse some pixel layouts with many exception types
        raise PixelDataError(f"cannot encode {ds.SOPInstanceUID} as {target}: {error}") from None
    return ds


def outgoing_dataset(
    instance: StoredInstance, accepted: Iterable[str], *, max_size: int, preferred: str = ""
) -> Dataset:
    """The instance as a dataset in one of the `accepted` transfer syntaxes: the `preferred` one, else as
    stored, else the first of the others that can be produced.

    Raises:
        PixelDataError: no accepted syntax can be produced from the stored one.
    """
    stored = instance.transfer_syntax

    def rank(target: str) -> int:
        return 0 if target == preferred else 1 if _same_bytes(stored, target) else 2

    accepted = sorted(accepted, key=rank)
    for target in accepted:
        if _same_bytes(stored, target):
            return pydicom.dcmread(instance.path)  # pynetdicom re-encodes between uncompressed syntaxes
        if target in _UNCOMPRESSED and can_transcode(stored):
            return _encoded(instance.path, target, max_size)
        if can_encode(target) and (is_native(stored) or can_transcode(stored)):
            return _encoded(instance.path, target, max_size)
    raise PixelDataError(
        f"instance {instance.sop_uid} is stored as {stored}; the peer accepts only {', '.join(accepted) or 'nothing'}"
    )
