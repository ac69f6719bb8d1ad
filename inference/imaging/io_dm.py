"""Gatan DigitalMicrograph DM3/DM4 through rosettasciio: images, stacks, FFTs; not spectra."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from inference.imaging import signals
from inference.imaging.formats import broken

if TYPE_CHECKING:
    from pathlib import Path

    from inference.imaging.micrograph import Micrograph


def _load(path: Path) -> list[dict]:
    from rsciio.digitalmicrograph import file_reader  # imports dask: 0.3 s, so only when needed

    signals.quiet_rsciio()

    try:
        return file_reader(str(path), lazy=True)
    except (struct.error, EOFError) as exc:  # the tag tree ends before it should
        raise broken(path, "DM") from exc


def _describe(signal: dict) -> dict[str, str]:
    """The 'Microscope Info' tags GMS shows in its Image Display Info."""
    tags = signal["original_metadata"]["ImageList"]["TagGroup0"].get("ImageTags", {})
    info = tags.get("Microscope Info", {}) or {}
    meta: dict[str, str] = {}
    for key, label in (("Name", "microscope"), ("Microscope", "microscope")):
        if isinstance(info.get(key), str) and info[key].strip():
            meta[label] = info[key].strip()
    if voltage := info.get("Voltage"):
        meta["HV"] = f"{float(voltage) / 1000:g} kV"
    mag = info.get("Indicated Magnification") or info.get("Actual Magnification")
    if mag:
        meta["magnification"] = f"{float(mag):.0f}×"
    mode = " ".join(str(info.get(k, "")) for k in ("Illumination Mode", "Imaging Mode")).strip()
    if mode:
        meta["mode"] = mode
    if fov := info.get("Field of View (µm)"):
        meta["field of view"] = f"{float(fov):.4g} µm"
    if signal_type := signal.get("metadata", {}).get("Signal", {}).get("signal_type"):
        meta["signal type"] = str(signal_type)
    return meta


def count_frames(path: Path) -> int:
    return signals.n_frames(signals.pick_image(_load(path), path.name))


def read(path: Path, frame: int = 0) -> Micrograph:
    with path.open("rb") as handle:
        version = int.from_bytes(handle.read(4), "big")  # the header, whatever the extension
    fmt = f"DM{version}" if version in (3, 4) else "DM"
    return signals.to_micrograph(_load(path), path, frame, fmt, "DM", _describe)
