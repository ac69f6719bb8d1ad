"""Sizes a user writes in an environment variable: `8G`, `500M`, `1.5GB`, `512MiB`, `4096`."""

from __future__ import annotations

import os
import re

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int | None:
    """Bytes in `text` (binary units, case-insensitive), or None when it is not a size."""
    text = text.strip().upper().removesuffix("B")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)I?", text)
    return int(float(match.group(1)) * _UNITS[match.group(2)]) if match else None


def size_from_environment(name: str) -> int | None:
    """The size set in the environment variable `name`, or None when unset or unreadable."""
    return parse_size(os.environ.get(name, ""))
