"""`matlens structure info|render|xrd|export FILE ...`: the Structures pane from the shell.

    matlens structure info FILE [--json] [--symprec 0.01] [--cell as-read|primitive|conventional]
    matlens structure render FILE --out VIEW.png [--supercell 2,2,2] [--style polyhedral]
    matlens structure xrd FILE --out PEAKS.csv [--radiation CuKa | --wavelength 1.5406]
    matlens structure export FILE --out OUT.cif [--format cif-symmetrized|cif-p1|poscar|xyz]
                             [--supercell 2,2,2]

A CIF with several data blocks gives a JSON list for `info`; the other actions take the first
block unless `--block NAME` (or a 1-based number) says otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import MatLensError

if TYPE_CHECKING:
    from inference.structures.export import ExportFormat


def register(sub) -> None:
    p = sub.add_parser("structure", help="crystal structures: info, render, XRD, export")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    info = actions.add_parser("info", help="formula, space group, cell, density, sites")
    _common(info)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument("--sites", action="store_true", help="include the site table")
    info.set_defaults(handler=run_info)

    render = actions.add_parser("render", help="draw the structure offscreen into a PNG")
    _common(render)
    render.add_argument("--out", required=True, help="PNG file to write")
    render.add_argument("--supercell", default="1,1,1", metavar="A,B,C")
    render.add_argument(
        "--style",
        default="ball-and-stick",
        choices=["ball-and-stick", "space-filling", "sticks", "polyhedral"],
    )
    render.add_argument("--size", default="1600x1200", metavar="WxH", help="pixels")
    render.add_argument("--view", metavar="a|b|c|UVW", help="look along an axis or [uvw]")
    render.add_argument("--perspective", action="store_true", help="default: orthographic")
    render.add_argument("--labels", action="store_true", help="label the atoms")
    render.add_argument("--hide", default="", metavar="EL,EL", help="elements not to draw")
    render.set_defaults(handler=run_render, reads=("file",), writes=("out",))

    xrd = actions.add_parser("xrd", help="powder XRD peaks as CSV (or JSON)")
    _common(xrd)
    xrd.add_argument("--out", help="CSV file (default: print JSON)")
    xrd.add_argument("--radiation", default="CuKa", help="CuKa, MoKa, CoKa, CuKa1...")
    xrd.add_argument("--wavelength", type=float, metavar="Å", help="custom wavelength")
    xrd.add_argument("--range", default="5,90", metavar="MIN,MAX", help="2θ range in degrees")
    xrd.set_defaults(handler=run_xrd, reads=("file",), writes=("out",))

    export = actions.add_parser("export", help="write CIF (symmetrised or P1), POSCAR or XYZ")
    _common(export)
    export.add_argument("--out", required=True)
    export.add_argument(
        "--supercell",
        default="1,1,1",
        metavar="A,B,C",
        help="write this supercell (CIF in P1, POSCAR, XYZ), as the pane writes the one shown",
    )
    export.add_argument(
        "--format",
        choices=["cif-symmetrized", "cif-p1", "poscar", "xyz"],
        help="default: from the extension (.cif → symmetrised CIF, .vasp/POSCAR, .xyz)",
    )
    export.set_defaults(handler=run_export)


def _common(p) -> None:
    p.add_argument("file")
    p.add_argument("--block", help="data block name or 1-based number (multi-block CIF)")
    p.add_argument("--cell", default="as-read", choices=["as-read", "primitive", "conventional"])
    p.add_argument(
        "--symprec",
        type=_number("a tolerance in Å above 0, at most 1", low=0.0, high=1.0),
        default=0.01,
        help="symmetry tolerance in Å",
    )
    p.add_argument(
        "--occupancy-tolerance",
        type=_number(
            "1 or more (occupancies summing up to it are scaled to 1)", low=1.0, low_allowed=True
        ),
        default=1.05,
        help="scale site occupancies up to this sum to 1",
    )
    p.add_argument(
        "--timeout",
        type=_number("seconds above 0", low=0.0),
        default=30.0,
        help="seconds that reading, and then the symmetry search, may each take "
        "(default 30; a cell of many thousand atoms can need 300 or more)",
    )


def _number(expected: str, low: float, high: float = math.inf, *, low_allowed: bool = False):
    """An option's number, refused in one line unless finite and between `low` (itself only
    where `low_allowed`) and `high`: spglib given a tolerance of -1 or nan killed the process
    (SIGSEGV), and a negative time limit meant none."""
    import argparse

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above = value >= low if low_allowed else value > low
        if not (math.isfinite(value) and above and value <= high):
            raise argparse.ArgumentTypeError(f"'{text}': expected {expected}")
        return value

    return parse


MAX_RENDER_SIDE = 8192  # a print at 600 dpi across 35 cm


# loading ---------------------------------------------------------------------------------------
def _options(args):
    from inference.structures.io import ReadOptions

    return ReadOptions(occupancy_tolerance=args.occupancy_tolerance, timeout_s=args.timeout)


def _more_time(exc) -> MatLensError:
    """A time-out, with the option that gives more time."""
    return MatLensError(f"{exc} (run again with --timeout {exc.more_time_s:g})")


def _load(args):
    from inference.structures.io import TooSlow, load_structures

    try:
        return load_structures(Path(args.file), _options(args))
    except TooSlow as exc:
        raise _more_time(exc) from None


def _structure(args, block):
    """The chosen cell, found in the reader's child process (spglib never runs here)."""
    from inference.structures.io import TooSlow
    from inference.structures.isolated import analyse_safely

    if not block.periodic or args.cell == "as-read":
        return block.structure, []
    try:
        analysed = analyse_safely(
            block, args.cell, args.symprec, path=Path(args.file), time_limit_s=args.timeout
        )
    except TooSlow as exc:
        raise _more_time(exc) from None
    return analysed.structure, [n for n in analysed.notices if n not in block.notices]


def _ints(text: str, what: str, count: int) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) != count or min(values, default=0) < 1:
        raise MatLensError(f"bad {what} '{text}': expected {count} positive whole numbers")
    return values


# actions ---------------------------------------------------------------------------------------
def run_info(args) -> int:
    from inference.cli import print_json
    from inference.structures.io import TooSlow
    from inference.structures.isolated import summarize_safely

    try:
        summary = summarize_safely(
            Path(args.file), _options(args), args.block, args.cell, args.symprec
        )
    except TooSlow as exc:
        raise _more_time(exc) from None
    skipped = [f"block '{s.name}' skipped: {s.reason}" for s in summary.skipped]
    records = []
    for block in summary.blocks:
        info = block.info
        record = {"block": block.name, **info.to_json()}
        record["notices"] = list(dict.fromkeys([*block.notices, *record["notices"], *skipped]))
        if args.sites:
            record["sites"] = [
                {
                    "label": s.label,
                    "species": s.species,
                    "occupancy": round(s.occupancy, 6),
                    "frac": [round(v, 6) for v in s.frac],
                    "wyckoff": s.wyckoff,
                }
                for s in info.sites
            ]
        records.append((record, info))
    if args.json:
        data = [r for r, _ in records]
        print_json(data if len(data) > 1 else data[0])
        return 0
    for n, (record, info) in enumerate(records):
        if n:
            print()
        print(_text(record, info, summary.path.name, len(records) > 1))
    return 0


def _text(record: dict, info, name: str, several: bool) -> str:
    lines = [f"{name} [{record['block']}]" if several else name]
    lines.append(f"  formula        {record['formula']} ({record['reduced_formula']})")
    if info.spacegroup_symbol:
        lines.append(
            f"  space group    {info.spacegroup_symbol} (No. {info.spacegroup_number}), "
            f"{info.crystal_system}"
        )
    if info.lattice:
        lat = info.lattice
        lines.append(f"  a, b, c        {lat.a:.4f}, {lat.b:.4f}, {lat.c:.4f} Å")
        lines.append(f"  α, β, γ        {lat.alpha:.3f}, {lat.beta:.3f}, {lat.gamma:.3f}°")
        lines.append(f"  volume         {lat.volume:.3f} Å³")
        if info.density is not None:
            lines.append(f"  density        {info.density:.4f} g/cm³")
    elif info.point_group:
        lines.append(f"  point group    {info.point_group} (molecule)")
    lines.append(f"  sites          {info.nsites}")
    lines.extend(f"  note: {n}" for n in record["notices"])
    return "\n".join(lines)


def run_render(args) -> int:
    from inference.structures.bonds import find_bonds
    from inference.structures.rendering import RenderRequest, render
    from inference.structures.scene import SceneOptions, build_scene
    from inference.structures.views import AXES, parse_uvw

    supercell = _ints(args.supercell, "--supercell", 3)
    size = _ints(args.size, "--size", 2)
    if max(size) > MAX_RENDER_SIDE:  # 20000x20000 took 4.5 GB and a PNG PIL will not open
        raise MatLensError(f"bad --size '{args.size}': at most {MAX_RENDER_SIDE} pixels a side")
    view = None
    if args.view:
        view = AXES.get(args.view.lower()) or parse_uvw(args.view)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise MatLensError(f"--out must be a .png file, not '{out.name}'")
    block = _load(args).block(args.block)
    structure, _ = _structure(args, block)
    hidden = frozenset(e.strip() for e in args.hide.split(",") if e.strip())
    repeats = (supercell[0], supercell[1], supercell[2])
    options = SceneOptions(style=args.style, supercell=repeats, hidden_elements=hidden)
    scene = build_scene(
        structure, find_bonds(structure, periodic=block.periodic), options, block.periodic
    )
    path = render(
        RenderRequest(
            scene=scene,
            out=out,
            size=(size[0], size[1]),
            view=view,
            projection="perspective" if args.perspective else "orthographic",
            labels=args.labels,
        )
    )
    print(f"wrote {path} ({len(scene.atoms):,} atoms, {len(scene.bonds):,} bonds)")
    return 0


def run_xrd(args) -> int:
    from inference.cli import print_json
    from inference.structures.xrd import compute_xrd, write_csv

    lo, hi = _floats(args.range, "--range")
    block = _load(args).block(args.block)
    if not block.periodic:
        raise MatLensError("a molecule has no powder pattern: the file has no unit cell")
    structure, _ = _structure(args, block)
    radiation = args.wavelength if args.wavelength is not None else args.radiation
    pattern = compute_xrd(structure, radiation, (lo, hi))
    if args.out:
        write_csv(pattern, args.out)
        print(f"wrote {args.out} ({len(pattern.peaks)} peaks, λ = {pattern.wavelength:.5f} Å)")
        return 0
    print_json(
        {
            "wavelength": pattern.wavelength,
            "radiation": pattern.radiation,
            "peaks": [
                {
                    "two_theta": round(p.two_theta, 4),
                    "intensity": round(p.intensity, 3),
                    "d_spacing": round(p.d_spacing, 5),
                    "hkl": [list(h) for h in p.hkls],
                    "multiplicity": list(p.multiplicities),
                }
                for p in pattern.peaks
            ],
        }
    )
    return 0


def _floats(text: str, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise MatLensError(f"bad {what} '{text}': expected MIN,MAX") from None
    return lo, hi


def run_export(args) -> int:
    from inference.structures.export import export_structure

    out = Path(args.out)
    fmt: ExportFormat = args.format or _format_for(out)
    a, b, c = _ints(args.supercell, "--supercell", 3)
    block = _load(args).block(args.block)
    if not block.periodic and (a, b, c) != (1, 1, 1):
        raise MatLensError(f"{Path(args.file).name} is a molecule (no cell): it has no supercell")
    structure, _ = _structure(args, block)
    saved = export_structure(
        structure, out, fmt, symprec=args.symprec, read_from=Path(args.file), repeats=(a, b, c)
    )
    print(f"wrote {saved.path}" + (f" ({saved.notice})" if saved.notice else ""))
    return 0


def _format_for(out: Path) -> ExportFormat:
    name = out.name.lower()
    if name.endswith(".cif"):
        return "cif-symmetrized"
    if name.endswith(".vasp") or "poscar" in name or "contcar" in name:
        return "poscar"
    if name.endswith(".xyz"):
        return "xyz"
    raise MatLensError(f"cannot tell the format from '{out.name}': add --format")
