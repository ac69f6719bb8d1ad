"""Counts in words a person reads: "1 page", "2 pages", "1 synthesis step", "0 values"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` and the noun in the number it takes; `plural` where adding "s" is wrong
    ("process" → "processes")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
