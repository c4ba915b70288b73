"""A file's decoded frames as one numpy array: (frames, rows, columns, samples), as Orthanc's `/numpy` gives them.

Grey frames are rescaled to modality values as float32 when asked (Orthanc's
default); colour frames are RGB as decoded, never rescaled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pacsbox.core.imaging.cache import ReadCache
from pacsbox.core.imaging.display import modality_values
from pacsbox.core.imaging.frames import FrameReader
from pacsbox.core.imaging.pixels import check_size

__all__ = ["decoded_frames"]


def decoded_frames(
    path: Path, indices: Sequence[int] | None, *, rescale: bool, max_size: int, cache: ReadCache | None = None
) -> np.ndarray:
    """Frames `indices` (from 0; None: every frame) of the file at `path`, decoded and stacked.

    Blocking (reads and decodes): run it off the event loop.

    Raises:
        PixelDataError: no pixel data, a frame past the file's, pixels that cannot be decoded, or more
            than `max_size` bytes of them.
    """
    with FrameReader(path, max_size=max_size, cache=cache) as reader:
        info = reader.info
        wanted = range(info.number_of_frames) if indices is None else indices
        check_size(info, len(wanted), max_size)
        frames = []
        for index in wanted:
            pixels = reader.decode(index)
            pixels = pixels[..., np.newaxis] if pixels.ndim == 2 else pixels
            if rescale and pixels.shape[-1] == 1:
                pixels = modality_values(pixels, reader.dataset, info).astype(np.float32)
            frames.append(pixels)
    return np.stack(frames)
