"""rosettasciio signal dictionaries → Micrograph: pick the image, the frame, the calibration.

Every rosettasciio reader returns the same structure (`data`, `axes`, `metadata`,
`original_metadata`), so DM, EMD, MRC, TIA and HyperSpy files share this code. Readers are
asked for lazy (dask) data: only the chosen frame of a large stack is read from disk.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import UnreadableFile
from inference.imaging._pixels import as_image, check_frame, detached
from inference.imaging.calibration import (
    CALIBRATION_NOTE,
    RECIPROCAL,
    Calibration,
    normalise_unit,
    not_square,
    refused_scale,
    square,
)
from inference.imaging.micrograph import Micrograph

if TYPE_CHECKING:
    from pathlib import Path

Signal = dict
Describe = Callable[[Signal], dict[str, str]]

_ENERGY_UNITS = {"ev", "kev", "mev", "1/cm", "cm-1", "cm^-1", "1 / cm"}
_SPECTRAL_NAMES = ("energy", "wavelength", "raman", "wavenumber")


def quiet_rsciio() -> None:
    """Called after rosettasciio is imported: on import it sends its log, in colour, to stdout,
    where a warning about a file's metadata ("AcquireDate not found") came before MatLens's own
    line and before the JSON of `--json`. MatLens says what matters about a file in its notes;
    rosettasciio's errors still reach stderr through Python's last-resort handler."""
    import logging

    logger = logging.getLogger("rsciio")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.ERROR)


def _axes(signal: Signal) -> list[dict]:
    """One axis dict per data dimension, size-1 axes dropped (EMD writes some)."""
    shape = tuple(signal["data"].shape)
    axes = list(signal.get("axes") or [])
    if len(axes) != len(shape):
        axes = [{"size": n} for n in shape]
    return [dict(ax, size=n) for ax, n in zip(axes, shape, strict=True) if n > 1]


def _is_spectral(axis: dict) -> bool:
    units = str(axis.get("units") or "").strip().lower()
    name = str(axis.get("name") or "").strip().lower()
    return units in _ENERGY_UNITS or any(word in name for word in _SPECTRAL_NAMES)


def _title(signal: Signal) -> str:
    title = str(signal.get("metadata", {}).get("General", {}).get("title") or "").strip()
    return "" if title == "__unnamed__" else title


def _kind(signal: Signal) -> str:
    """'image', 'spectrum', 'spectrum image' or 'other' (object data, a single value)."""
    axes = _axes(signal)
    if signal["data"].dtype == object:
        return "other"
    if any(_is_spectral(ax) for ax in axes):
        return "spectrum" if len(axes) == 1 else "spectrum image"
    if len(axes) == 1:
        return "spectrum"
    return "image" if len(axes) >= 2 else "other"


def pick_image(
    signals: list[Signal], name: str, prefer: Callable[[Signal], bool] | None = None
) -> Signal:
    """The first image signal (or the first one `prefer` likes); a one-line error otherwise."""
    images = [s for s in signals if _kind(s) == "image"]
    if not images:
        kinds = {_kind(s) for s in signals}
        signal_type = next((_signal_type(s) for s in signals if _signal_type(s)), "")
        label = f" ({signal_type})" if signal_type else ""
        if "spectrum image" in kinds:
            raise UnreadableFile(f"{name} is a spectrum image{label}, not an image")
        if "spectrum" in kinds:
            raise UnreadableFile(f"{name} is a spectrum{label}, not an image")
        raise UnreadableFile(f"{name} holds no 2-D image")
    preferred = [s for s in images if prefer(s)] if prefer else []
    return (preferred or images)[0]


def _signal_type(signal: Signal) -> str:
    return str(signal.get("metadata", {}).get("Signal", {}).get("signal_type") or "")


def n_frames(signal: Signal) -> int:
    return math.prod(ax["size"] for ax in _axes(signal)[:-2])


def _calibration(x: dict, y: dict, source: str, meta: dict[str, str]) -> Calibration:
    units = normalise_unit(str(x.get("units") or ""))
    try:
        scale = float(x.get("scale", 1.0))
    except (TypeError, ValueError):
        return Calibration()
    if not (math.isfinite(scale) and scale > 0):
        return Calibration()
    if not units or units in ("[]", "<undefined>"):
        if scale != 1.0:  # a scale without a unit: nm? Å? Nobody can tell, so it is not used
            meta[CALIBRATION_NOTE] = f"{scale:.5g} per pixel with no unit in the file: not used"
        return Calibration()
    if not Calibration.known_unit(units):
        compact = units.replace(" ", "")
        if compact.startswith("1/"):
            note = f"reciprocal space ({scale:.5g} {compact} per pixel): not used"
            meta.update(refused_scale(note, RECIPROCAL))
        return Calibration()
    y_scale = y.get("scale")
    if isinstance(y_scale, (int, float)):
        y_height = float(y_scale)
        y_units = normalise_unit(str(y.get("units") or ""))
        if y_units != units and Calibration.known_unit(y_units):  # 1 nm wide, 1 µm high
            y_height = Calibration(y_height, y_units).to(units).pixel_size
        if not square(scale, y_height):
            meta.update(not_square(scale, y_height, units))
            return Calibration()
    return Calibration(scale, units, source).tidy()


def _frame_axes(axes: list[dict]) -> str:
    parts = []
    for ax in axes[:-2]:
        name = str(ax.get("name") or "frame")
        scale, units = ax.get("scale"), str(ax.get("units") or "")
        step = f", step {float(scale):g} {units}".rstrip() if units and scale else ""
        parts.append(f"{name} ({ax['size']}{step})")
    return "; ".join(parts)


def to_micrograph(
    signals: list[Signal],
    path: Path,
    frame: int,
    fmt: str,
    source: str,
    describe: Describe | None = None,
    prefer: Callable[[Signal], bool] | None = None,
) -> Micrograph:
    """The chosen signal's `frame` as a Micrograph; the other signals are listed by title."""
    signal = pick_image(signals, path.name, prefer)
    axes = _axes(signal)
    frames = n_frames(signal)
    check_frame(frame, frames)
    data = signal["data"].reshape(tuple(ax["size"] for ax in axes))
    index = np.unravel_index(frame, tuple(ax["size"] for ax in axes[:-2])) if frames > 1 else ()
    pixels = as_image(detached(np.asarray(data[index])))
    meta: dict[str, str] = {"format": fmt, "data type": str(pixels.dtype)}
    title = _title(signal)
    if title:
        meta["signal"] = title
    others = [(_title(s) or "untitled") + f" ({_kind(s)})" for s in signals if s is not signal]
    if others:
        meta["other signals"] = "; ".join(others)
    if frames > 1:
        meta["frame axes"] = _frame_axes(axes)
    calibration = _calibration(axes[-1], axes[-2], source, meta)
    if describe is not None:
        # Vendor tags are a bonus: a missing or odd one must not block the image.
        with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
            meta.update({k: v for k, v in describe(signal).items() if v})
    return Micrograph(
        data=pixels,
        calibration=calibration,
        path=path,
        frame=frame,
        n_frames=frames,
        metadata=meta,
        title=title or path.stem,
    )
