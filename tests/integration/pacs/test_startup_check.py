"""The start-up check: files of either storage layout are served, unindexed ones indexed, leftovers removed."""

from __future__ import annotations


import httpx
import pytest

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
