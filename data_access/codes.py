"""Region codes: levels, prefixes and code ranges (the one place that knows the 12-digit scheme).

A region's subtree is every code that starts with its significant prefix; as a range,
``prefix <= code < next(prefix)``, which both databases answer from an ordinary index.
"""
from __future__ import annotations

import re

LEVELS = ("city", "county", "township", "village", "grid")
PREFIX_LEN = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12, "grid": 15}
CHILD_LEVEL = {"city": "county", "county": "township", "township": "village", "village": "grid"}
PARENT_LEVEL = {child: parent for parent, child in CHILD_LEVEL.items()}

_CODE = re.compile(r"^\d{12}(\d{3})?$")


def is_code(code: str) -> bool:
    return bool(_CODE.match(code or ""))


def level_of(code: str) -> str:
    """Level implied by the code's digits (12-digit codes; 15 digits is a grid)."""
    if len(code) == 15:
        return "grid"
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    if code[6:] == "0" * 6:
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


def prefix(code: str, level: str | None = None) -> str:
    return code[: PREFIX_LEN[level or level_of(code)]]


def code_range(code: str, level: str | None = None) -> tuple[str, str]:
    """(lo, hi) such that lo <= c < hi selects ``code``'s whole subtree."""
    p = prefix(code, level)
    return p, p[:-1] + chr(ord(p[-1]) + 1)


def pad(prefix_: str) -> str:
    """A significant prefix back to a full 12-digit code (grids keep 15)."""
    return prefix_ if len(prefix_) >= 12 else prefix_.ljust(12, "0")


def ancestors(code: str) -> list[str]:
    """Codes from the city down to ``code`` itself (the breadcrumb)."""
    lvl = level_of(code)
    out = []
    for level in LEVELS:
        out.append(pad(code[: PREFIX_LEN[level]]))
        if level == lvl:
            break
    return out
