"""Indicator definitions (DOMAIN.md), as pure functions over pandas objects.

The database returns *additive measures* per region (counts and sums); everything a
person reads (rates, means, medians) is derived here, in one place, so the SQL path,
the rollup path and the raw-case path in the tests all share one definition.

Measures (additive, one row per region):
    received        cases reported in the period (受理量)
    closed          of those, closed (办结量)
    on_time         of the closed, closed by the deadline
    local_resolved  of the closed, resolved at village or township level (就地化解)
    close_hours     sum of hours from report to close over the closed cases
    sat_n, sat_ok   cases rated by the citizen, and rated 满意 or 基本满意
    open            cases not closed (reopened cases count as open)
    overdue         open cases whose deadline is before the as-of time (逾期未办结)
    early           closed cases whose deadline is after the as-of time (办结但未到期: not due yet)
    early_on_time   of those, closed on time (all of them, unless the data says otherwise)
    d0 … d12        closed cases per duration class (DURATION_EDGES), for the median

Derived (per row):
    closed_due   = closed - early              (已到期的办结件)
    on_time_due  = on_time - early_on_time
    due          = closed_due + overdue        (应办结: every case whose deadline has passed)
    closure_rate = closed_due / due            (办结率, 应办结口径)
    on_time_rate = on_time_due / due           (按期办结率, 应办结口径)
    overdue_rate = overdue / received          (逾期率: 逾期未办结 per case received, shown as %)
    local_rate   = local_resolved / closed     (就地化解率)
    satisfaction_rate = sat_ok / sat_n         (满意率)
    mean_close_hours = close_hours / closed    (平均办结时长)
    median_close_hours: grouped-data median over the duration classes (中位办结时长)
    per_10k = received / population * 10 000  (万人发案率, for the period, not annualised)

A rate whose denominator is zero is NaN ("no data"), never 0 and never 100 %.

Why 应办结 (due) and not 受理 (received) under the closure and on-time rates: a case reported yesterday
with a 15-day deadline is not a failure yet. Counting it as one painted every running month and every
year-to-date red (issue 13). With ``due`` a period is judged on the cases it was already obliged to
finish, whatever its length or how far it has run; for a period long past ``due`` equals ``received``
except for the few cases still open inside their deadline, so the classic figures do not move.
A case closed before its deadline passed is not due yet either (``early``): counting it would judge a running
period on its quickest cases only (on the 3rd of a month every county showed 100 %, the slow cases not due yet).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Upper edges (hours) of the duration classes used for the median; the last class is open.
DURATION_EDGES: tuple[float, ...] = (2, 4, 8, 12, 24, 48, 72, 120, 168, 240, 360, 720)
DURATION_COLUMNS: tuple[str, ...] = tuple(f"d{i}" for i in range(len(DURATION_EDGES) + 1))

SUM_MEASURES: tuple[str, ...] = (
    "received", "closed", "on_time", "local_resolved", "close_hours",
    "sat_n", "sat_ok", "open", "overdue", "early", "early_on_time",
) + DURATION_COLUMNS

RATE_COLUMNS: tuple[str, ...] = (
    "closed_due", "on_time_due", "due", "closure_rate", "on_time_rate", "overdue_rate", "local_rate", "satisfaction_rate",
    "mean_close_hours", "median_close_hours", "per_10k",
)

#: The indicators a person picks from (map colour, rankings, warning rules), in display order.
INDICATORS: tuple[str, ...] = (
    "received", "closed", "closure_rate", "on_time_rate", "overdue", "overdue_rate", "open",
    "mean_close_hours", "median_close_hours", "local_rate", "satisfaction_rate", "per_10k",
)

#: True where a higher value is better; used for "best/worst" and default colour direction.
HIGHER_IS_BETTER: dict[str, bool] = {
    "received": False, "closed": True, "closure_rate": True, "on_time_rate": True,
    "overdue": False, "overdue_rate": False, "open": False, "mean_close_hours": False, "median_close_hours": False,
    "local_rate": True, "satisfaction_rate": True, "per_10k": False,
}

#: Each rate that counts cases: (numerator, denominator) among the measures. The warning rules use them to
#: pool a parent's rate and to judge small numbers (analytics.warnings); ``closed_due``, ``on_time_due`` and
#: ``due`` are derived (see above).
RATE_PARTS: dict[str, tuple[str, str]] = {
    "closure_rate": ("closed_due", "due"),
    "on_time_rate": ("on_time_due", "due"),
    "overdue_rate": ("overdue", "received"),
    "local_rate": ("local_resolved", "closed"),
    "satisfaction_rate": ("sat_ok", "sat_n"),
}

#: Satisfaction codes stored on a case.
SATISFIED, BASICALLY_SATISFIED, UNSATISFIED = 3, 2, 1
#: Resolution levels that count as local (就地化解).
LOCAL_LEVELS = ("村", "镇")


def duration_class(hours: np.ndarray | pd.Series) -> np.ndarray:
    """Index of the duration class for each duration in hours (class i covers (edge[i-1], edge[i]])."""
    return np.searchsorted(np.asarray(DURATION_EDGES, dtype=float), np.asarray(hours, dtype=float), side="left")


def grouped_median(counts: list[float] | np.ndarray) -> float:
    """Median of grouped data (linear interpolation inside the class holding the middle case).

    The last class is open-ended, so a median that falls there is reported as its lower edge.
    Empty input gives NaN.
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    if n <= 0:
        return math.nan
    half = n / 2.0
    cum = 0.0
    lower = 0.0
    for i, f in enumerate(counts):
        upper = DURATION_EDGES[i] if i < len(DURATION_EDGES) else None
        if f > 0 and cum + f >= half:
            if upper is None:
                return float(lower)
            return float(lower + (half - cum) / f * (upper - lower))
        cum += f
        lower = upper if upper is not None else lower
    return float(lower)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(len(num), np.nan)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    return out


def _zero_filled(column: pd.Series) -> np.ndarray:
    """``column.fillna(0)`` as floats, without pandas' fillna (this runs for ~20 columns of every view)."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), 0.0, values)


def derive(measures: pd.DataFrame) -> pd.DataFrame:
    """Add the derived indicator columns to a frame of additive measures (returns a new frame).

    ``population`` is used for 万人发案率 when present. Works on whole columns at once: this runs for
    every view, and column-by-column pandas assignment would cost more than the SQL.
    """
    m = {c: (_zero_filled(measures[c]) if c in measures.columns else np.zeros(len(measures))) for c in SUM_MEASURES}
    hist = np.column_stack([m[c] for c in DURATION_COLUMNS]) if len(measures) else np.zeros((0, len(DURATION_COLUMNS)))
    population = _zero_filled(measures["population"]) if "population" in measures.columns else np.zeros(len(measures))
    closed_due = m["closed"] - m["early"]
    on_time_due = m["on_time"] - m["early_on_time"]
    due = closed_due + m["overdue"]
    derived = {
        "closed_due": closed_due,
        "on_time_due": on_time_due,
        "due": due,
        "closure_rate": _ratio(closed_due, due),
        "on_time_rate": _ratio(on_time_due, due),
        "overdue_rate": _ratio(m["overdue"], m["received"]),
        "local_rate": _ratio(m["local_resolved"], m["closed"]),
        "satisfaction_rate": _ratio(m["sat_ok"], m["sat_n"]),
        "mean_close_hours": _ratio(m["close_hours"], m["closed"]),
        "median_close_hours": np.array([grouped_median(row) for row in hist], dtype=float),
        "per_10k": _ratio(m["received"] * 10000.0, population) if "population" in measures.columns
        else np.full(len(measures), np.nan),
    }
    base = measures.drop(columns=[c for c in (*SUM_MEASURES, *derived) if c in measures.columns])
    sums = pd.DataFrame(m, index=measures.index)
    return pd.concat([base, sums, pd.DataFrame(derived, index=measures.index)], axis=1)


def total(measures: pd.DataFrame, **labels) -> pd.DataFrame:
    """One-row frame that sums the additive measures (and population) of ``measures``."""
    row = measures.reindex(columns=list(SUM_MEASURES), fill_value=0).sum().astype(float).to_dict()
    if "population" in measures.columns:
        row["population"] = float(measures["population"].fillna(0).sum())
    row.update(labels)
    return pd.DataFrame([row])


def measures_from_cases(cases: pd.DataFrame, as_of: pd.Timestamp, key: str | None = None) -> pd.DataFrame:
    """Additive measures straight from raw case rows: the reference the SQL paths must agree with.

    ``cases`` needs reported_at, closed_at, deadline, resolution_level, satisfaction;
    ``key`` names a column to group by (None: one row for everything).
    """
    c = cases.copy()
    is_closed = c["closed_at"].notna()
    hours = (c["closed_at"] - c["reported_at"]).dt.total_seconds() / 3600.0
    c["received"] = 1
    c["closed"] = is_closed.astype(int)
    c["on_time"] = (is_closed & (c["closed_at"] <= c["deadline"])).astype(int)
    c["local_resolved"] = (is_closed & c["resolution_level"].isin(LOCAL_LEVELS)).astype(int)
    c["close_hours"] = hours.where(is_closed, 0.0)
    c["sat_n"] = c["satisfaction"].notna().astype(int)
    c["sat_ok"] = c["satisfaction"].isin([SATISFIED, BASICALLY_SATISFIED]).astype(int)
    c["open"] = (~is_closed).astype(int)
    c["overdue"] = (~is_closed & (c["deadline"] < as_of)).astype(int)
    c["early"] = (is_closed & (c["deadline"] > as_of)).astype(int)
    c["early_on_time"] = (c["early"].astype(bool) & (c["closed_at"] <= c["deadline"])).astype(int)
    cls = duration_class(hours.fillna(0))
    for i, col in enumerate(DURATION_COLUMNS):
        c[col] = (is_closed & (cls == i)).astype(int)
    cols = list(SUM_MEASURES)
    if key is None:
        return c[cols].sum().to_frame().T
    return c.groupby(key, sort=True)[cols].sum().reset_index()
