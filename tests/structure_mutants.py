"""Broken and extreme structure files, made from real ones at test time (never stored).

Each `Mutant` is one file a person might really meet: a download cut short, a header with
flipped bytes, a cell with NaN or zero lengths, an element that does not exist, a huge cell, a
CIF with two blocks of which one is bad. `write_corpus` writes them into a folder; the fuzz test
and `benchmarks/structure_fuzz.py` run every one through `matlens structure info` and judge the
outcome with `classify`.

Sources: the bundled samples (resources/samples, CC0), COD-toolkit CIFs and JARVIS POSCARs in
../shared/data/structures (see its MANIFEST for licences).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cli_harness import CliRun

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "resources" / "samples"

# Sources in ../shared/data/structures (relative paths): two ordinary CIFs and three POSCARs.
SHARED_CIFS = ("cod_tools_cifs/cell-sigma.cif", "cod_tools_cifs/1004001-disorder.cif")
SHARED_POSCARS = (
    "alignn_poscar/POSCAR-JVASP-10.vasp",
    "alignn_poscar/POSCAR-JVASP-1996.vasp",
    "alignn_poscar/POSCAR-JVASP-60702.vasp",
)
HUGE_TIMEOUT_S = 3  # the 20,000-atom case is run with this --timeout: its message is the test

CATEGORIES = (
    "truncated",
    "header bytes flipped",
    "NaN / inf cell",
    "zero / flat cell",
    "unknown element",
    "huge cell",
    "two blocks",
)


@dataclass(frozen=True)
class Mutant:
    category: str
    name: str  # file name, unique in the corpus
    data: bytes
    extra_args: tuple[str, ...] = field(default=())  # e.g. a short --timeout for huge files


def _set_item(text: str, key: str, value: str) -> str:
    """Replace the value of a one-line CIF item (the first one)."""
    pattern = re.compile(rf"^(\s*{re.escape(key)}\s+)\S+.*$", re.MULTILINE)
    changed, n = pattern.subn(lambda m: f"{m.group(1)}{value}", text, count=1)
    if not n:
        raise ValueError(f"{key} not in the source")
    return changed


def _poscar_lines(text: str) -> list[str]:
    return text.splitlines()


def _poscar(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _flip(data: bytes, offsets: tuple[int, ...]) -> bytes:
    out = bytearray(data)
    for i in offsets:
        if i < len(out):
            out[i] ^= 0xFF
    return bytes(out)


def nacl_supercell_cif(repeats: tuple[int, int, int], name: str = "big") -> bytes:
    """A valid P1 CIF of a rock-salt supercell (8 atoms per cell): 14×14×13 gives 20,384."""
    a = 5.6402
    base = (
        ("Na", (0, 0, 0)),
        ("Na", (0, 0.5, 0.5)),
        ("Na", (0.5, 0, 0.5)),
        ("Na", (0.5, 0.5, 0)),
        ("Cl", (0.5, 0, 0)),
        ("Cl", (0, 0.5, 0)),
        ("Cl", (0, 0, 0.5)),
        ("Cl", (0.5, 0.5, 0.5)),
    )
    na, nb, nc = repeats
    lines = [
        f"data_{name}",
        f"_cell_length_a {a * na:.4f}",
        f"_cell_length_b {a * nb:.4f}",
        f"_cell_length_c {a * nc:.4f}",
        "_cell_angle_alpha 90",
        "_cell_angle_beta 90",
        "_cell_angle_gamma 90",
        "_symmetry_space_group_name_H-M 'P 1'",
        "loop_",
        "_symmetry_equiv_pos_as_xyz",
        "'x, y, z'",
        "loop_",
        "_atom_site_label",
        "_atom_site_type_symbol",
        "_atom_site_fract_x",
        "_atom_site_fract_y",
        "_atom_site_fract_z",
    ]
    k = 0
    for i in range(na):
        for j in range(nb):
            for m in range(nc):
                for element, (x, y, z) in base:
                    k += 1
                    lines.append(
                        f"{element}{k} {element} {(i + x) / na:.6f} {(j + y) / nb:.6f} "
                        f"{(m + z) / nc:.6f}"
                    )
    return ("\n".join(lines) + "\n").encode()


def _symmetry_explosion(nacl: str, sites: int) -> bytes:
    """NaCl's 192 Fm-3m operations applied to `sites` general positions: sites × 192 atoms."""
    head, _, _ = nacl.partition("loop_\n _atom_site_type_symbol")
    rows = [
        f"  Na  Na{i + 1}  192  {0.013 + 0.41 * i / sites:.6f}  {0.021 + 0.37 * i / sites:.6f}  "
        f"{0.037 + 0.29 * i / sites:.6f}  1"
        for i in range(sites)
    ]
    loop = (
        "loop_\n _atom_site_type_symbol\n _atom_site_label\n _atom_site_symmetry_multiplicity\n"
        " _atom_site_fract_x\n _atom_site_fract_y\n _atom_site_fract_z\n _atom_site_occupancy\n"
    )
    return (head + loop + "\n".join(rows) + "\n").encode()


def build(shared_root: Path | None) -> list[Mutant]:
    """Every mutant; those made from ../shared/data only when `shared_root` exists."""
    nacl = (SAMPLES / "NaCl.cif").read_text()
    srtio3 = (SAMPLES / "SrTiO3.cif").read_text()
    cuau = (SAMPLES / "CuAu_disordered.cif").read_text()
    two = (SAMPLES / "NaCl_KCl_two_blocks.cif").read_text()
    sources: dict[str, bytes] = {
        "NaCl.cif": nacl.encode(),
        "SrTiO3.cif": srtio3.encode(),
        "CuAu.cif": cuau.encode(),
    }
    poscars: dict[str, str] = {}
    if shared_root is not None and shared_root.is_dir():
        for rel in SHARED_CIFS:
            path = shared_root / rel
            if path.exists():
                sources[path.name] = path.read_bytes()
        for rel in SHARED_POSCARS:
            path = shared_root / rel
            if path.exists():
                poscars[path.stem] = path.read_text()
    if not poscars:  # a POSCAR written from NaCl, so POSCAR cases exist without shared data
        poscars["POSCAR-NaCl"] = (
            "NaCl\n1.0\n0 2.8201 2.8201\n2.8201 0 2.8201\n2.8201 2.8201 0\nNa Cl\n1 1\n"
            "direct\n0 0 0\n0.5 0.5 0.5\n"
        )
    for stem, text in poscars.items():
        sources[f"{stem}.vasp"] = text.encode()
    first_poscar = next(iter(poscars.values()))
    small = _poscar_lines(poscars.get("POSCAR-JVASP-1996", first_poscar))

    out: list[Mutant] = []

    def add(category: str, name: str, data: bytes | str, *extra: str) -> None:
        blob = data.encode() if isinstance(data, str) else data
        out.append(Mutant(category, name, blob, tuple(extra)))

    # truncated downloads ------------------------------------------------------------------------
    for source, blob in sources.items():
        stem, ext = source.rsplit(".", 1)
        for fraction in (0.3, 0.75):
            add(
                "truncated",
                f"cut{int(fraction * 100)}-{stem}.{ext}",
                blob[: int(len(blob) * fraction)],
            )

    # flipped header bytes -----------------------------------------------------------------------
    for source in ("NaCl.cif", "SrTiO3.cif", next(s for s in sources if s.endswith(".vasp"))):
        blob = sources[source]
        stem, ext = source.rsplit(".", 1)
        start = blob.find(b"data_") if ext == "cif" else 0
        for offsets in ((start + 2,), (start + 20, start + 21), tuple(range(start, start + 64))):
            tag = "all64" if len(offsets) > 2 else "-".join(map(str, offsets))
            add("header bytes flipped", f"flip{tag}-{stem}.{ext}", _flip(blob, offsets))

    # NaN and infinite cells ---------------------------------------------------------------------
    add("NaN / inf cell", "nan-a-NaCl.cif", _set_item(nacl, "_cell_length_a", "nan"))
    add("NaN / inf cell", "nan-alpha-NaCl.cif", _set_item(nacl, "_cell_angle_alpha", "nan"))
    add("NaN / inf cell", "inf-c-SrTiO3.cif", _set_item(srtio3, "_cell_length_c", "inf"))
    add(
        "NaN / inf cell",
        "nan-x-SrTiO3.cif",
        srtio3.replace("  Sr  Sr1  1  0.00000000", "  Sr  Sr1  1  nan", 1),
    )
    lines = list(small)
    lines[1] = "nan"
    add("NaN / inf cell", "nan-scale-POSCAR.vasp", _poscar(lines))
    lines = list(small)
    lines[1] = "inf"
    add("NaN / inf cell", "inf-scale-POSCAR.vasp", _poscar(lines))
    lines = list(small)
    lines[2] = "nan 0.0 0.0"
    add("NaN / inf cell", "nan-vector-POSCAR.vasp", _poscar(lines))

    # zero, negative and flat cells, overlapping atoms -------------------------------------------
    add("zero / flat cell", "zero-a-NaCl.cif", _set_item(nacl, "_cell_length_a", "0"))
    add("zero / flat cell", "negative-a-NaCl.cif", _set_item(nacl, "_cell_length_a", "-5.64"))
    flat = nacl
    for angle in ("alpha", "beta", "gamma"):
        flat = _set_item(flat, f"_cell_angle_{angle}", "120")
    add("zero / flat cell", "flat-120-NaCl.cif", flat)
    add("zero / flat cell", "alpha0-NaCl.cif", _set_item(nacl, "_cell_angle_alpha", "0"))
    add("zero / flat cell", "alpha180-SrTiO3.cif", _set_item(srtio3, "_cell_angle_alpha", "180"))
    add("zero / flat cell", "tiny-a-NaCl.cif", _set_item(nacl, "_cell_length_a", "1e-9"))
    for tag, scale in (("zero", "0"), ("minus-zero", "-0.0")):
        lines = list(small)
        lines[1] = scale
        add("zero / flat cell", f"{tag}-scale-POSCAR.vasp", _poscar(lines))
    lines = list(small)
    lines[4] = lines[3]  # the third lattice vector equals the second: no volume
    add("zero / flat cell", "coplanar-POSCAR.vasp", _poscar(lines))
    overlap = "Overlap\n1.0\n4 0 0\n0 4 0\n0 0 4\nNa Cl\n1 1\ndirect\n0.1 0.1 0.1\n0.1 0.1 0.1\n"
    add("zero / flat cell", "overlap-POSCAR.vasp", overlap)

    # elements that do not exist -----------------------------------------------------------------
    add(
        "unknown element",
        "Xx-NaCl.cif",
        nacl.replace("  Na  Na1", "  Xx  Xx1"),
    )
    add(
        "unknown element",
        "Xx-label-only-SrTiO3.cif",
        re.sub(r"^\s*_atom_site_type_symbol\n", "", srtio3, flags=re.M)
        .replace("  Sr  Sr1", "  Xx1", 1)
        .replace("  Ti  Ti1", "  Ti1", 1)
        .replace("  O  O1", "  O1", 1),
    )
    lines = list(small)
    lines[5] = "Xx " + " ".join(lines[5].split()[1:])
    add("unknown element", "Xx-POSCAR.vasp", _poscar(lines))

    # huge cells ---------------------------------------------------------------------------------
    add(
        "huge cell",
        "big-20384-atoms.cif",
        nacl_supercell_cif((14, 14, 13)),
        "--timeout",
        str(HUGE_TIMEOUT_S),
    )
    long = nacl
    for axis in "abc":
        long = _set_item(long, f"_cell_length_{axis}", "1000000")
    add("huge cell", "huge-lengths-NaCl.cif", long)
    # 50,000 sites × 192 operations: 9.6 million atoms, about 190 GB to open; refused up front
    add("huge cell", "symmetry-explosion-NaCl.cif", _symmetry_explosion(nacl, 50_000))
    lines = list(small)
    lines[6] = "100000000 1"
    add("huge cell", "huge-count-POSCAR.vasp", _poscar(lines))

    # two blocks ---------------------------------------------------------------------------------
    add("two blocks", "two-blocks-ok.cif", two)
    second = two.index("data_", two.index("data_") + 5)
    add(
        "two blocks",
        "two-blocks-second-nan.cif",
        two[:second] + _set_item(two[second:], "_cell_length_a", "nan"),
    )
    add(
        "two blocks",
        "two-blocks-first-Xx.cif",
        two[:second].replace("  Na  Na1", "  Xx  Xx1") + two[second:],
    )
    add(
        "two blocks",
        "two-blocks-both-zero.cif",
        _set_item(two[:second], "_cell_length_a", "0")
        + _set_item(two[second:], "_cell_length_b", "0"),
    )
    add(
        "two blocks",
        "two-blocks-same-name.cif",
        two[:second] + two[second:].replace("data_", "data_NaCl_rocksalt\n#", 1),
    )
    names = [m.name for m in out]
    assert len(names) == len(set(names)), "mutant names must be unique"
    return out


def write_corpus(folder: Path, shared_root: Path | None) -> list[tuple[Mutant, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for mutant in build(shared_root):
        path = folder / mutant.name
        path.write_bytes(mutant.data)
        written.append((mutant, path))
    return written


# judging ----------------------------------------------------------------------------------------
OUTCOMES = ("ok", "clear error", "unclear", "traceback", "crash", "hang")

# Library wording that tells a person nothing about their file.
_JARGON = re.compile(
    r"Unexpected error|Singular matrix|division|list index|NoneType|has no attribute|"
    r"invalid literal|out of bounds|unpack|broadcast|Error:|Error\)|cannot convert float|"
    r"modulo by zero|not a multiple of n=",
    re.IGNORECASE,
)


def classify(run: CliRun, path: Path) -> tuple[str, str]:
    """(outcome, why) for one `matlens structure info` run, as the issue's table counts it."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    if run.timed_out:
        return "hang", f"killed after {run.seconds:.0f} s"
    if run.returncode < 0 or run.returncode > 2:
        return "crash", f"exit {run.returncode}"
    if "Traceback" in run.stderr:
        return "traceback", run.stderr.strip().splitlines()[-1]
    if run.returncode == 0:
        if not run.stdout.strip():
            return "unclear", "exit 0 without a result"
        numbers = "\n".join(
            line.replace(path.name, "") for line in run.stdout.splitlines() if "note:" not in line
        )
        if re.search(r"\bnan\b|\binf\b", numbers, re.IGNORECASE):
            return "unclear", "a result with NaN or inf numbers"
        return "ok", run.stdout.strip().splitlines()[0]
    if run.returncode != 2 or len(lines) != 1:
        return "unclear", f"exit {run.returncode}, {len(lines)} lines on stderr"
    line = lines[0]
    if path.name not in line:
        return "unclear", f"does not name the file: {line}"
    if _JARGON.search(line.replace(path.name, "")):
        return "unclear", line
    return "clear error", line
