"""Rendered resources and thumbnails (PS3.18 8.3.5, 10.4.1.1.3): JPEG or PNG images of stored pixels.

    GET /pacs/studies/{study}[/series/{series}[/instances/{instance}[/frames/{list}]]]/rendered
    GET the same paths ending in /thumbnail
    query: quality=1..100, viewport=vw,vh[,sx,sy,sw,sh], window=center,width[,linear|linear-exact|sigmoid]

A rendered study or series is every instance with pixel data (its first
frame); a rendered instance is each of its frames. The body is one image
when the client accepts a bare image type (the first of those targets), or a
multipart/related of images when it asks for one. A thumbnail is always one
image, of the middle target, at most 128 pixels a side unless a viewport
says otherwise. Decoding runs in worker threads, at most
PACSBOX_MAX_CONCURRENT_RENDERS at a time; parsed headers and decoded frames
are shared with WADO-RS frames through the app's `read_cache`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from pacsbox.core.errors import NotAcceptable, NotFound
from pacsbox.core.imaging import ImageType, RenderOptions, Viewport, render_frame
from pacsbox.core.imaging.cache import ReadCache
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.media import MediaRange, accepted, not_acceptable
from pacsbox.pacs.dicomweb.responses import multipart_response
from pacsbox.pacs.dicomweb.params import parse_frame_numbers, render_options
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.pixel_data import count_frames
from pacsbox.pacs.store.reader import StoredInstance, find_instances
from pacsbox.pacs.store.retrieve import Payload, has_pixel_data

__all__ = ["RenderedController", "read_cache", "render_slots", "rendered_image"]

THUMBNAIL = Viewport(128, 128)


def render_slots(request: Request, settings: Settings) -> asyncio.Semaphore:
    """The app's semaphore bounding concurrent decodes (PACSBOX_MAX_CONCURRENT_RENDERS)."""
    state = request.app.state
    if "render_slots" not in state:
        state.render_slots = asyncio.Semaphore(max(1, settings.storage.max_concurrent_renders))
    return state.render_slots


def read_cache(request: Request, settings: Settings) -> ReadCache:
    """The app's parsed headers and decoded frames of stored files, shared by frames and renderings."""
    state = request.app.state
    if "read_cache" not in state:
        state.read_cache = ReadCache(settings.storage.header_cache_entries, settings.storage.decoded_frame_cache_size)
    return state.read_cache


def _image_type(ranges: list[MediaRange]) -> tuple[ImageType, bool | None]:
    """The image type to produce and whether the client asked for multipart (None: either)."""
    for r in ranges:
        for kind in ImageType:
            if r.allows(kind):
                return kind, r.multipart
    raise not_acceptable(ranges, "a rendered image (image/jpeg or image/png)")


def rendered_image(
    instance: StoredInstance, index: int, options: RenderOptions, slots: asyncio.Semaphore, max_size: int,
    cache: ReadCache | None = None,
) -> Callable[[], Awaitable[bytes]]:
    """A coroutine function rendering frame `index` of `instance` once a render slot is free."""

    async def produce() -> bytes:
        async with slots:
            return await anyio.to_thread.run_sync(
                lambda: render_frame(instance.path, index, options, max_size=max_size, cache=cache)
            )

    return produce


def _targets(instances: list[StoredInstance], frames: list[int] | None, *, frame_count: int | None) -> list[tuple[StoredInstance, int]]:
    """(instance, frame index) pairs to render: frames of one instance (`frame_count`, checked against its
    pixel data), or the first frame of each imaged one."""
    if frames is not None:
        count = instances[0].number_of_frames
        if max(frames) > count:
            raise NotFound(f"instance {instances[0].sop_uid} has {count} frame(s): no frame {max(frames)}")
        return [(instances[0], n - 1) for n in frames]
    if frame_count is not None:
        return [(instances[0], n) for n in range(frame_count)]
    imaged = [i for i in instances if has_pixel_data(i)]
    if not imaged:
        raise NotAcceptable("none of these instances has pixel data to render")
    return [(i, 0) for i in imaged]


_TARGETS = [
    "",
    "/series/{series:str}",
    "/series/{series:str}/instances/{instance:str}",
    "/series/{series:str}/instances/{instance:str}/frames/{frames:str}",
]
"""Study, series, instance and frames paths below the controller's study path."""


class RenderedController(Controller):
    """`/rendered` and `/thumbnail` at every level."""

    path = "/studies/{study:str}"
    tags = ("WADO-RS rendered",)

    @get(
        [f"{target}/{kind}" for target in _TARGETS for kind in ("rendered", "thumbnail")],
        operation_id="RetrieveRendered",
    )
    async def rendered(
        self, request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
        study: FromPath[str], series: FromPath[str | None] = None, instance: FromPath[str | None] = None,
        frames: FromPath[str | None] = None
    ) -> Response:
        """Rendered images of the study, series, instance or frames; or one small thumbnail of them."""
        thumbnail = request.url.path.endswith("/thumbnail")
        numbers = parse_frame_numbers(frames) if frames is not None else None
        kind, multipart = _image_type(accepted(request.headers.getall("accept", [])))
        options = render_options(request.query_params, kind, THUMBNAIL if thumbnail else None)
        found = await find_instances(store.storage.root, study, series, instance, with_metadata=instance is None)
        slots, limit = render_slots(request, settings), settings.limits.max_pixel_data_size
        cache = read_cache(request, settings)
        count = None
        if instance is not None and numbers is None:  # every frame: never trust the header's count alone
            count = 1  # one frame: its rendering checks it is there
            if found[0].number_of_frames > 1:
                count = await anyio.to_thread.run_sync(lambda: count_frames(found[0], max_size=limit, cache=cache))
        targets = _targets(found, numbers, frame_count=count)
        if thumbnail:
            targets = [targets[len(targets) // 2]]
        if multipart is True or (multipart is None and len(targets) > 1):
            images = [Payload(kind.value, rendered_image(i, n, options, slots, limit, cache)) for i, n in targets]
            return await multipart_response(images, kind.value)
        first, index = targets[0]
        return Response(await rendered_image(first, index, options, slots, limit, cache)(), media_type=kind.value)
