"""A one-page, self-contained HTML report of one image's measurements.

Everything is inside the file: the overlay is a base64 PNG, the histograms are inline SVG, and
there is no script or external style, so the report can be mailed or archived as it is and
printed to PDF from any browser. Without a calibration every value is labelled in pixels.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference import __version__
from inference.segmentation.histogram import Histogram, Scale, size_histogram
from inference.segmentation.measure import ObjectMeasurement, measure
from inference.segmentation.numbers import MISSING, format_number, format_percent
from inference.segmentation.overlay import overlay_image
from inference.segmentation.summary import CRACK_CLASS, MeasurementSummary, summarise_image

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.segmentation.annotations import AnnotationSet

__all__ = ["overlay_image", "png_bytes", "render_report", "write_report"]

MAX_SIDE = 1600  # longest side of the embedded overlay, in pixels


# --- the overlay picture ------------------------------------------------------------------------
def report_step(shape: tuple[int, int], max_side: int = MAX_SIDE) -> int:
    """The whole-pixel subsampling that brings the longest side to at most `max_side`."""
    return max(1, math.ceil(max(shape) / max_side)) if max_side else 1


def png_bytes(rgb: np.ndarray, max_side: int | None = MAX_SIDE) -> bytes:
    """PNG of an image, subsampled by a whole step so its longest side is at most `max_side`."""
    import imageio.v3 as iio

    if max_side:
        step = max(1, math.ceil(max(rgb.shape[:2]) / max_side))
        rgb = rgb[::step, ::step]
    return iio.imwrite("<bytes>", np.ascontiguousarray(rgb), extension=".png")


# --- histograms as inline SVG ------------------------------------------------------------------
def svg_histogram(
    hist: Histogram,
    colour: tuple[int, int, int] = (0, 114, 178),
    width: int = 300,
    height: int = 150,
) -> str:
    """A small bar chart with the axis range and label; log bins are drawn at equal widths."""
    left, bottom, top = 8, 30, 8
    plot_w, plot_h = width - 2 * left, height - bottom - top
    n = len(hist.counts)
    peak = max(int(hist.counts.max()) if n else 0, 1)
    fill = f"rgb{tuple(colour)}"
    bars = []
    for i, count in enumerate(hist.counts):
        if not count:
            continue
        h = plot_h * count / peak
        x = left + plot_w * i / n
        bars.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(plot_w / n - 1, 0.5):.1f}" '
            f'height="{h:.1f}" fill="{fill}"><title>{_num(hist.edges[i])}–'
            f"{_num(hist.edges[i + 1])}: {int(count)}</title></rect>"
        )
    axis = top + plot_h
    scale = " (log bins)" if hist.scale == "log" else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(hist.label)}">'
        f'<line x1="{left}" y1="{axis}" x2="{left + plot_w}" y2="{axis}" stroke="#444"/>'
        + "".join(bars)
        + f'<text x="{left}" y="{axis + 12}" font-size="10">{_num(hist.edges[0])}</text>'
        f'<text x="{left + plot_w}" y="{axis + 12}" font-size="10" text-anchor="end">'
        f"{_num(hist.edges[-1])}</text>"
        f'<text x="{left + plot_w / 2}" y="{axis + 25}" font-size="11" text-anchor="middle">'
        f"{html.escape(hist.label)}{scale}, n = {hist.total}, peak {peak}</text></svg>"
    )


# --- the page ----------------------------------------------------------------------------------
def render_report(
    annotations: AnnotationSet,
    rgb: np.ndarray,
    summary: MeasurementSummary | None = None,
    measurements: Sequence[ObjectMeasurement] | None = None,
    title: str | None = None,
    bins: int = 20,
    scale: Scale = "linear",
    data_bar_rows: int = 0,
) -> str:
    """The report as one HTML string (see `write_report`)."""
    if measurements is None:
        crack = summary.cracks.class_name if summary and summary.cracks else CRACK_CLASS
        measurements = measure(annotations, length_classes=(crack,))
    if summary is None:
        summary = summarise_image(annotations, measurements)
    colours = {c.name: c.colour for c in annotations.classes}
    step = report_step(annotations.shape)
    overlay = overlay_image(rgb, annotations, step=step, data_bar_rows=data_bar_rows)
    picture = png_bytes(overlay, max_side=None)
    picture = base64.b64encode(picture).decode("ascii")
    title = title or f"Measurements of {summary.image}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(_meta_line(summary))}</p>',
    ]
    if summary.notes:
        parts.append("<ul class='notes'>" + "".join(f"<li>{_e(n)}</li>" for n in summary.notes))
        parts.append("</ul>")
    parts.append(
        "<div class='row'><figure>"
        f"<img alt='overlay of {_e(summary.image)}' src='data:image/png;base64,{picture}'>"
        f"<figcaption>{_legend(summary, colours)}</figcaption></figure>"
        f"<div>{_class_table(summary)}{_grain_table(summary)}{_crack_table(summary)}</div></div>"
    )
    charts = []
    for c in summary.classes:
        if c.sizes.n:
            hist = size_histogram(measurements, c.class_name, bins=bins, scale=scale)
            chart = svg_histogram(hist, colours.get(c.class_name, (0, 114, 178)))
            charts.append(f"<figure>{chart}<figcaption>{_e(c.class_name)}</figcaption></figure>")
    if charts:
        parts.append(
            "<h2>Size distributions</h2><p class='meta'>Equivalent circle diameter of the "
            "objects that do not touch the border.</p><div class='row'>"
            + "".join(charts)
            + "</div>"
        )
    return _page(title, "\n".join(parts))


def write_report(
    annotations: AnnotationSet,
    rgb: np.ndarray,
    path: str | Path,
    summary: MeasurementSummary | None = None,
    measurements: Sequence[ObjectMeasurement] | None = None,
    title: str | None = None,
    bins: int = 20,
    scale: Scale = "linear",
    data_bar_rows: int = 0,
) -> Path:
    """Write the one-page HTML report (UTF-8); returns its path. `data_bar_rows`: the picture's
    scale bar sits above a microscope's data bar of that many bottom rows."""
    path = Path(path)
    text = render_report(annotations, rgb, summary, measurements, title, bins, scale, data_bar_rows)
    path.write_text(text, encoding="utf-8")
    return path


def _meta_line(summary: MeasurementSummary) -> str:
    cal = summary.calibration
    h, w = summary.shape
    scale = (
        f"{format_number(cal.pixel_size, 4, trim=True)} {cal.unit} per pixel ({cal.source or 'given'})"
        if cal.calibrated
        else "uncalibrated: lengths in px, areas in px²"
    )
    today = dt.date.today().isoformat()
    return f"{format_number(w)} × {format_number(h)} px · {scale} · MatLens {__version__} · {today}"


def _legend(summary: MeasurementSummary, colours: dict) -> str:
    items = []
    for c in summary.classes:
        if c.summary.count:
            r, g, b = colours.get(c.class_name, (0, 0, 0))
            swatch = f"<span class='swatch' style='background:rgb({r},{g},{b})'></span>"
            items.append(f"{swatch}{_e(c.class_name)}")
    return " ".join(items)


def _class_table(summary: MeasurementSummary) -> str:
    u, a = summary.unit, summary.area_unit
    head = (
        "<tr><th>class</th><th>count</th><th>area fraction</th>"
        f"<th>number density (per {a})</th><th>mean ECD ± sd ({u})</th>"
        f"<th>median ECD ({u})</th><th>sized / on border</th></tr>"
    )
    rows = []
    for c in summary.classes:
        s, z = c.summary, c.sizes
        if not s.count:
            continue  # a class nobody used is not a finding
        rows.append(
            f"<tr><td>{_e(s.class_name)}</td><td>{format_number(s.count)}</td>"
            f"<td>{format_percent(s.area_fraction)}</td><td>{_num(s.number_density)}</td>"
            f"<td>{_num(z.mean_diameter)} ± {_num(z.std_diameter)}</td>"
            f"<td>{_num(z.median_diameter)}</td><td>{z.n} / {z.n_border}</td></tr>"
        )
    if not rows:
        return "<h2>Classes</h2><p>No objects.</p>"
    return f"<h2>Classes</h2><table>{head}{''.join(rows)}</table>"


def _grain_table(summary: MeasurementSummary) -> str:
    g = summary.grain_size
    if g is None:
        return ""
    p, i = g.planimetric, g.intercept
    if p.grains_per_mm2 is not None:
        density = f"N<sub>A</sub> = {_num(p.grains_per_mm2)} per mm²"
        length = f"ℓ = {_num(i.mean_intercept_mm)} mm"
    else:
        density = f"N<sub>A</sub> = {_num(p.grains_per_px2)} per px²"
        length = f"ℓ = {_num(i.mean_intercept_px)} px"
    return (
        f"<h2>Grain size (ASTM E112, class “{_e(summary.grain_class)}”)</h2><table>"
        "<tr><th>method</th><th>counted</th><th>result</th><th>G</th></tr>"
        f"<tr><td>planimetric (Jeffries)</td><td>{p.n_inside} inside + ½·{p.n_intercepted} "
        f"cut + ¼·{p.n_corners} corners = {_num(p.n_equivalent)}</td><td>{density}</td>"
        f"<td>{_g(p.g, summary.calibration.calibrated)}</td></tr>"
        f"<tr><td>intercept (Heyn)</td><td>{i.n_intersections} intersections on {i.n_lines} "
        f"lines at {', '.join(f'{d}°' for d in i.directions)}</td><td>{length}</td>"
        f"<td>{_g(i.g, summary.calibration.calibrated)}</td></tr></table>"
    )


def _crack_table(summary: MeasurementSummary) -> str:
    k = summary.cracks
    if k is None:
        return ""
    u = k.unit
    return (
        f"<h2>Crack length (class “{_e(k.class_name)}”, skeleton)</h2><table>"
        f"<tr><th>cracks</th><th>total ({u})</th><th>mean ({u})</th><th>longest ({u})</th>"
        f"<th>length per area (per {u})</th></tr>"
        f"<tr><td>{k.count}</td><td>{_num(k.total_length)}</td><td>{_num(k.mean_length)}</td>"
        f"<td>{_num(k.max_length)}</td><td>{_num(k.length_per_area)}</td></tr></table>"
    )


def _g(value: float | None, calibrated: bool) -> str:
    if value is not None:
        return f"<b>{value:.2f}</b>"
    return "– (nothing to count)" if calibrated else "needs a calibration"


def _num(value: float | None) -> str:
    return format_number(value) if value is not None else MISSING


def _e(text: object) -> str:
    return html.escape(str(text))


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.05em;margin:1em 0 .3em}
.meta{color:#555;margin:.2em 0}.notes{color:#8a4b00}
.row{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
figure{margin:0}img{max-width:560px;max-height:560px;border:1px solid #ccc}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}
.swatch{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .6em;vertical-align:middle}
@media print{body{margin:0}}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )
