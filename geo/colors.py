"""Colour scales of the map and the ranking bars (pure: values in, hex colours and legend entries out).

- Indicators: a 5-class sequential scale over the children's range, light = better, dark = worse, with the
  direction from ``analytics.indicators.HIGHER_IS_BETTER``; NaN ("no data") is grey.
- Warnings: the colours of the rules (``analytics.warnings.level_color``), the only source of warning colours,
  including the grey of 数据不足.
- Case points: closed / open / overdue.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.indicators import HIGHER_IS_BETTER
from analytics.warnings import NO_DATA, Rules, level_color

#: Light (better) to dark (worse): ColorBrewer OrRd, readable on white and on a projector.
SEQUENTIAL: tuple[str, ...] = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
NAN_COLOR = "#cfd4da"
#: Case points by state (data_access.points.CLOSED, OPEN, OVERDUE).
POINT_COLORS: tuple[str, ...] = ("#78909c", "#1e88e5", "#d81b60")
WARNING = "warning"


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a colour and the values it stands for (``lo``..``hi``), or a named level."""
    color: str
    lo: float | None = None
    hi: float | None = None
    name: str | None = None
    count: int = 0


@dataclass(frozen=True)
class Scale:
    """Colour per input value (same order) and the legend, best to worst, then no data."""
    colors: list[str]
    legend: list[LegendEntry] = field(default_factory=list)
    higher_better: bool = True


def rgba(color: str, alpha: int = 255) -> list[int]:
    """'#rrggbb' to [r, g, b, a] for deck.gl."""
    c = color.lstrip("#")
    return [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), int(alpha)]


def indicator_scale(values, indicator: str, palette: tuple[str, ...] = SEQUENTIAL) -> Scale:
    """Equal-interval classes between the smallest and largest value; darker = worse for ``indicator``.

    All NaN: everything grey, the legend has only the no-data row. All values equal (or a single value): one
    class, the middle colour. A value at a class boundary goes to the upper class (the maximum to the last).
    """
    v = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").to_numpy(dtype=float)
    higher_better = HIGHER_IS_BETTER.get(indicator, True)
    ok = np.isfinite(v)
    colors = np.full(len(v), NAN_COLOR, dtype=object)
    legend: list[LegendEntry] = []
    if ok.any():
        lo, hi = float(v[ok].min()), float(v[ok].max())
        n = len(palette)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            colors[ok] = palette[n // 2]
            legend.append(LegendEntry(palette[n // 2], lo, hi, count=int(ok.sum())))
        else:
            edges = np.linspace(lo, hi, n + 1)
            cls = np.clip(np.searchsorted(edges, v[ok], side="right") - 1, 0, n - 1)
            shade = cls if not higher_better else n - 1 - cls  # index into palette: 0 lightest = best
            colors[ok] = np.asarray(palette, dtype=object)[shade]
            for k in range(n):
                idx = k if not higher_better else n - 1 - k
                legend.append(LegendEntry(palette[idx], float(edges[k]), float(edges[k + 1]),
                                          count=int((cls == k).sum())))
            if higher_better:  # best first: high values first
                legend.reverse()
    if (~ok).any():
        legend.append(LegendEntry(NAN_COLOR, name=None, count=int((~ok).sum())))
    return Scale(list(colors), legend, higher_better)


def warning_scale(levels, rules: Rules) -> Scale:
    """Colours of overall warning levels (0 = best, -1/NaN = 数据不足) from the rules; legend lists every level."""
    lv = pd.to_numeric(pd.Series(levels, dtype="float64"), errors="coerce")
    colors = [level_color(rules, i) for i in lv]
    idx = lv.fillna(NO_DATA).astype(int).clip(lower=NO_DATA)
    legend = [LegendEntry(level.color, name=level.name, count=int((idx == k).sum())) for k, level in enumerate(rules.levels)]
    legend.append(LegendEntry(rules.no_data.color, name=rules.no_data.name, count=int((idx < 0).sum())))
    return Scale(colors, legend)


def color_by(table: pd.DataFrame, mode: str, rules: Rules) -> Scale:
    """The scale for an indicator table's rows: ``mode`` is an indicator key or ``"warning"`` (needs ``overall``)."""
    if mode == WARNING:
        return warning_scale(table["overall"] if "overall" in table.columns else [np.nan] * len(table), rules)
    return indicator_scale(table[mode] if mode in table.columns else [np.nan] * len(table), mode)
