"""Number formatting for people: percentages, counts with separators, hours; NaN shows as a dash."""
from __future__ import annotations

import math

from .strings import PERCENT

DASH = "—"


def _bad(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def value(indicator: str, v) -> str:
    if _bad(v):
        return DASH
    if indicator in PERCENT:
        return f"{v * 100:.1f}%"
    if indicator in ("mean_close_hours", "median_close_hours"):
        return f"{v:.1f} 小时" if v < 72 else f"{v / 24:.1f} 天"
    if indicator == "per_10k":
        return f"{v:.1f}"
    return f"{int(round(v)):,}"


def delta(indicator: str, now, before) -> str | None:
    """Change vs an earlier value, in the indicator's unit (percentage points for rates)."""
    if _bad(now) or _bad(before):
        return None
    if indicator in PERCENT:
        return f"{(now - before) * 100:+.1f} 个百分点"
    if indicator in ("mean_close_hours", "median_close_hours"):
        return f"{now - before:+.1f} 小时"
    if indicator == "per_10k":
        return f"{now - before:+.1f}"
    return f"{int(round(now - before)):+,}"
