"""How numbers and pictures are shown: plain numbers with units, a scale bar on the overlay
pictures (report, batch), only the classes that were used."""

from __future__ import annotations

import base64
import math
import re

import imageio.v3 as iio
import numpy as np
import pytest
from test_annotations import CAL, blank_set, square

from inference.imaging.calibration import Calibration
from inference.segmentation.annotations import AnnotatedObject
from inference.segmentation.numbers import (
    column_name,
    format_number,
    format_percent,
    format_quantity,
)
from inference.segmentation.overlay import overlay_image
from inference.segmentation.report import write_report
from inference.segmentation.scale_bar import choose_scale_bar, draw_scale_bar


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (27640, "27,640"),  # a pixel count: exact, never 2.764e+04
        (np.int64(27640), "27,640"),
        (27639.6, "27,640"),
        (1.1349, "1.13"),
        (0.000123456, "0.000123"),
        (0.9996, "1.00"),
        (99.96, "100"),
        (-0.5, "-0.500"),
        (0.0, "0"),
        (123456789.0, "123,456,789"),
        (math.nan, "–"),
        (None, "–"),
        (math.inf, "–"),
    ],
)
def test_numbers_in_plain_notation(value, text):
    assert format_number(value) == text
    assert "e+" not in format_number(value) and "e-" not in format_number(value)


def test_quantities_percentages_and_column_names():
    assert format_quantity(27640, "px²") == "27,640 px²"
    assert format_quantity(1.1349, "µm²") == "1.13 µm²"
    assert format_quantity(None, "µm") == "–"
    assert format_quantity(0.1, "µm", 4, trim=True) == "0.1 µm"
    assert format_percent(0.0004) == "0.0400 %" and format_percent(0.132) == "13.2 %"
    assert column_name("area_{a}", CAL) == "area_µm²"
    assert column_name("perimeter_{u}", Calibration()) == "perimeter_px"


@pytest.mark.parametrize(
    ("pixel_size", "unit", "width", "length", "shown_unit", "label"),
    [
        (0.05, "µm", 512, 5, "µm", "5 µm"),  # a fifth of 25.6 µm is 5.12: 5 µm
        (0.001, "µm", 512, 100, "nm", "100 nm"),  # 0.1 µm reads 100 nm
        (2.5, "nm", 1024, 500, "nm", "500 nm"),
        (0.3, "mm", 2000, 100, "mm", "100 mm"),
        (17.7516, "pm", 512, 1, "nm", "1 nm"),  # multi_signal.dm3's STEM: not "1,000 pm"
        (31.0365, "nm", 512, 2, "µm", "2 µm"),  # atomap's detector image: not "2,000 nm"
    ],
)
def test_the_scale_bar_is_a_round_length_near_a_fifth_of_the_width(
    pixel_size, unit, width, length, shown_unit, label
):
    bar = choose_scale_bar(Calibration(pixel_size, unit), width)
    assert bar is not None
    assert (bar.length, bar.unit, bar.label) == (length, shown_unit, label)
    assert bar.length_px == pytest.approx(
        length / Calibration(pixel_size, unit).to(shown_unit).pixel_size
    )
    assert 0.08 * width < bar.length_px <= 0.2 * width  # 1-2-5 steps: within 2.5× below
    assert choose_scale_bar(Calibration(), width) is None  # uncalibrated: no bar


def white_bar_length(picture: np.ndarray) -> int:
    """The longest run of white pixels in a row of the bottom-right corner."""
    corner = (picture[-60:, -260:] == 255).all(axis=2)
    best = 0
    for row in corner:
        padded = np.concatenate(([0], row.astype(int), [0]))
        edges = np.flatnonzero(np.diff(padded))
        if edges.size:
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


def test_draw_scale_bar_in_place_with_its_length_in_pixels():
    grey = np.full((512, 512, 3), 128, np.uint8)
    out = draw_scale_bar(grey, Calibration(0.05, "µm"))
    assert out is grey  # drawn in place: a 16000 px picture is not copied
    assert white_bar_length(out) == 100  # 5 µm at 0.05 µm per pixel
    assert (out[:400] == 128).all()  # only the corner changed
    plain = np.full((64, 64, 3), 128, np.uint8)
    assert (draw_scale_bar(plain, Calibration()) == 128).all()


def test_the_overlay_is_drawn_from_crops_at_any_step():
    s = blank_set((100, 200))
    s.calibration = Calibration(0.1, "µm")
    s.add(square(1, 10, 10, 30, "pore"))
    s.add(AnnotatedObject(2, "grain", np.eye(40, dtype=bool), (50, 120)))
    hidden = s.add(square(3, 60, 20, 20, "pore"))
    s.set_visible(hidden.id, False)
    rgb = np.full((100, 200), 100, np.uint8)
    full = overlay_image(rgb, s, scale_bar=False)
    assert full.shape == (100, 200, 3)
    assert tuple(full[25, 25]) != (100, 100, 100)  # inside the pore: tinted
    assert tuple(full[10, 10]) == s.class_named("pore").colour  # its outline in full colour
    assert tuple(full[70, 30]) == (100, 100, 100)  # hidden: not drawn
    preview = overlay_image(rgb, s, step=4, scale_bar=False)
    assert preview.shape == (25, 50, 3)
    changed = (full[::4, ::4] != 100).any(axis=2)
    assert np.array_equal((preview != 100).any(axis=2), changed)
    with_bar = overlay_image(rgb, s)
    assert white_bar_length(with_bar) == 20  # a fifth of 20 µm is 4 µm: a 2 µm bar, 20 px


def embedded_png(html: str) -> np.ndarray:
    found = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert found, "no embedded PNG"
    return iio.imread(base64.b64decode(found.group(1)))


def test_the_report_shows_used_classes_plain_numbers_and_a_scale_bar(tmp_path):
    s = blank_set((600, 600))
    s.calibration = CAL
    for i in range(12):
        s.add(square(s.next_id(), 40 * i + 5, 40 * i + 5, 30 + i, "precipitate"))
    html = write_report(s, np.full((600, 600), 90, np.uint8), tmp_path / "r.html").read_text(
        "utf-8"
    )
    assert "<td>precipitate</td><td>12</td>" in html
    for unused in ("grain", "pore", "crack", "matrix"):
        assert f"<td>{unused}</td>" not in html
    assert not re.search(r"\d[eE][+-]\d", html.split("<svg")[0])  # no scientific notation
    assert "600 × 600 px · 0.05 µm per pixel" in html
    picture = embedded_png(html)
    assert white_bar_length(picture) == 100  # 5 µm at 0.05 µm per pixel


def test_the_report_picture_keeps_its_scale_bar_off_an_fei_data_bar(tmp_path, capsys):
    """`matlens measure --report` on a Helios image: its bottom 29 rows are the microscope's
    data bar (its own 500 µm bar, HV, mag); the report's bar goes in the corner above them, and
    the report says its fractions leave the data bar out."""
    import zipfile

    from conftest import shared

    from inference import cli
    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph

    zipped = shared("microscope_formats", "rosettasciio", "tiff", "tiff_FEI_Helios.zip")
    with zipfile.ZipFile(zipped) as archive:
        image = archive.extract("FEI-Helios-Ebeam-8bits.tif", tmp_path)
    labels = np.zeros((471, 512), np.uint16)
    labels[100:140, 100:140] = 1
    iio.imwrite(tmp_path / "labels.png", labels)
    report = tmp_path / "report.html"
    args = ["measure", image, str(tmp_path / "labels.png"), "--csv", str(tmp_path / "o.csv")]
    assert cli.main([*args, "--report", str(report)]) == 0, capsys.readouterr().err
    html = report.read_text(encoding="utf-8")
    line = "Data bar: bottom 29 rows, left out of automatic segmentation and area fractions"
    assert f"<li>{line}</li>" in html
    assert "0.707 %" in html  # 1,600 px of the 442 × 512 specimen (0.663 % of the frame)
    picture = embedded_png(html)
    rgb = to_rgb(read_micrograph(image))
    assert picture.shape == rgb.shape
    np.testing.assert_array_equal(picture[-29:], rgb[-29:])  # the data bar as the file has it
    assert white_bar_length(picture[:-29]) > 0  # 3.372 µm/px: the report's bar, above it
