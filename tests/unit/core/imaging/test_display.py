"""Display pipeline: modality LUT, windows, VOI LUT, MONOCHROME1, palettes, viewports."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import (
    ImageType,
    PixelInfo,
    Viewport,
    VoiFunction,
    Window,
    display_pixels,
    encode_image,
)


def header(**attributes: object) -> Dataset:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 1, 5, 1
    ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation = 16, 16, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.set_original_encoding(False, True)
    return ds


def show(values: list[int], window: Window | None = None, **attributes: object) -> list[int]:
    ds = header(**attributes)
    pixels = np.array([values], np.int16)
    return display_pixels(pixels, ds, PixelInfo.of(ds), window).ravel().tolist()


def test_linear_window_follows_the_standard_formula() -> None:
    # centre 100, width 21: values <= 89.5 are black, values > 109.5 are white (PS3.3 C.11.2.1.2.1)
    assert show([89, 90, 100, 109, 110], Window(100, 21)) == [0, 6, 134, 249, 255]


def test_window_applies_to_rescaled_values_and_file_windows_are_used() -> None:
    assert show([0, 50, 100, 150, 200], RescaleSlope=2, RescaleIntercept=-200, WindowCenter=0, WindowWidth=401) == [
        0, 64, 128, 192, 255,
    ]


def test_monochrome1_is_inverted_and_sigmoid_is_smooth() -> None:
    assert show([0, 100, 200, 300, 400], Window(200, 400, VoiFunction.LINEAR_EXACT), PhotometricInterpretation="MONOCHROME1") == [
        255, 191, 127, 64, 0,
    ]
    sigmoid = show([0, 100, 200, 300, 400], Window(200, 200, VoiFunction.SIGMOID))
    assert sigmoid == sorted(sigmoid) and sigmoid[2] == 128 and 0 < sigmoid[0] < 10


def test_a_broken_file_window_falls_back_to_the_frame_range() -> None:
    assert show([10, 20, 30, 40, 50], WindowCenter=30, WindowWidth=0) == [0, 64, 128, 191, 255]


def test_voi_lut_sequence_is_applied() -> None:
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]
    item.LUTData = [0, 10, 200, 255]
    assert show([0, 1, 2, 3, 9], VOILUTSequence=[item]) == [0, 10, 200, 255, 255]


@pytest.mark.parametrize("window", [(40, 0.5, VoiFunction.LINEAR), (40, 0, VoiFunction.SIGMOID), (float("nan"), 10)])
def test_impossible_windows_are_refused(window: tuple) -> None:
    with pytest.raises(ValueError):
        Window(*window)


def palette(entries: int, data: bytes) -> Dataset:
    ds = header(PhotometricInterpretation="PALETTE COLOR", BitsAllocated=8, BitsStored=8, PixelRepresentation=0)
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [entries, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", data)
    return ds


def test_palette_maps_stored_values_to_rgb() -> None:
    ds = palette(3, np.array([0, 0x8000, 0xFF00], "<u2").tobytes())
    shown = display_pixels(np.array([[0, 1, 2, 7, 0]], np.uint8), ds, PixelInfo.of(ds))
    assert shown.shape == (1, 5, 3)
    assert shown[0, :, 0].tolist() == [0, 128, 255, 255, 0]


def test_palette_shorter_than_its_descriptor_is_refused() -> None:
    ds = palette(256, bytes(20))
    with pytest.raises(PixelDataError, match="announces 256"):
        display_pixels(np.zeros((1, 5), np.uint8), ds, PixelInfo.of(ds))


def test_viewport_fits_keeping_aspect_and_region_flips() -> None:
    pixels = np.tile(np.arange(80, dtype=np.uint8), (40, 1))
    fitted = Image.open(io.BytesIO(encode_image(pixels, ImageType.PNG, viewport=Viewport(20, 20))))
    assert fitted.size == (20, 10)
    flipped = np.asarray(Image.open(io.BytesIO(encode_image(pixels, ImageType.PNG, viewport=Viewport(10, 10, (10, 0, -10, 10))))))
    assert flipped[0].tolist() == list(range(9, -1, -1))
    with pytest.raises(ValueError):
        Viewport(0, 10)



@pytest.mark.parametrize("window", [Window(0, 2), Window(-1000, 400), Window(0, 65536, VoiFunction.LINEAR_EXACT), None])
def test_the_widest_signed_span_looks_up_what_direct_computation_gives(window: Window | None) -> None:
    # -32768 .. 32767: offsets from the minimum fill the whole unsigned 16-bit range
    ds = header(Columns=7, RescaleSlope=2, RescaleIntercept=-1024)
    values = np.array([[-32768, -1200, -1, 0, 1, 900, 32767]], np.int16)
    looked_up = display_pixels(values, ds, PixelInfo.of(ds), window)
    computed = display_pixels(values.astype(np.float64), ds, PixelInfo.of(ds), window)
    assert looked_up.tolist() == computed.tolist()


def test_grey_jpegs_look_as_pillow_writes_them_at_each_quality() -> None:
    grey = (np.add.outer(np.arange(64), np.arange(48)) * 3 % 256).astype(np.uint8)
    sizes = []
    for quality in (10, 50, 90):
        data = encode_image(grey, ImageType.JPEG, quality=quality)
        ours = Image.open(io.BytesIO(data))
        theirs = io.BytesIO()
        Image.fromarray(grey).save(theirs, format="JPEG", quality=quality)
        assert (ours.format, ours.mode, ours.size) == ("JPEG", "L", (48, 64))
        assert np.array_equal(np.asarray(ours), np.asarray(Image.open(theirs)))
        sizes.append(len(data))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # the quality is honoured
