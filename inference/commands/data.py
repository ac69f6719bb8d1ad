"""`matlens data query|build`: search the shipped property tables offline.

    matlens data query --all Ca,Ti,O --band-gap-min 2 [--json] [--csv OUT.csv]
    matlens data build            # (re)build the SQLite store from crabnet's tables

A composition matches when it holds all of --all, at least one of --any and none of --none, and
has a value in every given range; each matching value is one row with its unit and source.
"""

from __future__ import annotations

import argparse
import math
import sys

from inference.prediction.materials_query import PROPERTIES

_FLAGS = {
    "band_gap": "band-gap",
    "formation_energy": "formation-energy",
    "bulk_modulus": "bulk-modulus",
    "shear_modulus": "shear-modulus",
    "yield_strength": "yield-strength",
}


def _finite(text: str) -> float:
    """A range bound: "nan" matched nothing and "inf" everything, both without a word."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def _at_least_one(text: str) -> int:
    """--limit: 0 and -1 showed 0 rows, exit 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1 row")
    return value


def register(sub) -> None:
    p = sub.add_parser("data", help="search the shipped materials tables (offline)")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("query", help="element filters and property ranges")
    q.add_argument("--all", default="", help="elements that must all be present (Ca,Ti,O)")
    q.add_argument("--any", default="", help="at least one of these elements")
    q.add_argument("--none", default="", help="none of these elements")
    for prop, flag in _FLAGS.items():
        unit = PROPERTIES[prop]
        q.add_argument(f"--{flag}-min", type=_finite, help=f"lowest {prop} ({unit})")
        q.add_argument(f"--{flag}-max", type=_finite, help=f"highest {prop} ({unit})")
    q.add_argument(
        "--method", choices=["experiment", "DFT"], help="only experimental or only DFT tables"
    )
    q.add_argument("--limit", type=_at_least_one, default=2000, help="rows shown (default 2000)")
    q.add_argument("--csv", help="also write every shown row to this CSV file")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(handler=run_query, writes=("csv",))
    b = actions.add_parser("build", help="build the store from crabnet's tables (set-up time)")
    b.set_defaults(handler=run_build)


def run_query(args) -> int:
    from pathlib import Path

    from inference.cli import print_json
    from inference.prediction.materials_query import (
        MaterialsQuery,
        parse_elements,
        query_materials,
        rows_to_csv,
    )

    ranges = {}
    for prop, flag in _FLAGS.items():
        lo = getattr(args, f"{flag.replace('-', '_')}_min")
        hi = getattr(args, f"{flag.replace('-', '_')}_max")
        if lo is not None or hi is not None:
            ranges[prop] = (lo, hi)
    query = MaterialsQuery(
        all_of=parse_elements(args.all),
        any_of=parse_elements(args.any),
        none_of=parse_elements(args.none),
        ranges=ranges,
        method=args.method or "",
        limit=args.limit,
    )
    result = query_materials(query)
    if args.csv:
        rows_to_csv(result.rows, Path(args.csv))
    if args.json:
        print_json(result.to_json())
        return 0
    print(
        f"{result.total} values for {result.compounds} compositions "
        f"({result.seconds * 1000:.0f} ms); showing {len(result.rows)}"
    )
    for r in result.rows:
        note = f"  ({r.note})" if r.note else ""
        print(f"{r.formula:24s} {r.prop:18s} {r.shown:>10s} {r.unit:8s} {r.method}{note}")
    return 0


def run_build(args) -> int:
    from inference.prediction.materials_store import build_store, build_target

    path = build_store(build_target(), progress=lambda f, m: m and print(m, file=sys.stderr))
    print(f"built {path}")
    return 0
