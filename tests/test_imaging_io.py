"""Micrograph readers on real microscope files: what a user would notice if it broke.

The vendor fixtures (rosettasciio's GPL-3.0 test data) are read in place from
../shared/data; zipped and gzipped ones are extracted to a temp folder, never into the repo.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from conftest import shared

from inference.errors import JobCancelled, UnreadableFile
from inference.imaging.display import display_range, to_display, to_rgb
from inference.imaging.io import (
    SUPPORTED_EXTENSIONS,
    count_frames,
    is_supported,
    read_micrograph,
)
from inference.imaging.micrograph import Micrograph
from inference.jobs import CancelToken

RSCIIO = ("microscope_formats", "rosettasciio")


def rsciio_file(*parts: str) -> Path:
    return shared(*RSCIIO, *parts)


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """Extract a zipped/gzipped fixture once per module; returns the extracted file."""
    folder = tmp_path_factory.mktemp("unpacked")

    def extract(*parts: str, member: str) -> Path:
        archive = rsciio_file(*parts)
        target = folder / member
        if not target.exists():
            if archive.suffix == ".gz":
                target.write_bytes(gzip.decompress(archive.read_bytes()))
            else:
                with zipfile.ZipFile(archive) as zf:
                    zf.extract(member, folder)
        return target

    return extract


def fei(unpacked, name: str) -> Path:
    return unpacked("tiff", "tiff_FEI_Helios.zip", member=name)


def zeiss(unpacked, name: str) -> Path:
    return unpacked("tiff", "tiff_Zeiss_SEM.zip", member=name)


def metres(micrograph: Micrograph) -> float:
    return micrograph.calibration.to("m").pixel_size


def unreadable(path: Path, frame: int = 0) -> str:
    """The message of the UnreadableFile that reading `path` must raise: one line."""
    with pytest.raises(UnreadableFile) as info:
        read_micrograph(path, frame)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert len(message) < 300
    return message


# ---- TIFF: vendor calibration -------------------------------------------------------------


@pytest.mark.parametrize("name", ["FEI-Helios-Ebeam-16bits.tif", "FEI-Helios-Ebeam-8bits.tif"])
def test_fei_helios_pixel_size_matches_its_metadata(unpacked, name):
    path = fei(unpacked, name)
    m = read_micrograph(path)
    with tifffile.TiffFile(path) as tif:
        md = tif.fei_metadata
    assert md is not None
    pixel_width = md["Scan"]["PixelWidth"]
    assert m.calibration.unit in ("nm", "µm")
    assert metres(m) == pytest.approx(pixel_width, rel=1e-6)
    # The field of view agrees: HFW over the scanned columns (µm range for this 120× image).
    assert metres(m) == pytest.approx(md["EBeam"]["HFW"] / md["Image"]["ResolutionX"], rel=1e-3)
    assert 1 < m.calibration.to("µm").pixel_size < 10
    assert m.metadata["HV"] == "5 kV" and "Helios" in m.metadata["microscope"]
    assert m.metadata["detector"] == "ETD (SE)"
    assert m.data.dtype == (np.uint16 if "16" in name else np.uint8)
    assert m.shape == (471, 512) and not m.is_rgb


def test_an_fei_scan_with_pixels_not_square_is_left_uncalibrated(unpacked, tmp_path):
    """The Helios image with its PixelHeight doubled (a scan stretched 2:1)."""
    data = fei(unpacked, "FEI-Helios-Ebeam-8bits.tif").read_bytes()
    assert data.count(b"PixelHeight=3.3724e-006") == 2  # [Scan] and [EScan]
    stretched = tmp_path / "stretched.tif"
    stretched.write_bytes(data.replace(b"PixelHeight=3.3724e-006", b"PixelHeight=6.7448e-006"))
    m = read_micrograph(stretched)
    assert not m.calibration.calibrated
    assert "(3.3724 µm wide, 6.7448 µm high)" in m.metadata["calibration"]
    assert m.metadata["scale refused"] == "pixels not square"  # no batch fallback for it


def test_fei_navcam_uses_the_ir_beam_field_width(unpacked):
    m = read_micrograph(fei(unpacked, "FEI-Helios-navcam.tif"))
    assert m.calibration.unit == "µm"
    assert m.calibration.pixel_size == pytest.approx(0.202732 / 768 * 1e6, rel=1e-6)


@pytest.mark.parametrize(
    "name",
    ["FEI-Helios-navcam-with-no-IRBeam.tif", "FEI-Helios-navcam-with-no-IRBeam-bad-floats.tif"],
)
def test_fei_without_a_field_width_opens_uncalibrated(unpacked, name):
    m = read_micrograph(fei(unpacked, name))
    assert not m.calibration.calibrated and m.calibration.unit == "px"
    assert m.metadata["format"] == "TIFF (FEI)"


def test_zeiss_1k_pixel_size_from_tag_34118(unpacked):
    path = zeiss(unpacked, "test_tiff_Zeiss_SEM_1k.tif")
    m = read_micrograph(path)
    with tifffile.TiffFile(path) as tif:
        sem = tif.sem_metadata
        assert sem is not None
        label, value, unit = sem["ap_pixel_size"]
    assert (label, unit) == ("Pixel Size", "µm")
    assert m.calibration.unit == "µm"
    assert m.calibration.pixel_size == pytest.approx(value, rel=1e-3)  # 2.615 µm
    assert m.metadata["microscope"] == "Merlin" and m.metadata["HV"] == "25.0 kV"


def test_zeiss_512_uses_its_own_field_width_not_the_1k_pixel_size(unpacked):
    """Zeiss' 'Pixel Size = 5.825 nm' refers to a 1024-wide store: 512 px over 5.965 µm is
    11.65 nm. rosettasciio (the reference reader) agrees."""
    from rsciio.tiff import file_reader

    path = zeiss(unpacked, "test_tiff_Zeiss_SEM_512pix.tif")
    m = read_micrograph(path)
    assert m.calibration.unit == "nm"
    assert m.calibration.pixel_size == pytest.approx(5965 / 512, rel=1e-3)
    axis = file_reader(str(path))[0]["axes"][-1]
    assert metres(m) == pytest.approx(axis["scale"], rel=1e-3)  # rsciio reports metres
    assert m.data.ndim == 2 and m.data.dtype == np.uint8  # grey palette kept as grey


def test_zeiss_multipage_frames(unpacked):
    path = zeiss(unpacked, "ZEISS_SEM_multipage.tif")
    assert count_frames(path) == 2
    first, second = read_micrograph(path, 0), read_micrograph(path, 1)
    assert first.n_frames == second.n_frames == 2 and second.frame == 1
    assert first.shape == second.shape == (1536, 2048)
    assert not np.array_equal(first.data, second.data)
    assert first.calibration.pixel_size == pytest.approx(25.24e3 / 2048, rel=1e-3)  # nm
    assert "frame 2 out of range (stack has 2 frames)" in unreadable(path, 2)


def test_imagej_with_scale_is_calibrated():
    m = read_micrograph(rsciio_file("tiff", "test_loading_image_saved_with_imageJ.tif"))
    assert m.calibration.unit == "µm" and m.calibration.source == "ImageJ"
    assert m.calibration.pixel_size == pytest.approx(1 / 5.928571, rel=1e-6)  # 0.16867 µm
    assert m.data.dtype == np.float32


def test_imagej_without_scale_is_in_pixels():
    m = read_micrograph(rsciio_file("tiff", "test_loading_image_saved_with_imageJ_no_scale.tif"))
    assert m.calibration.unit == "px" and not m.calibration.calibrated


def test_imagej_stack_frames():
    path = rsciio_file("tiff", "test_loading_image_saved_with_imageJ_stack.tif")
    assert count_frames(path) == 2
    assert read_micrograph(path, 1).calibration.pixel_size == pytest.approx(0.16867, rel=1e-4)


def test_tiff_saved_by_digitalmicrograph_keeps_its_scale():
    m = read_micrograph(rsciio_file("tiff", "test_loading_image_saved_with_DM.tif"))
    assert (m.calibration.unit, m.calibration.source) == ("µm", "DM tags")
    assert m.calibration.pixel_size == pytest.approx(0.16867, rel=1e-4)
    assert m.data.dtype == np.int32


def test_a_dm_saved_stack_with_pixels_not_square_is_left_uncalibrated_and_says_why():
    """Its pixels are 0.16867 µm wide and 1.6867 µm high (rosettasciio's width and height
    axes): one pixel size would make every area 10× wrong, so none is given, and the note
    names both sides the way rosettasciio reads them (x = width from tag 65009)."""
    from rsciio.tiff import file_reader

    path = rsciio_file("tiff", "test_loading_image_saved_with_DM_stack.tif")
    axes = {ax["name"]: ax for ax in file_reader(str(path))[0]["axes"]}
    width, height = axes["width"]["scale"], axes["height"]["scale"]
    assert height == pytest.approx(10 * width, rel=1e-3)
    for frame in (0, 1):
        m = read_micrograph(path, frame)
        assert not m.calibration.calibrated
        note = m.metadata["calibration"]
        assert "not square" in note
        assert f"{width:.5g} µm wide" in note and f"{height:.5g} µm high" in note


def test_an_imagej_tiff_with_pixels_not_square_is_left_uncalibrated(tmp_path):
    path = tmp_path / "stretched.tif"
    tifffile.imwrite(
        path, np.zeros((8, 8), np.uint8), imagej=True, resolution=(10, 5), metadata={"unit": "um"}
    )
    m = read_micrograph(path)
    assert not m.calibration.calibrated
    assert "0.1 µm wide, 0.2 µm high" in m.metadata["calibration"]
    square = tmp_path / "square.tif"
    tifffile.imwrite(
        square,
        np.zeros((8, 8), np.uint8),
        imagej=True,
        resolution=(10, 10),
        metadata={"unit": "um"},
    )
    assert read_micrograph(square).calibration.pixel_size == pytest.approx(0.1)


def test_olympus_sis_reads_the_raw_image_not_the_preview():
    m = read_micrograph(rsciio_file("tiff", "olympus_SIS.tif"))
    assert m.data.dtype == np.uint16 and m.data.ndim == 2
    assert metres(m) == pytest.approx(2.3928e-11, rel=1e-4)


def test_jeol_sightx_magnification_calibration(unpacked):
    mag = unpacked("tiff", "JEOL-SightX-TEM-mag-dummy.tif.gz", member="jeol_mag.tif")
    m = read_micrograph(mag)
    assert (m.calibration.unit, round(m.calibration.pixel_size, 4)) == ("nm", 1.8208)
    saed = unpacked("tiff", "JEOL-SightX-SAED-dummy.tif.gz", member="jeol_saed.tif")
    assert not read_micrograph(saed).calibration.calibrated  # reciprocal space


def test_a_72_dpi_tag_is_not_a_calibration(tmp_path):
    path = tmp_path / "screenshot.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(72, 72), resolutionunit=2)
    m = read_micrograph(path)
    assert not m.calibration.calibrated
    assert "ignored" in m.metadata["calibration"]


def test_a_physical_resolution_tag_is_a_calibration(tmp_path):
    path = tmp_path / "optical.tif"  # 20000 px/cm = 0.5 µm pixels, as optical cameras write
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(20000, 20000), resolutionunit=3)
    m = read_micrograph(path)
    assert m.calibration.source == "TIFF resolution tags"
    assert m.calibration.to("µm").pixel_size == pytest.approx(0.5)


def test_resolution_tags_with_pixels_not_square_are_not_a_calibration(tmp_path):
    """Pixels 50 nm wide and 100 nm high in the plain TIFF tags: the X tag alone was taken,
    and a 10 × 10 px square measured 250 000 nm² (it is 500 000 nm²)."""
    path = tmp_path / "stretched.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(2e5, 1e5), resolutionunit=3)
    m = read_micrograph(path)
    assert not m.calibration.calibrated
    assert "pixels are not square (50 nm wide, 100 nm high)" in m.metadata["calibration"]


def test_a_signal_whose_axes_have_different_units_is_not_taken_as_square():
    """x 1 nm a pixel and y 1 µm a pixel (as rosettasciio gives a file's axes): the numbers
    alone were compared, and the pixels taken for 1 nm squares."""
    from inference.imaging.signals import to_micrograph

    def axis(name: str, size: int, units: str) -> dict:
        return {"name": name, "size": size, "scale": 1.0, "offset": 0.0, "units": units}

    signal = {
        "data": np.zeros((20, 30), np.uint8),
        "axes": [axis("y", 20, "µm"), axis("x", 30, "nm")],
        "metadata": {"General": {"title": "HAADF"}, "Signal": {"signal_type": ""}},
    }
    m = to_micrograph([signal], Path("stretched.emd"), 0, "EMD", "EMD axes")
    assert not m.calibration.calibrated
    assert "pixels are not square (1 nm wide, 1000 nm high)" in m.metadata["calibration"]
    signal["axes"] = [axis("y", 20, "µm"), axis("x", 30, "µm")]
    square = to_micrograph([signal], Path("square.emd"), 0, "EMD", "EMD axes")
    assert square.calibration.to("µm").pixel_size == pytest.approx(1.0)


@pytest.mark.parametrize("group", ["EBC1", "Super1"])
def test_nasa_micronet_rgb_tiffs(group):
    folder = shared("segmentation", "nasa_micronet", group, "test")
    path = sorted(folder.glob("*.tif"))[0]
    m = read_micrograph(path)
    assert m.is_rgb and m.data.dtype == np.uint8 and m.data.shape[2] == 3
    assert to_display(m) is m.data  # uint8 passes through, no copy
    assert to_rgb(m).shape == (*m.shape, 3)


def test_lzw_tiff_opens_without_imagecodecs(tmp_path):
    from PIL import Image

    raw = (np.arange(64 * 48, dtype=np.uint16) * 13).reshape(48, 64)
    path = tmp_path / "camera.tif"
    Image.fromarray(raw).save(path, compression="tiff_lzw")
    m = read_micrograph(path)
    assert m.data.dtype == np.uint16 and np.array_equal(m.data, raw)


def test_rgba_stack_drops_alpha(unpacked):
    path = unpacked("tiff", "test_rgba16.zip", member="test_rgba16.tif")
    m = read_micrograph(path, 2)
    assert m.n_frames == 3 and m.data.shape == (128, 128, 3) and m.data.dtype == np.uint16
    assert to_display(m).dtype == np.uint8


# ---- Gatan DigitalMicrograph ---------------------------------------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        ("digitalmicrograph", "2D", "test_STEM_image.dm3"),
        ("digitalmicrograph", "2D", "multi_signal.dm3"),
        ("digitalmicrograph", "2D", "test-MonarcCL_mono-image.dm4"),
        ("digitalmicrograph", "Fei_HAADF-DE_location.dm3"),
        ("tiff", "test_dm_image_um_unit.dm3"),
    ],
)
def test_dm_images_get_the_calibration_rosettasciio_reports(parts):
    from rsciio.digitalmicrograph import file_reader

    path = rsciio_file(*parts)
    m = read_micrograph(path)
    reference = next(s for s in file_reader(str(path)) if s["data"].ndim == 2)
    x_axis = reference["axes"][-1]
    assert m.calibration.source == "DM"
    assert m.calibration.to(x_axis["units"]).pixel_size == pytest.approx(x_axis["scale"])
    assert m.data.dtype == reference["data"].dtype
    assert np.array_equal(m.data, reference["data"])


def test_dm_microscope_details_reach_the_metadata():
    m = read_micrograph(rsciio_file("digitalmicrograph", "2D", "test_STEM_image.dm3"))
    assert m.metadata["HV"] == "200 kV" and m.metadata["magnification"] == "225000×"
    assert m.calibration.unit == "nm" and m.calibration.pixel_size == pytest.approx(0.2485, 1e-3)


def test_dm_multi_signal_file_names_the_others():
    m = read_micrograph(rsciio_file("digitalmicrograph", "2D", "multi_signal.dm3"))
    assert m.title == "HAADF" and "Plot" in m.metadata["other signals"]


def test_dm_stack_frames():
    path = rsciio_file("digitalmicrograph", "test_stackbuilder_imagestack.dm3")
    assert count_frames(path) == 3
    frames = [read_micrograph(path, i) for i in range(3)]
    assert all(f.n_frames == 3 and f.shape == (2, 16) for f in frames)
    assert not np.array_equal(frames[0].data, frames[2].data)
    assert frames[2].frame == 2 and frames[2].calibration.unit == "nm"
    assert unreadable(path, 3).startswith("frame 3 out of range (stack has 3 frames)")


@pytest.mark.parametrize("name", ["test-EDS_spectrum.dm3", "test-EELS_spectrum.dm3"])
def test_dm_spectrum_is_refused_in_one_line(name):
    message = unreadable(rsciio_file("digitalmicrograph", "1D", name))
    assert message.startswith(name) and "is a spectrum" in message and "not an image" in message


def test_dm_spectrum_image_is_refused_in_one_line():
    message = unreadable(rsciio_file("digitalmicrograph", "3D", "EELS_SI.dm4"))
    assert "spectrum image" in message


def test_dm_complex_fft_keeps_raw_values_and_shows_magnitude():
    m = read_micrograph(rsciio_file("digitalmicrograph", "2D", "test_fft_packed_complex8.dm4"))
    assert m.is_complex and m.data.dtype == np.complex64
    np.testing.assert_array_equal(to_display(m), to_display(np.abs(m.data)))


def test_dm_diffraction_pattern_is_not_given_a_length_calibration():
    m = read_micrograph(rsciio_file("digitalmicrograph", "2D", "test_diffraction_pattern.dm3"))
    assert not m.calibration.calibrated
    assert "reciprocal" in m.metadata["calibration"]
    assert m.metadata["scale refused"] == "reciprocal space"  # no batch fallback for it


# ---- EMD and the other rosettasciio formats ------------------------------------------------


def test_velox_emd_stack_with_calibration():
    path = rsciio_file("emd", "fei_example_tem_stack.emd")
    m = read_micrograph(path, 1)
    assert (m.n_frames, m.frame, m.shape, m.data.dtype) == (2, 1, (3, 3), np.int16)
    assert metres(m) == pytest.approx(8.1729e-12, rel=1e-4)
    assert m.metadata["HV"] == "300 kV" and "Time" in m.metadata["frame axes"]
    assert not np.array_equal(m.data, read_micrograph(path, 0).data)


def test_velox_emd_with_several_signals_lists_the_others():
    m = read_micrograph(rsciio_file("emd", "fei_example_dpc_titles.emd"))
    assert m.calibration.unit == "pm" and m.calibration.pixel_size == pytest.approx(99.62, 1e-4)
    assert "iDPC" in m.metadata["other signals"] and "DF4-A" in m.metadata["other signals"]


def test_velox_emd_with_an_eds_spectrum_image_opens_its_haadf(tmp_path):
    with zipfile.ZipFile(rsciio_file("emd", "velox_emd_version11.zip")) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".emd"))
        path = Path(zf.extract(name, tmp_path))
    m = read_micrograph(path)
    assert m.title == "HAADF" and m.data.dtype == np.uint16
    assert m.calibration.unit == "nm" and m.calibration.pixel_size == pytest.approx(3.5992, 1e-4)
    assert "spectrum image" in m.metadata["not loaded"]
    assert "Cu" in m.metadata["other signals"]


def test_berkeley_emd_image_and_multi_frame_signal():
    plain = read_micrograph(rsciio_file("emd", "example_image.emd"))
    assert plain.shape == (3, 3) and plain.metadata["format"] == "EMD (Berkeley)"
    path = rsciio_file("emd", "Si100_2D_3D_DPC_potential_2slices.emd")
    m = read_micrograph(path, 3)
    assert m.n_frames == 4 and m.calibration.unit == "nm" and m.calibration.pixel_size == 0.25


@pytest.mark.parametrize(
    ("parts", "nm"),
    [
        (("mrc", "HAADFscan.mrc"), 5.6791),
        (("tia", "new", "128x128-TEM_search.emi"), 5.2612),
        (("tia", "old", "64x64_TEM_images_acquire_1.ser"), 6.2818),
    ],
)
def test_mrc_and_tia_images_are_calibrated(parts, nm):
    m = read_micrograph(rsciio_file(*parts))
    assert m.calibration.to("nm").pixel_size == pytest.approx(nm, rel=1e-4)


def test_tia_spectrum_is_refused():
    assert "is a spectrum" in unreadable(rsciio_file("tia", "old", "no_AcquireDate.emi"))


def test_hyperspy_file_with_microns():
    m = read_micrograph(shared("microscope_formats", "atomap", "example_detector_image.hspy"))
    assert m.calibration.unit == "nm" and m.calibration.pixel_size == pytest.approx(31.036, 1e-4)


@pytest.mark.parametrize("name", ["test_ADF_cropped.hdf5", "test_ABF_cropped.hdf5"])
def test_hyperspy_hdf5_opens_and_its_scale_without_a_unit_is_named_not_used(name):
    """HyperSpy wrote .hdf5 before .hspy (atomap's data still is): the window and Batch take it
    by its extension. Its axes have a scale (0.0093) but no unit, which is not a length."""
    path = shared("microscope_formats", "atomap", name)
    assert is_supported(path)
    m = read_micrograph(path)
    assert m.shape == (400, 380) and m.data.dtype == np.float16
    assert not m.calibration.calibrated
    assert m.metadata["calibration"] == "0.0093263 per pixel with no unit in the file: not used"


def test_an_hdf5_file_of_another_kind_is_refused_in_one_line():
    path = shared("microscope_formats", "kikuchipy_ebsd", "kikuchipy_h5ebsd", "patterns.h5")
    assert unreadable(path) == (
        "HDF5 file holds neither a HyperSpy signal nor EMD (Velox, Berkeley) data: patterns.h5"
    )


def test_every_shared_microscope_file_opens_or_says_why_in_one_line():
    """No traceback, whatever the file: the pane and the CLI show a single line."""
    folder = shared("microscope_formats")
    opened = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            m = read_micrograph(path)
        except UnreadableFile as exc:
            assert "\n" not in str(exc) and str(exc), path
        else:
            opened += 1
            assert to_display(m).dtype == np.uint8
    assert opened >= 30


# ---- plain images ---------------------------------------------------------------------------


def test_png_16_bit_stays_16_bit(tmp_path):
    import imageio.v3 as iio

    raw = np.linspace(0, 65535, 40 * 30).astype(np.uint16).reshape(30, 40)
    iio.imwrite(tmp_path / "a.png", raw)
    m = read_micrograph(tmp_path / "a.png")
    assert m.data.dtype == np.uint16 and np.array_equal(m.data, raw) and not m.is_rgb


def test_rgba_png_becomes_rgb_and_grey_palette_stays_grey(tmp_path):
    from PIL import Image

    rgba = np.random.default_rng(1).integers(0, 255, (10, 12, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert read_micrograph(tmp_path / "rgba.png").data.shape == (10, 12, 3)
    Image.fromarray(rgba[..., 0]).convert("P").save(tmp_path / "grey.png")
    assert read_micrograph(tmp_path / "grey.png").data.shape == (10, 12)


def test_jpeg_fixture_and_gif_frames(tmp_path):
    import imageio.v3 as iio

    assert read_micrograph(rsciio_file("image", "renishaw_wire.jpg")).is_rgb
    frames = np.zeros((3, 8, 8), np.uint8) + np.arange(3, dtype=np.uint8)[:, None, None]
    iio.imwrite(tmp_path / "s.gif", frames)
    assert count_frames(tmp_path / "s.gif") == 3
    assert read_micrograph(tmp_path / "s.gif", 2).frame == 2


def test_a_png_named_tif_is_read_by_its_content(tmp_path):
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "renamed.png", np.full((5, 6), 7, np.uint8))
    lying = tmp_path / "renamed.tif"
    (tmp_path / "renamed.png").rename(lying)
    assert read_micrograph(lying).data.shape == (5, 6)


# ---- bad input: one line each ---------------------------------------------------------------


def test_zero_byte_file(tmp_path):
    (tmp_path / "x.tif").write_bytes(b"")
    assert unreadable(tmp_path / "x.tif") == "empty file (0 bytes): x.tif"


def test_truncated_tiffs(tmp_path, unpacked):
    vendor = fei(unpacked, "FEI-Helios-Ebeam-16bits.tif").read_bytes()  # IFD at the end
    (tmp_path / "half_fei.tif").write_bytes(vendor[: len(vendor) // 2])
    assert unreadable(tmp_path / "half_fei.tif") == "not a TIFF file or truncated: half_fei.tif"
    tifffile.imwrite(tmp_path / "whole.tif", np.ones((300, 200), np.uint16))  # IFD first
    written = (tmp_path / "whole.tif").read_bytes()
    (tmp_path / "half.tif").write_bytes(written[: len(written) // 2])
    message = unreadable(tmp_path / "half.tif")  # the header is whole: it can say more
    assert message.startswith("half.tif is a damaged TIFF file: its pixel data would run 60,128")
    assert "cut short" in message


def test_text_file_renamed_tif(tmp_path):
    (tmp_path / "notes.tif").write_text("sample 3, 20 kV, 5000x\n")
    assert unreadable(tmp_path / "notes.tif") == "not a TIFF file or truncated: notes.tif"


def test_unknown_extension(tmp_path):
    (tmp_path / "scan.xyz").write_text("1 2 3\n")
    message = unreadable(tmp_path / "scan.xyz")
    assert message.startswith("unsupported format '.xyz' (MatLens reads TIFF, PNG, JPEG")
    assert "DM3, DM4, EMD" in message


def test_zero_pixel_image(tmp_path):
    with pytest.warns(UserWarning):  # tifffile says it is writing a nonconformant file
        tifffile.imwrite(tmp_path / "empty.tif", np.zeros((0, 0), np.uint8))
    assert unreadable(tmp_path / "empty.tif").startswith("image has zero pixels")


def test_missing_file_and_folder(tmp_path):
    assert unreadable(tmp_path / "gone.tif").startswith("file not found")
    (tmp_path / "folder.tif").mkdir()
    assert unreadable(tmp_path / "folder.tif") == "is a folder, not a file: folder.tif"


def test_truncated_png(tmp_path):
    import imageio.v3 as iio

    iio.imwrite(
        tmp_path / "full.png", np.random.default_rng(2).integers(0, 255, (64, 64), np.uint8)
    )
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert unreadable(tmp_path / "cut.png") == "not a PNG file or truncated: cut.png"


def test_a_dm3_named_tif_is_read_by_its_content(tmp_path):
    source = rsciio_file("digitalmicrograph", "2D", "test_STEM_image.dm3")
    (tmp_path / "export.tif").write_bytes(source.read_bytes())
    assert read_micrograph(tmp_path / "export.tif").metadata["format"] == "DM3"


def test_truncated_dm_and_emd(tmp_path):
    good = rsciio_file("digitalmicrograph", "2D", "test_STEM_image.dm3").read_bytes()
    (tmp_path / "cut.dm3").write_bytes(good[: len(good) // 2])
    assert unreadable(tmp_path / "cut.dm3") == "not a DM file or truncated: cut.dm3"
    good = rsciio_file("emd", "fei_example_tem_stack.emd").read_bytes()
    (tmp_path / "cut.emd").write_bytes(good[: len(good) // 2])
    assert unreadable(tmp_path / "cut.emd") == "not an EMD file or truncated: cut.emd"


# ---- display ----------------------------------------------------------------------------------


def test_16_bit_stretch_spreads_while_raw_data_keeps_its_dtype():
    raw = np.random.default_rng(0).normal(2000, 150, (300, 400)).astype(np.uint16)
    m = Micrograph(raw.copy())
    shown = to_display(m)
    assert shown.dtype == np.uint8 and shown.min() <= 2 and shown.max() >= 253
    assert m.data.dtype == np.uint16 and np.array_equal(m.data, raw)


def test_real_16_bit_sem_image_stretches(unpacked):
    m = read_micrograph(fei(unpacked, "FEI-Helios-Ebeam-16bits.tif"))
    shown = to_display(m)
    assert shown.min() <= 2 and shown.max() >= 253 and m.data.dtype == np.uint16


def test_constant_nan_and_float_images_do_not_break_the_stretch():
    with np.errstate(all="raise"):
        assert not to_display(np.full((5, 5), 1234, np.uint16)).any()
        assert not to_display(np.full((5, 5), 3.5, np.float32)).any()
    image = np.linspace(-1, 1, 100, dtype=np.float32).reshape(10, 10)
    image[0, :3] = [np.nan, np.inf, -np.inf]
    shown = to_display(image)
    assert shown[0, 0] == 0 and shown[0, 1] == 255 and shown[0, 2] == 0
    assert shown.max() == 255 and shown[5:].min() > 100
    assert not to_display(np.full((4, 4), np.nan)).any()


def test_sparse_image_falls_back_to_min_max():
    spots = np.zeros((200, 200), np.int32)
    spots[100, 100] = 5000  # a diffraction spot: every percentile is 0
    assert display_range(spots) == (0.0, 5000.0)
    assert to_display(spots)[100, 100] == 255


def test_to_rgb_gives_three_channels():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = to_rgb(grey)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8 and (rgb[..., 2] == grey).all()


# ---- large files, progress, cancel ------------------------------------------------------------


@pytest.mark.slow
def test_8k_16_bit_tiff_opens_without_extra_copies(tmp_path):
    path = tmp_path / "big.tif"
    big = np.zeros((8192, 8192), np.uint16)
    big[::7, ::5] = 4000
    tifffile.imwrite(path, big)
    del big
    tracemalloc.start()
    start = time.perf_counter()
    m = read_micrograph(path)
    read_s = time.perf_counter() - start
    peak_read = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    start = time.perf_counter()
    shown = to_display(m)
    display_s = time.perf_counter() - start
    peak_display = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"\n8192² uint16: read {read_s:.3f} s, peak {peak_read / 1e6:.0f} MB; "
        f"display {display_s:.3f} s, peak {peak_display / 1e6:.0f} MB"
    )
    assert m.shape == (8192, 8192) and m.data.dtype == np.uint16
    assert shown.shape == (8192, 8192) and shown.max() == 255
    assert peak_read < 1.5 * m.data.nbytes  # the frame itself, not a second copy


def test_progress_and_cancel(tmp_path):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8))
    seen: list[float] = []
    read_micrograph(path, progress=lambda f, msg="": seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        read_micrograph(path, cancel=token)


def test_supported_extensions_route_drag_and_drop():
    for ext in (".tif", ".tiff", ".png", ".jpg", ".bmp", ".dm3", ".dm4", ".emd"):
        assert ext in SUPPORTED_EXTENSIONS
    assert is_supported("A.TIF") and is_supported("b.dm4") and not is_supported("c.cif")


# ---- damaged headers: refused in one line, never decoded as garbage ------------------------------


def _flip_entry(data: bytes, tag: int, xor: int) -> bytes:
    """The first IFD entry `tag`'s value with `xor` applied to its low byte (little-endian TIFF)."""
    import struct

    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        start = ifd + 2 + 12 * i
        if struct.unpack("<H", data[start : start + 2])[0] == tag:
            mutated = bytearray(data)
            mutated[start + 8] ^= xor
            return bytes(mutated)
    raise AssertionError(f"tag {tag} not found")


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        (256, "promises 767 × 512 pixels"),  # width 512 -> 767
        (257, "strip table does not fit"),  # height 512 -> 767
        (273, "past the end of the file"),  # strip offset
        (277, "promises 512 × 512 pixels of 252 samples"),  # samples per pixel 3 -> 252
    ],
)
def test_a_flipped_header_byte_is_a_damaged_tiff_not_garbage(tmp_path, tag, words):
    sample = Path(__file__).resolve().parents[1] / "resources/samples/superalloy_precipitates.tif"
    path = tmp_path / f"flip{tag}.tif"
    path.write_bytes(_flip_entry(sample.read_bytes(), tag, 0xFF))
    message = unreadable(path)
    assert message.startswith(f"flip{tag}.tif is a damaged TIFF file: ") and words in message
    assert "copy it again" in message


def test_strips_missing_for_a_taller_image_are_not_padded_with_zeros(tmp_path):
    """RGBA in four strips, height 512 -> 767: tifffile alone returns 767 rows, 255 of them zero."""
    source = shared("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_4_mask.tif")
    path = tmp_path / "taller.tif"
    path.write_bytes(_flip_entry(source.read_bytes(), 257, 0xFF))
    assert "strip table does not fit its size of 512 × 767 pixels" in unreadable(path)


def test_zero_samples_per_pixel_is_one_clear_line(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "resources/samples/superalloy_precipitates.tif"
    path = tmp_path / "zero.tif"
    path.write_bytes(_flip_entry(sample.read_bytes(), 277, 0x03))  # 3 -> 0
    message = unreadable(path)  # tifffile itself trips over it (IndexError)
    assert message.startswith("zero.tif is a damaged TIFF file: its image header holds impossible")


def test_harmless_flips_still_open_with_their_pixels(tmp_path):
    """Description, resolution, software, and an uncompressed strip's rows per strip or byte
    count that overshoot: the pixels are all there, so the image opens unchanged."""
    sample = Path(__file__).resolve().parents[1] / "resources/samples/superalloy_precipitates.tif"
    original = read_micrograph(sample).data
    for tag in (270, 282, 305, 278, 279):
        path = tmp_path / f"flip{tag}.tif"
        path.write_bytes(_flip_entry(sample.read_bytes(), tag, 0xFF))
        assert np.array_equal(read_micrograph(path).data, original), tag


def test_a_cut_mrc_says_cut_short_not_mmap(tmp_path):
    data = rsciio_file("mrc", "HAADFscan.mrc").read_bytes()
    (tmp_path / "cut.mrc").write_bytes(data[:-1])
    message = unreadable(tmp_path / "cut.mrc")
    assert message.startswith("cut.mrc is a damaged MRC file: its header promises 16 × 16 × 1")
    assert "cut short" in message and "mmap" not in message
    huge = bytearray(data)
    huge[0:8] = (50000).to_bytes(4, "little") * 2
    (tmp_path / "huge.mrc").write_bytes(bytes(huge))
    assert "promises 50000 × 50000 × 1 pixels" in unreadable(tmp_path / "huge.mrc")


@pytest.mark.parametrize(
    ("parts", "offset"),
    [
        (("digitalmicrograph", "2D", "test_STEM_image.dm3"), 331),  # was "KeyError: -16777208"
        (("emd", "example_image.emd"), 173),  # was "RuntimeError: ... addr overflow"
        (("tia", "new", "128x128-TEM_search_1.ser"), 59),  # was "IndexError: index 0 ..."
    ],
)
def test_what_a_library_cannot_parse_is_one_sentence_without_its_words(tmp_path, parts, offset):
    data = bytearray(rsciio_file(*parts).read_bytes())
    data[offset] ^= 0xFF
    path = tmp_path / f"flipped{Path(parts[-1]).suffix}"
    path.write_bytes(bytes(data))
    try:
        read_micrograph(path)
    except UnreadableFile as exc:
        message = str(exc)
        assert message.startswith(f"{path.name} ") and "Error" not in message
        assert "damaged" in message and "\n" not in message
    # A flip that misses everything that matters may still read: that is fine too.


def test_a_cut_ser_file_is_one_sentence(tmp_path):
    data = rsciio_file("tia", "new", "128x128-TEM_search_1.ser").read_bytes()
    (tmp_path / "cut.ser").write_bytes(data[: len(data) // 2])
    message = unreadable(tmp_path / "cut.ser")
    assert message.startswith("cut.ser could not be read as TIA: the file is damaged")
    assert "array element" not in message


# ---- memory: big images open, impossible ones are refused up front --------------------------------


def test_matlens_own_16000_square_png_opens(tmp_path):
    """Pillow's 179-megapixel "decompression bomb" limit refused MatLens's own exports."""
    import imageio.v3 as iio

    big = np.zeros((16000, 16000), np.uint8)
    big[::1000, :] = 255
    iio.imwrite(tmp_path / "labels.png", big)
    del big
    image = read_micrograph(tmp_path / "labels.png")
    assert image.shape == (16000, 16000) and image.data[1000, 5] == 255


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_an_image_too_large_for_the_memory_left_is_refused_in_one_line(
    tmp_path, monkeypatch, suffix
):
    import imageio.v3 as iio

    path = tmp_path / f"scan{suffix}"
    iio.imwrite(path, np.zeros((4000, 3000), np.uint16 if suffix == ".tif" else np.uint8))
    monkeypatch.setenv("MATLENS_MEMORY_LIMIT", "20M")
    message = unreadable(path)
    assert message.startswith(f"scan{suffix} is 3,000 × 4,000 pixels")
    assert "too large for the 20 MB of memory free" in message
    side = int(message.split("up to about ")[1].split(" ×")[0].replace(",", ""))
    per_pixel = 7 if suffix == ".tif" else 5  # raw + working copy + 8-bit RGB
    assert abs(side * side * per_pixel - 20 * 2**20) < 0.01 * 20 * 2**20
    monkeypatch.setenv("MATLENS_MEMORY_LIMIT", "200M")
    assert read_micrograph(path).shape == (4000, 3000)


def test_a_header_claiming_ten_gigapixels_is_refused_before_decoding(tmp_path):
    import struct
    import zlib

    import imageio.v3 as iio

    png = iio.imwrite("<bytes>", np.zeros((8, 8), np.uint8), extension=".png")
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", 100_000, 100_000)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    (tmp_path / "liar.png").write_bytes(png[:16] + bytes(ihdr) + crc + png[33:])
    tracemalloc.start()
    try:
        message = unreadable(tmp_path / "liar.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.startswith("liar.png is 100,000 × 100,000 pixels") or "not a PNG" in message
    assert peak < 100_000_000


def test_rosettasciio_log_lines_stay_out_of_the_commands_output(tmp_path):
    """A TIA file without an acquisition date: rosettasciio printed a coloured "WARNING |
    RosettaSciIO | AcquireDate not found …" on stdout (where `--json` output goes) before
    MatLens's one line."""
    from cli_harness import run_matlens

    emi = shared("microscope_formats", "rosettasciio", "tia", "old", "no_AcquireDate.emi")
    run = run_matlens("segment", emi, "--point", "5,5", "--out", tmp_path / "mask.png")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "matlens: no_AcquireDate.emi is a spectrum, not an image\n"
