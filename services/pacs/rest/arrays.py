"""Decoded pixels for numpy (`numpy.load`), as Orthanc 1.10 serves them.

    GET /instances/{id}/numpy              every frame: shape (frames, rows, columns, samples)
    GET /instances/{id}/frames/{n}/numpy   frame n (from 0): shape (rows, columns, samples)
    GET /series/{id}/numpy                 every frame of every instance, in `/series/{id}/ordered-slices` order

A `.npy` file (application/octet-stream); `?compress` gives a `.npz` holding
it as `arr_0`. Grey pixels are rescaled to float32 modality values unless
`?rescale=false` (or `0`) keeps the stored values and type; colour pixels
are RGB bytes either way (`pacsbox.core.imaging.arrays`). Decoding takes a
rendering slot (PACSBOX_MAX_CONCURRENT_RENDERS) and at most
PACSBOX_MAX_PIXEL_DATA_SIZE bytes of pixels. Orthanc 1.10.1 answers 400 for
a frame past the instance's (pacsbox 404, as its other frame routes), and
500 for frames of different sizes in a series (pacsbox 409) or pixels it
cannot decode (pacsbox 415; it decodes JPEG 2000 and 32-bit pixels, which
Orthanc without plugins does not).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import anyio.to_thread
import numpy as np
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from pacsbox.core.errors import Conflict
from pacsbox.core.imaging import OCTET_STREAM
from pacsbox.core.imaging.arrays import decoded_frames
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.rendered import read_cache, render_slots
from pacsbox.pacs.rest.instances import check_frame
from pacsbox.pacs.rest.params import flag
from pacsbox.pacs.rest.slices import series_slice_order
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.reader import StoredInstance, find_instance_by_id, find_instances_of

__all__ = ["ARRAY_ROUTES"]


def _rescale(query: Mapping[str, str]) -> bool:
    """Orthanc's default is on: only `?rescale=false` or `?rescale=0` turns it off."""
    return "rescale" not in query or flag(query, "rescale")


def _numpy_file(array: np.ndarray, compress: bool) -> Response:
    out = io.BytesIO()
    if compress:
        np.savez_compressed(out, array)
    else:
        np.save(out, array)
    return Response(out.getvalue(), media_type=OCTET_STREAM)


async def _decoded(
    request: Request, settings: Settings, instances: list[StoredInstance], frame: int | None = None
) -> np.ndarray:
    """The frames of `instances` (or only `frame` of the one), stacked; off the event loop, in a render slot.

    Raises:
        Conflict: instances whose frames differ in size, samples or type.
    """
    rescale, cache = _rescale(request.query_params), read_cache(request, settings)

    def decode() -> np.ndarray:
        budget, parts = settings.limits.max_pixel_data_size, []
        for instance in instances:
            part = decoded_frames(instance.path, None if frame is None else [frame], rescale=rescale,
                                  max_size=budget, cache=cache)
            if parts and (part.shape[1:] != parts[0].shape[1:] or part.dtype != parts[0].dtype):
                raise Conflict(f"instance {instance.public_id} has frames of another size, samples or type than"
                               f" {instances[0].public_id}: they make no one array")
            budget -= part.nbytes
            parts.append(part)
        return np.concatenate(parts)

    async with render_slots(request, settings):
        return await anyio.to_thread.run_sync(decode)


@get("/instances/{public_id:str}/numpy", operation_id="GetInstanceNumpy")
async def get_instance_numpy(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str]
) -> Response:
    """Every frame of the instance, decoded."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    return _numpy_file(await _decoded(request, settings, [instance]), flag(request.query_params, "compress"))


@get("/instances/{public_id:str}/frames/{frame:int}/numpy", operation_id="GetInstanceFrameNumpy")
async def get_frame_numpy(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str], frame: FromPath[int]
) -> Response:
    """One frame of the instance (from 0), decoded."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    check_frame(instance, frame)
    array = await _decoded(request, settings, [instance], frame)
    return _numpy_file(array[0], flag(request.query_params, "compress"))


@get("/series/{public_id:str}/numpy", operation_id="GetSeriesNumpy")
async def get_series_numpy(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str]
) -> Response:
    """Every frame of the series in slice order, decoded."""
    order = await series_slice_order(public_id)
    stored = {i.public_id: i for i in await find_instances_of(store.storage.root, Level.SERIES, [public_id])}
    instances = [stored[item.public_id] for item in order.slices if item.public_id in stored]
    return _numpy_file(await _decoded(request, settings, instances), flag(request.query_params, "compress"))


ARRAY_ROUTES = [get_instance_numpy, get_frame_numpy, get_series_numpy]
