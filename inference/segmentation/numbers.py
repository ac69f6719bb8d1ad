"""Numbers as people read them: plain notation, thousands separated, units attached.

One place decides how a measured value looks, so the object list, the Measure tab, the report
and the scale bar agree: "27,640 px²", "1.13 µm²", "0.0412 %", never "2.764e+04".

- Whole numbers (counts, pixel areas given as int) are exact: 27640 -> "27,640".
- Other values keep `significant` digits (3 by default) but never round away whole digits:
  1.1349 -> "1.13", 0.000123456 -> "0.000123", 27639.6 -> "27,640".
- Missing values (None, NaN, ±inf) read "–".
CSV files keep full precision and plain numbers; only their column names carry units
(`column_name`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.imaging.calibration import Calibration

MISSING = "–"


def format_number(value: object, significant: int = 3, trim: bool = False) -> str:
    """A number in plain notation with thousands separators (see the module docstring).
    `trim` drops trailing zeros (for set values such as a pixel size: "0.1", not "0.100")."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if not isinstance(value, Real):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return MISSING
    if v == 0:
        return "0"
    whole_digits = 10 ** (significant - 1)
    if abs(v) >= whole_digits:
        return f"{round(v):,}"
    decimals = significant - 1 - math.floor(math.log10(abs(v)))
    rounded = round(v, decimals)
    if abs(rounded) >= whole_digits:  # 99.96 rounds up to a whole number of 3 digits
        return f"{round(v):,}"
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > math.floor(math.log10(abs(v))):
        decimals -= 1  # 0.9996 -> "1.00", not "1.000"
    text = f"{rounded:,.{max(decimals, 0)}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if float(text.replace(",", "")) == 0 else text


def format_quantity(value: object, unit: str, significant: int = 3, trim: bool = False) -> str:
    """A value with its unit: "27,640 px²", "1.13 µm²"; "–" (no unit) when missing."""
    text = format_number(value, significant, trim)
    return text if text == MISSING or not unit else f"{text} {unit}"


def format_percent(fraction: object, significant: int = 3) -> str:
    """A fraction (0.132) as a percentage ("13.2 %")."""
    if fraction is None or not isinstance(fraction, Real) or not math.isfinite(float(fraction)):
        return MISSING
    return f"{format_number(100.0 * float(fraction), significant)} %"


def length_unit(calibration: Calibration) -> str:
    """ "µm", "nm", ... or "px" when uncalibrated."""
    return calibration.unit if calibration.calibrated else "px"


def area_unit(calibration: Calibration) -> str:
    """ "µm²", ... or "px²" when uncalibrated."""
    return calibration.area_unit


def column_name(template: str, calibration: Calibration) -> str:
    """A CSV column name with its unit: "area_{a}" -> "area_µm²", "perimeter_{u}" -> "perimeter_px"."""
    return template.format(u=length_unit(calibration), a=area_unit(calibration))
