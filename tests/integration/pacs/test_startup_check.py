"""The start-up check: files of either storage layout are served, unindexed ones indexed, leftovers removed."""

from __future__ import annotations

import os
import threading

import httpx
import pytest

from pacsbox.pacs.run_lock import join_run
from pacsbox.pacs.store.ids import ResourceIds
from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


def test_a_file_left_unindexed_in_the_old_layout_is_indexed_and_served(fresh_pacs: ServiceProcess) -> None:
    slices = list(make_series(2))
    kept, unindexed = (dataset_bytes(ds) for ds in slices)
    stored = httpx.post(f"{fresh_pacs.url}/instances", content=kept, headers={"Content-Type": "application/dicom"})
    assert stored.status_code == 200, stored.text
    fresh_pacs.stop()

    ds = slices[1]
    ids = ResourceIds.of(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    storage = fresh_pacs.data_dir / "storage"
    old_layout = storage / ids.instance[:2] / ids.instance[2:4] / f"{ids.instance}.dcm"
    old_layout.parent.mkdir(parents=True)
    old_layout.write_bytes(unindexed)
    leftover = storage / ".tmp" / "interrupted.part"
    leftover.write_bytes(unindexed[:1000])
    fresh_pacs.start()

    series = httpx.get(f"{fresh_pacs.url}/series/{ids.series}").json()
    assert len(series["Instances"]) == 2
    for instance in series["Instances"]:
        answer = httpx.get(f"{fresh_pacs.url}/instances/{instance}/file")
        assert answer.status_code == 200
        assert answer.content[132:] in (kept[132:], unindexed[132:])
    assert httpx.get(f"{fresh_pacs.url}/instances/{ids.instance}/file").content[132:] == unindexed[132:]
    assert not leftover.exists()


def test_the_start_up_check_waits_until_no_process_of_an_earlier_run_is_left(fresh_pacs: ServiceProcess) -> None:
    """A killed primary's workers finish their requests before they end; the next start checks after them."""
    fresh_pacs.stop()
    still_storing = join_run(fresh_pacs.data_dir)  # a worker of the earlier run, writing this file
    being_written = fresh_pacs.data_dir / "storage" / ".tmp" / "being-written.part"
    being_written.write_bytes(b"\0" * 1000)
    seen_at_release: list[bool] = []

    def release() -> None:
        seen_at_release.append(being_written.exists())
        os.close(still_storing)

    timer = threading.Timer(2.0, release)
    timer.start()
    fresh_pacs.start()
    timer.join()
    assert seen_at_release == [True], "the start-up check ran while a process of the earlier run was storing"
    assert "waiting for the pacs processes of an earlier run" in fresh_pacs.log()
    assert not being_written.exists()  # checked once that process was gone
