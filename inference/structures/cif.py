"""Tolerant CIF reading: every data block becomes a structure or a one-line reason.

pymatgen's CifParser does the crystallography. Around it this module (1) fills in the CIF
"unknown" values it trips over where the CIF standard gives a default (an occupancy of '?' is 1),
and the symmetry operations of a space-group symbol its tables do not spell ("P2_1/n",
"P m 3 m"; see `space_groups`), (2) checks each block for a cell and atom sites first, so a bad
block gets a plain reason instead of a KeyError, and a modulated (superspace) block, which it
would read as P1, is skipped with a reason, (3) retries a block whose atoms overlap with
occupancy scaling, with a notice, and (4) says when the file's formula disagrees with the atoms
read. It relies on two private CifParser members (`_get_structure`, `_sanitize_data`), checked
against the pymatgen version pinned in pyproject.toml.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from typing import TYPE_CHECKING

from monty.io import zopen
from pymatgen.core import Composition
from pymatgen.io.cif import CifBlock, CifParser

from inference.errors import UnreadableFile
from inference.structures.capacity import too_many_atoms
from inference.structures.model import ReadOptions, SkippedBlock, StructureBlock
from inference.structures.space_groups import find_setting
from inference.structures.validate import check_cell_parameters, check_structure

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

UNKNOWN = ("?", ".")
CELL_KEYS = tuple(f"_cell_length_{x}" for x in "abc") + tuple(
    f"_cell_angle_{x}" for x in ("alpha", "beta", "gamma")
)
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ"}

P1_NOTICE = "no space group or symmetry operations: read as P1"
# Where pymatgen looks for symmetry operations and for a space-group symbol, in its order.
SYMOP_KEYS = (
    "_symmetry_equiv_pos_as_xyz",
    "_symmetry_equiv_pos_as_xyz_",
    "_space_group_symop_operation_xyz",
    "_space_group_symop_operation_xyz_",
)
SYMBOL_KEYS = (
    "_symmetry_space_group_name_H-M",
    "_symmetry_space_group_name_H_M",
    "_symmetry_space_group_name_H-M_",
    "_symmetry_space_group_name_H_M_",
    "_space_group_name_H-M_alt",
    "_space_group_name_H-M_alt_",
    "_symmetry_space_group_name_h-m",
    "_symmetry_space_group_name_h-m_",
)
NUMBER_KEYS = (
    "_space_group_IT_number",
    "_space_group_IT_number_",
    "_symmetry_Int_Tables_number",
    "_symmetry_Int_Tables_number_",
)
FORMULA_KEYS = ("_chemical_formula_sum", "_chemical_formula_structural")
# An element's share of the atoms may differ this much before the formula is said not to match
# (occupancies and formulas are rounded in files).
FORMULA_TOLERANCE = 0.01

# pymatgen's warnings, reworded for people; the rest (rounded coordinates...) is noise here.
_NOTICES = (
    (re.compile(r"Defaulting to P1", re.I), P1_NOTICE),
    (re.compile(r"implicit hydrogens", re.I), "some hydrogen atoms are implicit (not in the file)"),
    (
        re.compile(r"occupancies .* sum to > 1", re.I),
        "occupancies slightly above 1 were scaled to 1",
    ),
    (re.compile(r"incommensurate", re.I), "incommensurate magnetic structure: read its basic cell"),
)


class _TolerantCifParser(CifParser):
    """CifParser that first replaces CIF unknowns ('?', '.') where the standard has a default."""

    def _sanitize_data(self, data: CifBlock) -> CifBlock:
        fixes = self.__dict__.setdefault("matlens_fixes", {})
        fixes[data.header] = _fill_defaults(data)
        data = super()._sanitize_data(data)
        fixes[data.header].extend(self._fill_symmetry_operations(data))
        return data

    def _fill_symmetry_operations(self, data: CifBlock) -> list[str]:
        """A block with a space-group symbol but no operations, whose symbol pymatgen cannot
        read, gets the operations of the setting the symbol names; returns notices."""
        if any(data.data.get(k) for k in SYMOP_KEYS) or _modulation(data):
            return []
        symbol = next(
            (v for k in SYMBOL_KEYS if isinstance(v := data.data.get(k), str) and v.strip()), ""
        )
        if symbol.strip() in ("", *UNKNOWN) or not self._defaults_to_p1(data, NUMBER_KEYS):
            return []  # pymatgen reads the symbol itself
        setting = find_setting(symbol)
        number = _number(data.data.get(next((k for k in NUMBER_KEYS if k in data.data), "")))
        if setting is not None and number in (None, setting.number):
            data.data["_space_group_symop_operation_xyz"] = list(setting.operations)
            return [f"space group '{symbol}' read as {setting.full_symbol} (No. {setting.number})"]
        if not self._defaults_to_p1(data, ()):
            return []  # pymatgen goes by the space-group number instead
        return [
            f"the space group '{symbol}' in the file is not one MatLens can read and the file "
            "lists no symmetry operations: read as P1, so symmetry copies of its atoms are missing"
        ]

    def _defaults_to_p1(self, data: CifBlock, without: tuple[str, ...]) -> bool:
        """Whether pymatgen finds no symmetry for the block (leaving out the keys `without`)."""
        trial = CifBlock({k: v for k, v in data.data.items() if k not in without}, [], "trial")
        kept = len(self.warnings)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.get_symops(trial)
            except Exception:  # noqa: BLE001 - a broken symbol is no symmetry found
                return True
            finally:
                del self.warnings[kept:]
        return any("Defaulting to P1" in str(w.message) for w in caught)


def _column(data: CifBlock, key: str) -> list[str] | None:
    value = data.data.get(key)
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def _fill_defaults(data: CifBlock) -> list[str]:
    """Fix what pymatgen cannot read but the CIF standard defines; returns notices."""
    notices = []
    occupancy = _column(data, "_atom_site_occupancy")
    if occupancy is not None and any(v.strip() in UNKNOWN for v in occupancy):
        data.data["_atom_site_occupancy"] = ["1" if v.strip() in UNKNOWN else v for v in occupancy]
        notices.append("unknown occupancies ('?') were read as 1")
    hydrogens = _column(data, "_atom_site_attached_hydrogens")
    if hydrogens is not None and any(v.strip() in UNKNOWN for v in hydrogens):
        data.data["_atom_site_attached_hydrogens"] = [
            "0" if v.strip() in UNKNOWN else v for v in hydrogens
        ]
    symbols = _column(data, "_atom_site_type_symbol")
    if symbols is not None and "_atom_site_label" not in data.data:
        # A label is optional in practice; pymatgen needs one. The symbol is a fair stand-in.
        data.data["_atom_site_label"] = list(symbols)
        for loop in data.loops:
            if "_atom_site_type_symbol" in loop:
                loop.append("_atom_site_label")
        notices.append("the atom sites have no labels: element symbols used")
    notices.extend(_fill_symmetry_angles(data))
    return notices


def _fill_symmetry_angles(data: CifBlock) -> list[str]:
    """Cell angles that the crystal system fixes at 90° but the file leaves unknown."""
    system = ""
    for key in ("_symmetry_cell_setting", "_space_group_crystal_system"):
        value = data.data.get(key)
        if isinstance(value, str) and value.strip() not in UNKNOWN:
            system = value.strip().lower()
    right = (
        {"alpha", "beta", "gamma"} if system in ("cubic", "tetragonal", "orthorhombic") else set()
    )
    gamma = data.data.get("_cell_angle_gamma")
    if system in ("hexagonal", "trigonal") and isinstance(gamma, str):
        try:
            if abs(float(gamma.split("(")[0]) - 120) < 1e-3:
                right = {"alpha", "beta"}
        except ValueError:
            pass
    filled = []
    for angle in sorted(right):
        key = f"_cell_angle_{angle}"
        value = data.data.get(key)
        if value is None or (isinstance(value, str) and value.strip() in UNKNOWN):
            data.data[key] = "90"
            filled.append(_GREEK[angle])
    if not filled:
        return []
    return [f"unknown cell angle {', '.join(filled)} set to 90° as the {system} system requires"]


def read_text(path: Path) -> str:
    """CIF text; gz/bz2 are fine, bytes that are not UTF-8 become replacement characters."""
    with zopen(str(path), mode="rt", encoding="utf-8-sig", errors="replace") as handle:
        return handle.read()


def read_cif(path: Path, options: ReadOptions) -> tuple[list[StructureBlock], list[SkippedBlock]]:
    text = read_text(path)
    file_notices = []
    if not re.search(r"^\s*data_", text, re.MULTILINE | re.IGNORECASE):
        if not re.search(r"^\s*_", text, re.MULTILINE):
            raise UnreadableFile(f"{path.name}: not a CIF (no data_ block and no CIF items)")
        text = f"data_{_safe_name(path.stem)}\n{text}"
        file_notices.append("the file has no data_ heading: read as one block")
    parser = _make_parser(text, path, options)
    blocks: list[StructureBlock] = []
    skipped: list[SkippedBlock] = []
    blocks_in_file = parser._cif.data  # pyright: ignore[reportAttributeAccessIssue]
    for name, data in blocks_in_file.items():
        fixes = parser.__dict__.get("matlens_fixes", {}).get(data.header, [])
        try:
            block = _read_block(parser, name, data, options)
        except UnreadableFile as exc:
            skipped.append(SkippedBlock(name, str(exc)))
            continue
        found = block.notices
        if any("read as P1" in fix for fix in fixes):  # said more precisely by the fix
            found = tuple(n for n in found if n != P1_NOTICE)
        notices = tuple(dict.fromkeys([*file_notices, *fixes, *found]))
        blocks.append(StructureBlock(block.name, block.structure, notices))
    if not blocks_in_file:
        raise UnreadableFile(f"{path.name}: no data blocks in this CIF")
    return blocks, skipped


def _safe_name(stem: str) -> str:
    return re.sub(r"\s+", "_", stem) or "unnamed"


def _make_parser(text: str, path: Path, options: ReadOptions) -> CifParser:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _TolerantCifParser.from_str(
                text,
                occupancy_tolerance=options.occupancy_tolerance,
                site_tolerance=options.site_tolerance,
                frac_tolerance=options.frac_tolerance,
            )
    except Exception as exc:  # pymatgen raises anything on a broken file
        raise UnreadableFile(f"{path.name}: not a readable CIF ({_syntax_reason(exc)})") from exc


def _syntax_reason(exc: BaseException) -> str:
    """pymatgen's words for a broken loop_ table, said as what happened to the file."""
    text = _first_line(exc)
    if "is not a multiple of" in text or "modulo by zero" in text:
        return "a loop_ table has missing or extra values; was the file cut short?"
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    if isinstance(exc, KeyError):
        message = f"missing item {message}"
    return (message or type(exc).__name__)[:160]


NO_STRUCTURE = "no crystal structure in this block (no cell and no atom sites)"


def _read_block(parser: CifParser, name: str, data: CifBlock, options: ReadOptions):
    if not any(k in data.data for k in CELL_KEYS) and not _has_sites(data):
        raise UnreadableFile(NO_STRUCTURE)
    modulated = _modulation(data)
    if modulated:
        raise UnreadableFile(modulated)
    _check_cell(parser, data)
    _check_sites(data)
    _check_size(parser, data, name)
    before = len(parser.warnings)
    notices: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            structure = parser._get_structure(data, False, False, check_occu=True)
        except ValueError as exc:
            match = re.search(r"Occupancy ([\d.]+) exceeded tolerance", str(exc))
            if not (match and options.lenient_occupancy):
                raise UnreadableFile(_block_reason(exc)) from exc
            structure = _retry_scaled(parser, data)
            notices.append(
                f"atoms overlap (total occupancy up to {float(match.group(1)):g} on one site): "
                "scaled to 1; the file may list symmetry copies twice"
            )
        except Exception as exc:  # one bad block must not stop the others
            raise UnreadableFile(_block_reason(exc)) from exc
    if structure is None or len(structure) == 0:
        raise UnreadableFile("no atoms with usable coordinates and elements")
    check_structure(structure)
    messages = [str(w.message) for w in caught] + parser.warnings[before:]
    found = _notices(messages)
    if notices:  # the overlap notice already says occupancies were scaled
        found = [n for n in found if "scaled" not in n]
    notices.extend(found)
    duplicates = _duplicate_labels(data)
    if duplicates:
        notices.append(f"duplicate atom labels in the file: {', '.join(duplicates)}")
    mismatch = _formula_mismatch(data, structure)
    if mismatch:
        notices.append(mismatch)
    return StructureBlock(name, structure, tuple(dict.fromkeys(notices)))


def _modulation(data: CifBlock) -> str:
    """Why a block of a modulated structure cannot be drawn ('' for an ordinary block). Its
    atoms sit where modulation functions put them, from 4-6D superspace operations; read as
    3D, the basic cell keeps one copy of each atom (P1). Magnetic CIFs are left to pymatgen."""
    dimension = _number(data.data.get("_cell_modulation_dimension"))
    superspace = [
        k for k in data.data if k.startswith(("_space_group_ssg", "_space_group_symop_ssg"))
    ]
    if not (dimension or superspace) or any(k.startswith("_space_group_magn") for k in data.data):
        return ""
    name = data.data.get("_space_group_ssg_name")
    group = f" (superspace group {_greek(name.strip())})" if isinstance(name, str) else ""
    return (
        f"a modulated structure{group}: its atoms need the modulation functions, which "
        "MatLens does not apply; open a 3D approximant (a supercell block) instead"
    )


def _greek(text: str) -> str:
    """CIF's markup for Greek letters (\\a is α) as the letters."""
    return re.sub(r"\\([abgd])", lambda m: "αβγδ"["abgd".index(m.group(1))], text)


def _formula_mismatch(data: CifBlock, structure) -> str:
    """A notice when the block's stated formula has other elements or proportions than the
    atoms read (symmetry copies missing, a wrong symbol, a formula typed wrong); '' when they
    agree. Hydrogen is left out: X-ray structures often list no hydrogen atoms."""
    stated = next((v for k in FORMULA_KEYS if isinstance(v := data.data.get(k), str)), "")
    if stated.strip() in ("", *UNKNOWN):
        return ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wanted = Composition(stated).remove_charges()
            read = structure.composition.remove_charges()
    except Exception:  # noqa: BLE001 - a formula pymatgen cannot parse is no evidence
        return ""
    wanted_fractions = _fractions_without_hydrogen(wanted)
    read_fractions = _fractions_without_hydrogen(read)
    elements = set(wanted_fractions) | set(read_fractions)
    if not wanted_fractions or all(
        abs(wanted_fractions.get(e, 0) - read_fractions.get(e, 0)) <= FORMULA_TOLERANCE
        for e in elements
    ):
        return ""
    return (
        f"the file's formula ({wanted.reduced_formula}) does not match its atoms "
        f"({read.reduced_formula})"
    )


def _fractions_without_hydrogen(composition: Composition) -> dict[str, float]:
    amounts = {str(e): float(n) for e, n in composition.element_composition.items()}
    amounts.pop("H", None)
    amounts.pop("D", None)
    total = sum(amounts.values())
    return {e: n / total for e, n in amounts.items()} if total > 0 else {}


def _retry_scaled(parser: CifParser, data: CifBlock):
    # pymatgen's private tolerance (checked against the pinned version, see the module doc)
    saved = parser._occupancy_tolerance  # pyright: ignore[reportAttributeAccessIssue]
    parser._occupancy_tolerance = 1e6  # pyright: ignore[reportAttributeAccessIssue]
    try:
        return parser._get_structure(data, False, False, check_occu=True)
    except Exception as exc:
        raise UnreadableFile(_block_reason(exc)) from exc
    finally:
        parser._occupancy_tolerance = saved  # pyright: ignore[reportAttributeAccessIssue]


def _number(value: object) -> float | None:
    """A CIF number without its uncertainty ('5.640(2)' -> 5.64); None for '?', '.' or text."""
    if not isinstance(value, str):
        return None
    try:
        return float(value.split("(")[0])
    except ValueError:
        return None


def _check_cell(parser: CifParser, data: CifBlock) -> None:
    present = {k: data.data.get(k) for k in CELL_KEYS}
    if all(v is None for v in present.values()):
        raise UnreadableFile("no unit cell in this CIF")
    numbers = {k.rsplit("_", 1)[-1]: _number(v) for k, v in present.items()}
    check_cell_parameters(
        {k: v for k, v in numbers.items() if k in "abc" and v is not None},
        {_GREEK[k]: v for k, v in numbers.items() if k in _GREEK and v is not None},
    )
    bad = []
    for key, value in present.items():
        if value is None or (isinstance(value, str) and value.strip() in UNKNOWN):
            bad.append(key)
    if bad:
        # pymatgen can still build a cell from the crystal system; only a failure is reported.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lattice = parser.get_lattice(data)
        except Exception:  # noqa: BLE001 - pymatgen raises anything on a broken cell
            lattice = None
        if lattice is None:
            raise UnreadableFile(f"incomplete unit cell: {_describe_cell(present, bad)}")


def _describe_cell(present: Mapping[str, object], bad: list[str]) -> str:
    parts = []
    for key in bad:
        short = key.rsplit("_", 1)[-1]
        label = _GREEK.get(short, short)
        parts.append(f"{label} is missing" if present[key] is None else f"{label} is '?'")
    return ", ".join(parts)


def _has_sites(data: CifBlock) -> bool:
    return any(
        k.startswith("_atom_site_") and not k.startswith("_atom_site_aniso") for k in data.data
    )


def _check_sites(data: CifBlock) -> None:
    keys = data.data.keys()
    fract = [f"_atom_site_fract_{x}" for x in "xyz"]
    if not _has_sites(data):
        raise UnreadableFile("no atom sites in this block")
    if not any(k in keys for k in fract):
        if "_atom_site_cartn_x" in {k.lower() for k in keys}:
            raise UnreadableFile(
                "atom positions are given only as Cartesian coordinates (_atom_site_Cartn_x)"
            )
        raise UnreadableFile("no fractional coordinates (_atom_site_fract_x/y/z) for the atoms")
    missing = [k for k in fract if k not in keys]
    if missing:
        raise UnreadableFile(f"missing {', '.join(missing)} for the atoms")
    labels = _column(data, "_atom_site_label") or _column(data, "_atom_site_type_symbol") or []
    for key in fract:
        for row, value in enumerate(_column(data, key) or []):
            number = _number(value)
            if number is not None and not math.isfinite(number):
                who = labels[row] if row < len(labels) else f"row {row + 1}"
                raise UnreadableFile(
                    f"atom {who} has the coordinate {key.rsplit('_', 1)[-1]} = {value}: "
                    "it must be a number"
                )
    if "_atom_site_label" not in keys and "_atom_site_type_symbol" not in keys:
        raise UnreadableFile(
            "the atom sites have no element (no _atom_site_label or _atom_site_type_symbol)"
        )


def _check_size(parser: CifParser, data: CifBlock, name: str) -> None:
    """Refuse, before pymatgen builds it, a block whose symmetry would make more atoms than
    fit in memory (every listed site times every symmetry operation, an upper bound)."""
    sites = len(_column(data, "_atom_site_fract_x") or [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            operations = len(parser.get_symops(data)) or 1
    except Exception:  # noqa: BLE001 - pymatgen reports bad operations itself, later
        operations = 1
    refusal = too_many_atoms(
        sites * operations, f"block '{name}' ({sites:,} sites × {operations} symmetry operations)"
    )
    if refusal:
        raise UnreadableFile(refusal)


def _block_reason(exc: BaseException) -> str:
    text = _first_line(exc)
    if "could not convert string to float: '?'" in text:
        return "a number the structure needs is unknown ('?') in the file"
    if "could not convert string to float" in text:
        return f"a number in the file cannot be read ({text.split(':', 1)[-1].strip()})"
    if "exceeded tolerance" in text:
        return f"atoms overlap: {text}"
    if "below threshold" in text:
        return "the unit cell is flat or empty (a cell length is about zero)"
    if "symmetry operation" in text.lower() or "symop" in text.lower():
        return f"bad symmetry operations ({text})"
    return text


def _notices(messages: list[str]) -> list[str]:
    found = []
    for message in messages:
        for pattern, notice in _NOTICES:
            if pattern.search(message):
                found.append(notice)
    return found


def _duplicate_labels(data: CifBlock) -> list[str]:
    labels = _column(data, "_atom_site_label") or []
    counts = Counter(labels)
    return sorted(label for label, n in counts.items() if n > 1)[:8]
