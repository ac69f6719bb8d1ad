"""How large a structure this computer can open, and how large a file looks before it is parsed.

Opening a cell costs memory in proportion to its atoms: pymatgen sites, the symmetry search,
bonds and the drawn scene. A cell whose atoms would not fit in the memory left is refused before
it is built, with the size that would fit. A file that is merely slow to read (pymatgen's CIF
reader is quadratic in the sites of a block) is told apart from a malformed one by a cheap count
of its atom lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

# Peak memory per atom of opening a structure in the window, rounded up: 20,384-atom rock salt
# (22,707 atoms drawn) raised the window's peak by about 300 MB (13 kB per atom) and the
# reader's child peaked at 180 MB; `matlens structure info` peaked at 133 MB in all.
BYTES_PER_ATOM = 20_000
MEMORY_SHARE = 0.5  # of the memory left: the rest stays for the window and other programs
LARGE_SITES = 2_000  # above this many atom lines, a slow read is a large file, not a broken one


def available_bytes() -> int | None:
    """Memory the system can still give (Linux MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # not a dependency: used where installed (Windows, macOS)
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def max_atoms() -> int | None:
    """The most atoms a structure may have to be opened now, or None where memory is unknown."""
    available = available_bytes()
    if available is None:
        return None
    return max(1_000, int(available * MEMORY_SHARE / BYTES_PER_ATOM))


def too_many_atoms(atoms: int, what: str) -> str | None:
    """A one-line refusal when `atoms` would not fit in the memory left, else None."""
    limit = max_atoms()
    if limit is None or atoms <= limit:
        return None
    gigabytes = (available_bytes() or 0) / 1e9
    return (
        f"{what} would hold up to {atoms:,} atoms, more than fit in the memory left "
        f"({gigabytes:.1f} GB free: at most about {limit:,} atoms); "
        "open a smaller cell or close other programs"
    )


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(\(\d+\))?$")


def _looks_like_atom_row(line: str) -> bool:
    """'Na1 Na 0.0 0.5 0.5 1': a name first, then at least three numbers."""
    fields = line.split()
    return (
        len(fields) >= 4
        and fields[0][:1].isalpha()
        and sum(1 for f in fields[1:] if _NUMBER.match(f)) >= 3
    )


def count_atom_lines(path: str | os.PathLike[str], limit_bytes: int = 64_000_000) -> int | None:
    """About how many atoms a file lists (CIF rows, POSCAR counts, XYZ first line), read as
    text without pymatgen; None when it cannot tell. Used to word a time-out."""
    path = Path(path)
    try:
        if path.stat().st_size > limit_bytes:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    name = path.name.lower()
    if name.endswith((".cif", ".mcif")):
        return sum(1 for line in text.splitlines() if _looks_like_atom_row(line))
    lines = text.splitlines()
    if name.endswith(".xyz") and lines:
        first = lines[0].strip()
        return int(first) if first.isdigit() else None
    if name.endswith(".vasp") or "poscar" in name or "contcar" in name:
        for line in lines[5:7]:
            fields = line.split()
            if fields and all(f.isdigit() for f in fields):
                return sum(int(f) for f in fields)
    return None
