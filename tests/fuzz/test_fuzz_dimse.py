"""C-STORE datasets as a peer sends them, damaged: stored whole or refused with a reason; never a crash.

A C-STORE request carries the dataset encoded in the negotiated transfer
syntax, without File Meta Information. pynetdicom hands the handler those
bytes (`event.encoded_dataset()`, with or without the meta it builds from the
request); the handler stores them through `InstanceStore.store`, the one
store path. Here each damaged dataset that pynetdicom itself can decode goes
down that path both ways, against a real index.
"""

from __future__ import annotations

import io

import pydicom
from hypothesis import assume, given
from hypothesis import strategies as st
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.dsutils import create_file_meta, decode, encode, encode_file_meta

from pacsbox.core.errors import PacsboxError
from pacsbox.pacs.store import Origin
from pacsbox.pacs.store.index import stored_instance
from tests.fuzz.conftest import Index
from tests.fuzz.mutations import SEEDS, damage

_SYNTAXES = {ImplicitVRLittleEndian: (True, True), ExplicitVRLittleEndian: (False, True)}


def _dataset_seeds() -> list[tuple[UID, bytes, str, str]]:
    """(transfer syntax, dataset bytes, SOP Class UID, SOP Instance UID) of each seed pydicom can re-encode."""
    seeds = []
    for data in SEEDS:
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
            ds.file_meta = pydicom.dataset.FileMetaDataset()
            for syntax, (implicit, little) in _SYNTAXES.items():
                encoded = encode(ds, implicit, little)
                if encoded and "SOPInstanceUID" in ds:
                    seeds.append((syntax, encoded, str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
        except Exception:  # a seed pydicom cannot re-encode is no C-STORE dataset
            continue
    return seeds


DATASETS = _dataset_seeds()


@given(st.sampled_from(DATASETS), st.data(), st.booleans())
def test_c_store_datasets_are_stored_or_refused(index: Index, seed: tuple, data: st.DataObject, with_meta: bool) -> None:
    syntax, encoded, sop_class, sop_instance = seed
    stream = data.draw(damage(encoded))
    implicit, little = _SYNTAXES[syntax]
    try:
        decode(io.BytesIO(stream), implicit, little)
    except Exception:
        assume(False)  # pynetdicom would have answered the peer itself
    if with_meta:
        meta = create_file_meta(sop_class_uid=UID(sop_class), sop_instance_uid=UID(sop_instance), transfer_syntax=syntax)
        stream = b"\x00" * 128 + b"DICM" + encode_file_meta(meta) + stream
    storage = index.store.storage
    try:
        result = index.run(index.store.store(stream, Origin(kind="DIMSE", aet="FUZZ")))
    except PacsboxError as error:
        assert 400 <= error.status_code < 500 and error.message
    else:
        row = index.run(stored_instance(result.parsed.sop_uid))
        assert row is not None and storage.absolute(row["path"]).is_file()
    assert not list(storage.tmp.iterdir())
