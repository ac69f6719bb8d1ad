"""Pixel size and acquisition details from the tags microscope vendors write into TIFFs.

Vendors are tried in order of trust: FEI/Thermo, Zeiss SEM, Olympus SIS, JEOL SightX,
Gatan DM-saved TIFFs, ImageJ, and last the standard resolution tags. The standard tags are
used only when they describe a physical pixel (smaller than 10 µm): most files carry a
72/96/300 dpi printing setting that says nothing about the specimen.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import tifffile

from inference.imaging.calibration import (
    CALIBRATION_NOTE,
    DATA_BAR_NOTE,
    DATA_BAR_ROWS,
    RECIPROCAL,
    Calibration,
    data_bar_note,
    normalise_unit,
    not_square,
    refused_scale,
    square,
)

# A resolution tag that implies a pixel larger than this is a screen/print setting.
_MAX_PHYSICAL_PIXEL_M = 10e-6
_UNIT_METRES = {tifffile.RESUNIT.INCH: 0.0254, tifffile.RESUNIT.CENTIMETER: 0.01}


@dataclass(frozen=True)
class TiffInfo:
    """What the tags say: the calibration, a flat human-readable table, and the vendor."""

    calibration: Calibration = field(default_factory=Calibration)
    metadata: dict[str, str] = field(default_factory=dict)
    vendor: str = ""


def _positive(value: object) -> float | None:
    """A finite positive float, or None for '', 'notafloat', 0, NaN (seen in real FEI files)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _length(metres: float) -> str:
    cal = Calibration.from_metres(metres, "")
    return f"{cal.pixel_size:.4g} {cal.unit}"


def _put(metadata: dict[str, str], key: str, value: object) -> None:
    text = " ".join(str(value).split()) if value is not None else ""
    if text and text not in ("[]", "{}"):
        metadata[key] = text


# ---- FEI / Thermo Fisher ----------------------------------------------------------------


def _fei(md: dict, width: int) -> TiffInfo:
    meta: dict[str, str] = {}
    active = str(md.get("Beam", {}).get("Beam", "") or "")
    beams = [b for b in (active, "EBeam", "IBeam", "IRBeam") if b and isinstance(md.get(b), dict)]
    beam = md[beams[0]] if beams else {}
    calibration = Calibration()
    scan = md.get("Scan") or md.get("EScan") or md.get("IScan") or {}
    pixel, height = _positive(scan.get("PixelWidth")), _positive(scan.get("PixelHeight"))
    if pixel and height and not square(pixel, height):
        shown = Calibration.from_metres(pixel, "")  # in µm or nm, whichever reads better
        scale = shown.pixel_size / pixel
        meta.update(not_square(shown.pixel_size, height * scale, shown.unit))
    elif pixel:
        calibration = Calibration.from_metres(pixel, "FEI tags (PixelWidth)")
    else:
        columns = _positive(md.get("Image", {}).get("ResolutionX")) or width
        for name in beams:
            hfw = _positive(md[name].get("HFW"))
            if hfw:
                calibration = Calibration.from_metres(hfw / columns, f"FEI tags ({name} HFW)")
                break
    _put(meta, "microscope", md.get("System", {}).get("SystemType"))
    hv = _positive(md.get("Beam", {}).get("HV")) or _positive(beam.get("HV"))
    if hv:
        meta["HV"] = f"{hv / 1000:g} kV"
    hfw = _positive(beam.get("HFW"))
    if hfw:
        meta["horizontal field width"] = _length(hfw)
        canvas = _positive(md.get("Image", {}).get("MagCanvasRealWidth"))
        if canvas:
            meta["magnification"] = f"{canvas / hfw:.0f}×"
    wd = _positive(beam.get("WD")) or _positive(md.get("Stage", {}).get("WorkingDistance"))
    if wd:
        meta["working distance"] = _length(wd)
    detectors = md.get("Detectors", {})
    name, mode = detectors.get("Name", ""), detectors.get("Mode", "")
    _put(meta, "detector", f"{name} ({mode})" if mode and mode != "None" else name)
    dwell = _positive(scan.get("Dwelltime") or scan.get("Dwell"))
    if dwell:
        meta["dwell time"] = f"{dwell * 1e6:g} µs"
    current = _positive(beam.get("BeamCurrent"))
    if current:
        meta["beam current"] = f"{current * 1e12:.4g} pA"
    user = md.get("User", {})
    _put(meta, "date", f"{user.get('Date', '')} {user.get('Time', '')}".strip())
    _put(meta, "user text", user.get("UserText"))
    bar = _positive(md.get("PrivateFei", {}).get("DatabarHeight"))
    if bar:
        meta[DATA_BAR_ROWS] = f"{bar:.0f}"
        meta[DATA_BAR_NOTE] = data_bar_note(round(bar))
    return TiffInfo(calibration, meta, "FEI")


# ---- Zeiss SmartSEM ---------------------------------------------------------------------


def _zeiss_value(md: dict, key: str) -> tuple[float | None, str]:
    entry = md.get(key)
    if not isinstance(entry, tuple) or len(entry) < 2:
        return None, ""
    return _positive(entry[1]), normalise_unit(str(entry[2])) if len(entry) > 2 else ""


def _zeiss(md: dict, width: int) -> TiffInfo:
    """Zeiss 'Pixel Size' refers to a 1024-pixel store width on some versions (a 512-pixel
    image reports half its real pixel), so the image's own field width is preferred."""
    calibration = Calibration()
    size, unit = _zeiss_value(md, "ap_image_pixel_size")
    fov, fov_unit = _zeiss_value(md, "ap_width")
    reported, reported_unit = _zeiss_value(md, "ap_pixel_size")
    raw = md.get("", ())
    if size and Calibration.known_unit(unit):
        calibration = Calibration(size, unit, "Zeiss tags (Image Pixel Size)")
    elif fov and Calibration.known_unit(fov_unit):
        calibration = Calibration(fov / width, fov_unit, "Zeiss tags (Width / pixels)")
    elif isinstance(raw, tuple) and len(raw) > 3 and _positive(raw[3]):
        metres = float(raw[3]) * 1024 / width
        calibration = Calibration.from_metres(metres, "Zeiss tags (1k pixel size)")
    elif reported and Calibration.known_unit(reported_unit):
        calibration = Calibration(reported, reported_unit, "Zeiss tags (Pixel Size)")
    meta: dict[str, str] = {}
    labels = {
        "dp_sem": "microscope",
        "ap_actualkv": "HV",
        "ap_mag": "magnification",
        "ap_width": "horizontal field width",
        "ap_wd": "working distance",
        "dp_detector_channel": "detector",
        "dp_dwell_time": "dwell time",
        "dp_noise_reduction": "noise reduction",
        "ap_pixel_size": "pixel size (Zeiss tag)",
        "sv_user_name": "user",
    }
    for key, label in labels.items():
        entry = md.get(key)
        if isinstance(entry, tuple) and len(entry) > 1:
            _put(meta, label, " ".join(str(part) for part in entry[1:]))
    date = md.get("ap_date", ("", ""))[1:2] + md.get("ap_time", ("", ""))[1:2]
    _put(meta, "date", " ".join(str(part) for part in date))
    return TiffInfo(calibration.tidy(), meta, "Zeiss")


# ---- Olympus SIS, JEOL SightX, Gatan DM-saved TIFF --------------------------------------


def _olympus(md: dict) -> TiffInfo:
    meta: dict[str, str] = {}
    _put(meta, "magnification", f"{md['magnification']:g}×" if md.get("magnification") else "")
    _put(meta, "camera", md.get("cameraname"))
    _put(meta, "date", md.get("datetime"))
    pixel = _positive(md.get("pixelsizex"))
    calibration = Calibration.from_metres(pixel, "Olympus SIS tags") if pixel else Calibration()
    return TiffInfo(calibration, meta, "Olympus SIS")


def _jeol_sightx(description: str, x_resolution: float | None, unit_m: float) -> TiffInfo:
    """SightX stores the camera's pixel density in the resolution tag: divided by the
    magnification it gives the specimen pixel. Diffraction (DIFF) is reciprocal space."""
    root = ET.fromstring(description.strip(" \r\n\t\x00"))

    def text(path: str) -> str:
        node = root.find(path)
        return (node.text or "").strip() if node is not None else ""

    meta: dict[str, str] = {}
    _put(meta, "microscope", text("Instruments"))
    hv = _positive(text("ElectronGun/AccelerationVoltage"))
    if hv:
        meta["HV"] = f"{hv / 1000:g} kV"
    mode = text("ImageFormingSystem/ModeString")
    _put(meta, "mode", f"{text('Eos/EosMode').removeprefix('eos')} {mode}".strip())
    _put(
        meta,
        "magnification" if mode == "MAG" else "camera length",
        text("ImageFormingSystem/SelectorString"),
    )
    _put(meta, "date", text("DateTime"))
    mag = _positive(text("ImageFormingSystem/SelectorValue"))
    calibration = Calibration()
    if mode == "MAG" and mag and x_resolution:
        calibration = Calibration.from_metres(unit_m / x_resolution / mag, "JEOL SightX tags")
    elif mode == "DIFF":
        note = "diffraction pattern (reciprocal space): left uncalibrated"
        meta.update(refused_scale(note, RECIPROCAL))
    return TiffInfo(calibration, meta, "JEOL SightX")


def _dm_tags(tags: tifffile.TiffTags) -> TiffInfo | None:
    """Gatan DigitalMicrograph writes units, origins and scales of x, y, z (width, height,
    frames) into private tags 65003-65005, 65006-65008 and 65009-65011 (rosettasciio reads
    them so: a stack's 65011 is its time step, in the unit of 65005)."""
    if 65009 not in tags or 65003 not in tags:
        return None
    scale, unit = _positive(tags[65009].value), normalise_unit(str(tags[65003].value))
    if not scale or not Calibration.known_unit(unit):
        return None
    y_scale = _positive(tags.valueof(65010))
    if y_scale and not square(scale, y_scale):
        return TiffInfo(Calibration(), not_square(scale, y_scale, unit), "Gatan DigitalMicrograph")
    calibration = Calibration(scale, unit, "DM tags").tidy()
    return TiffInfo(calibration, {}, "Gatan DigitalMicrograph")


# ---- ImageJ and the standard resolution tags --------------------------------------------


def _rational(tags: tifffile.TiffTags, code: int) -> float | None:
    if code not in tags:
        return None
    value = tags[code].value
    if isinstance(value, tuple) and len(value) == 2:
        return _positive(value[0] / value[1]) if value[1] else None
    return _positive(value)


def _imagej(md: dict, x_resolution: float | None, y_resolution: float | None) -> TiffInfo:
    unit = normalise_unit(str(md.get("unit", "")).replace("\\u00B5", "µ").replace("\\u00b5", "µ"))
    meta = {"ImageJ unit": unit} if unit else {}
    if x_resolution and Calibration.known_unit(unit):
        width = 1.0 / x_resolution
        if y_resolution and not square(width, 1.0 / y_resolution):
            meta.update(not_square(width, 1.0 / y_resolution, unit))
            return TiffInfo(Calibration(), meta, "ImageJ")
        return TiffInfo(Calibration(width, unit, "ImageJ").tidy(), meta, "ImageJ")
    return TiffInfo(Calibration(), meta, "ImageJ")


def _resolution_tags(tags: tifffile.TiffTags, x_resolution: float | None) -> TiffInfo:
    unit_m = _UNIT_METRES.get(tags[296].value if 296 in tags else tifffile.RESUNIT.INCH)
    if not x_resolution or unit_m is None:
        return TiffInfo()
    metres = unit_m / x_resolution
    if metres < _MAX_PHYSICAL_PIXEL_M:
        y_resolution = _rational(tags, 283)
        if y_resolution and not square(metres, unit_m / y_resolution):
            nm = 1e9
            return TiffInfo(
                Calibration(), not_square(metres * nm, unit_m / y_resolution * nm, "nm")
            )
        return TiffInfo(Calibration.from_metres(metres, "TIFF resolution tags"), {}, "")
    per = "inch" if unit_m == 0.0254 else "cm"
    note = f"{x_resolution:g} pixels per {per} (a print setting, not a calibration: ignored)"
    return TiffInfo(Calibration(), {CALIBRATION_NOTE: note}, "")


# ---- entry point --------------------------------------------------------------------------


def read_tiff_info(tif: tifffile.TiffFile, page: tifffile.TiffPage) -> TiffInfo:
    """Calibration and metadata for `page`; never raises on odd vendor tags."""
    tags = page.tags
    width = int(page.imagewidth) or 1
    x_resolution = _rational(tags, 282)
    try:
        if tif.is_fei and tif.fei_metadata:
            return _fei(tif.fei_metadata, width)
        if tif.is_sem and tif.sem_metadata:
            return _zeiss(tif.sem_metadata, width)
        sis = next((tags[code].value for code in (33560, 33471) if code in tags), None)
        if isinstance(sis, dict):
            return _olympus(sis)
        description = page.description or ""
        if str(tags.valueof(271, "")).startswith("JEOL") and description.startswith("<?xml"):
            unit = tags.valueof(296, tifffile.RESUNIT.INCH)
            return _jeol_sightx(description, x_resolution, _UNIT_METRES.get(unit, 0.0254))
        if (dm := _dm_tags(tags)) is not None:
            return dm
        if tif.is_imagej and tif.imagej_metadata is not None:
            return _imagej(tif.imagej_metadata, x_resolution, _rational(tags, 283))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ET.ParseError) as exc:
        note = f"vendor tags unreadable ({type(exc).__name__}): left uncalibrated"
        return TiffInfo(Calibration(), {CALIBRATION_NOTE: note}, "")
    return _resolution_tags(tags, x_resolution)
