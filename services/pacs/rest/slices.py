"""`GET /series/{id}/ordered-slices`: a series' instances and frames in Orthanc's slice order.

    {"Type": "Volume" | "Sequence",
     "Dicom": ["/instances/{id}/file", ...],
     "Slices": ["/instances/{id}/frames/0", ...],       every frame of every sorted instance
     "SlicesShort": [["{id}", 0, frames], ...]}

`pacsbox.pacs.store.slice_order` says how the order is found; it reads the
main DICOM tags that `GET /series/{id}` and `GET /instances/{id}` show.
"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.params import FromPath

from pacsbox.pacs.rest.documents import describe_resource, describe_resources
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.slice_order import SliceInfo, SliceOrder, order_slices

__all__ = ["SLICE_ROUTES", "series_slice_order"]


def _frames(text: str | None) -> int:
    """Number of Frames as Orthanc reads it: 1 when absent or not a number."""
    try:
        return int(text or "")
    except ValueError:
        return 1


def _slice(document: dict[str, Any]) -> SliceInfo:
    tags = document["MainDicomTags"]
    return SliceInfo(
        public_id=document["ID"], frames=_frames(tags.get("NumberOfFrames")), index_in_series=document["IndexInSeries"],
        position=tags.get("ImagePositionPatient"), orientation=tags.get("ImageOrientationPatient"),
    )


async def series_slice_order(public_id: str) -> SliceOrder:
    """The series' instances in Orthanc's slice order.

    Raises:
        NotFound: no such series.
        Conflict: a series that is no volume, whose instances do not all have an Instance Number.
    """
    series = await describe_resource(Level.SERIES, public_id)
    instances = await describe_resources(Level.INSTANCE, series["Instances"])
    orientation = series["MainDicomTags"].get("ImageOrientationPatient")
    return order_slices(public_id, orientation, [_slice(doc) for doc in instances])


@get("/series/{public_id:str}/ordered-slices", operation_id="GetSeriesOrderedSlices")
async def get_ordered_slices(public_id: FromPath[str]) -> dict[str, Any]:
    """The series' instances sorted along the slice normal (a volume) or by instance number (a sequence)."""
    order = await series_slice_order(public_id)
    return {
        "Type": "Volume" if order.volume else "Sequence",
        "Dicom": [f"/instances/{item.public_id}/file" for item in order.slices],
        "Slices": [f"/instances/{item.public_id}/frames/{frame}" for item in order.slices for frame in range(item.frames)],
        "SlicesShort": [[item.public_id, 0, item.frames] for item in order.slices],
    }


SLICE_ROUTES = [get_ordered_slices]
