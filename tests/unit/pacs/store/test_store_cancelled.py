"""A store whose caller is cancelled (a client hanging up) still ends consistent: indexed, its claim released."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.settings import Settings
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.store import IndexStatus, InstanceStore, Origin
from pacsbox.pacs.store.index import stored_instance
from tests.support.dicom import dataset_bytes, make_series

ORIGIN = Origin(kind="REST")


async def _cancel_then_store_again(folder: Path, data: bytes, sop_uid: str) -> tuple[bool, IndexStatus, bool]:
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data")})
    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    try:
        await SCHEMA.upgrade()
        store = InstanceStore.from_settings(settings)
        caller = asyncio.create_task(store.store(data, ORIGIN))
        await asyncio.sleep(0)  # the store has started (its work is in a worker thread)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await store.settle()
        row = await stored_instance(sop_uid)
        on_disk = row is not None and store.storage.absolute(row["path"]).read_bytes() == data
        again = await asyncio.wait_for(store.store(data, ORIGIN), 10)  # the claim was released
        leftovers = list(store.storage.tmp.iterdir())
        return on_disk, again.status, not leftovers
    finally:
        await close_engine(engine)


def test_a_cancelled_caller_leaves_the_instance_stored_and_the_instance_free(tmp_path: Path) -> None:
    ds = next(make_series(1))
    data = dataset_bytes(ds)
    with ThreadPoolExecutor(1) as thread:  # an event loop of its own (the suite's browser keeps one in the main thread)
        on_disk, status, no_leftovers = thread.submit(
            asyncio.run, _cancel_then_store_again(tmp_path, data, ds.SOPInstanceUID)
        ).result()
    assert on_disk
    assert status is IndexStatus.ALREADY_STORED
    assert no_leftovers
