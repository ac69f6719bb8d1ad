"""Just enough ELF (64-bit little-endian: Linux x86-64) for the bundle recipe, in plain Python.

Reads program headers and DT_NEEDED (what `readelf -l/-d` shows), and cuts the debug sections
out of libraries that `strip` cannot handle: auditwheel's patchelf appends segments after the
debug data, and binutils' strip re-lays the file out and breaks them ("ELF load command
address/offset not page-aligned"). `cut_debug_sections` moves nothing the loader reads: it
removes whole alignment units from the debug bytes and shifts what follows by that amount, so
every segment keeps its bytes and its offset stays congruent with its address.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_PHDR = struct.Struct("<IIQQQQQQ")  # type, flags, offset, vaddr, paddr, filesz, memsz, align
_SHDR = struct.Struct(
    "<IIQQQQIIQQ"
)  # name, type, flags, addr, offset, size, link, info, align, entsize
PT_LOAD, PT_DYNAMIC = 1, 2
SHT_NOBITS = 8
SHF_ALLOC = 0x2


@dataclass(frozen=True)
class Segment:
    type: int
    offset: int
    vaddr: int
    filesz: int
    align: int


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    offset: int
    size: int
    align: int


def _is_elf64(data: bytes) -> bool:
    return len(data) >= 64 and data[:4] == b"\x7fELF" and data[4:6] == b"\x02\x01"


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(64)


def segments(data: bytes) -> list[Segment]:
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        p_type, _, offset, vaddr, _, filesz, _, align = _PHDR.unpack_from(
            data, phoff + i * phentsize
        )
        out.append(Segment(p_type, offset, vaddr, filesz, align))
    return out


def sections(data: bytes) -> list[Section]:
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = [_SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    if not raw:
        return []
    names = raw[shstrndx][4]

    def name(at: int) -> str:
        return data[names + at : data.index(b"\0", names + at)].decode()

    return [Section(name(r[0]), r[1], r[2], r[4], r[5], r[8]) for r in raw]


def load_segments(path: Path) -> int | None:
    """How many PT_LOAD segments a 64-bit little-endian ELF file has; None for anything else."""
    head = _head(path)
    if not _is_elf64(head):
        return None
    with path.open("rb") as fh:
        (phoff,) = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return sum(struct.unpack_from("<I", table, i * phentsize)[0] == PT_LOAD for i in range(phnum))


def needed_libraries(path: Path) -> tuple[str, ...]:
    """The DT_NEEDED entries of an ELF file (sonames, as `readelf -d` lists them); () for others."""
    if not _is_elf64(_head(path)):
        return ()
    data = path.read_bytes()
    segs = segments(data)
    dynamic = next((s for s in segs if s.type == PT_DYNAMIC), None)
    if dynamic is None:
        return ()
    needed, strtab = [], None
    for at in range(dynamic.offset, dynamic.offset + dynamic.filesz, 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 0:
            break
        if tag == 1:
            needed.append(value)
        elif tag == 5:  # DT_STRTAB holds an address: find the file offset through its segment
            strtab = next(
                (
                    s.offset + value - s.vaddr
                    for s in segs
                    if s.type == PT_LOAD and s.vaddr <= value < s.vaddr + s.filesz
                ),
                None,
            )
    if strtab is None:
        return ()
    return tuple(data[strtab + n : data.index(b"\0", strtab + n)].decode() for n in needed)


def _masked(data: bytes | bytearray, offset: int, size: int, holes: list[tuple[int, int]]) -> bytes:
    """data[offset:offset+size] with the bytes inside `holes` (file offset ranges) zeroed."""
    chunk = bytearray(data[offset : offset + size])
    for low, high in holes:
        start, end = max(low, offset), min(high, offset + size)
        if start < end:
            chunk[start - offset : end - offset] = bytes(end - start)
    return bytes(chunk)


def _debug(section: Section) -> bool:
    return (
        not section.flags & SHF_ALLOC
        and section.type != SHT_NOBITS
        and section.size > 0
        and (section.name.startswith(".debug") or section.name in (".symtab", ".strtab"))
    )


def cut_debug_sections(path: Path) -> int:
    """Remove the debug sections and the symbol table from a library in place; bytes saved.

    Only when they form one block that no segment and no other section overlaps; 0 otherwise
    (the file is left as it was). Checks afterwards that every segment kept its bytes.
    """
    data = path.read_bytes()
    if not _is_elf64(data):
        return 0
    segs, secs = segments(data), sections(data)
    debug = [s for s in secs if _debug(s)]
    if not debug:
        return 0
    lo = min(s.offset for s in debug)
    hi = max(s.offset + s.size for s in debug)
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    overlaps = [s for s in secs if not _debug(s) and s.type != SHT_NOBITS and s.size > 0]
    if any(s.offset < hi and s.offset + s.size > lo for s in overlaps):
        return 0
    if any(s.filesz > 0 and s.offset < hi and s.offset + s.filesz > lo for s in segs):
        return 0
    if lo <= shoff < hi:
        return 0
    # Later segments and sections must stay aligned: cut whole units of their largest alignment.
    later = [s.align for s in segs if s.offset >= hi] + [s.align for s in secs if s.offset >= hi]
    unit = max([8, *later])
    cut = (hi - lo) // unit * unit
    if cut == 0:
        return 0
    out = bytearray(data[:lo] + data[lo + cut :])
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        at = phoff + i * phentsize
        fields = list(_PHDR.unpack_from(out, at))
        if fields[2] >= lo + cut:
            fields[2] -= cut
        _PHDR.pack_into(out, at, *fields)
    shoff_new = shoff - cut if shoff >= lo + cut else shoff
    struct.pack_into("<Q", out, 0x28, shoff_new)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        at = shoff_new + i * shentsize
        fields = list(_SHDR.unpack_from(out, at))
        section = secs[i]
        if _debug(section):  # now occupies no file space
            fields[1], fields[4], fields[5] = SHT_NOBITS, lo, 0
        elif fields[4] >= lo + cut:
            fields[4] -= cut
        _SHDR.pack_into(out, at, *fields)
    # Allowed to change: the ELF header and program headers (in the first segment) and the
    # section headers, which patchelf sometimes leaves inside a segment; the loader reads only
    # the program headers, and those are checked through the segments they describe.
    holes = [(0, phoff + phnum * phentsize), (shoff, shoff + shnum * shentsize)]
    holes_new = [(0, phoff + phnum * phentsize), (shoff_new, shoff_new + shnum * shentsize)]
    for old, new in zip(segs, segments(bytes(out)), strict=True):
        before = _masked(data, old.offset, old.filesz, holes)
        if before != _masked(out, new.offset, new.filesz, holes_new):
            raise RuntimeError(f"{path}: a segment changed while cutting debug sections")
        if new.offset != old.offset and old.align > 1 and (old.offset - new.offset) % old.align:
            raise RuntimeError(f"{path}: a segment lost its alignment while cutting debug sections")
    tmp = path.with_name(path.name + ".cut")
    tmp.write_bytes(out)
    os.chmod(tmp, path.stat().st_mode)
    os.replace(tmp, path)
    return cut
