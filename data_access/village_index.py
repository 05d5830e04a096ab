"""What the 强基善治指数 reads for one year and one region: its villages, their yearly table rows, and their
cases counted per (village, category, resolution level, major) — aggregated in the database.

Every function takes a region code (the subtree is a code range), so the scope checks of data_access
apply here as to every other query. Portable SQL only (code ranges, integer ``day``, CASE/SUM).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from analytics.index_config import VILLAGE_COLUMNS
from .breakdowns import month_span
from . import scope as scope_mod
from .codes import PREFIX_LEN, code_range, level_of, pad
from .measures import CLOSED, ROLLUP_SQL, select_list

#: The case measures a village's indicators and stars need (a subset of the rollup's).
MEASURES = {k: ROLLUP_SQL[k] for k in ("received", "closed", "on_time", "local_resolved", "close_hours", "sat_n",
                                       "sat_ok")}
GROUP_LEVEL = {"city": "city", "county": "county", "township": "township"}


def group_root(code: str, group: str) -> str:
    """The region whose villages must be read so that every village of ``code`` is compared within its whole
    comparison group (``group``: city, county or township): ``code`` itself when it is at or above that level,
    else its ancestor at that level."""
    lvl = level_of(code)
    order = ("city", "county", "township", "village", "grid")
    if order.index(lvl) <= order.index(GROUP_LEVEL[group]):
        return code
    return pad(code[: PREFIX_LEN[group]])


def villages(conn: Connection, region: str) -> pd.DataFrame:
    """code, name, population of every village under ``region`` (the region itself if it is one)."""
    lo, hi = code_range(region)
    rows = conn.execute(text(
        "SELECT code, name, population FROM regions WHERE level = 'village' AND code >= :lo AND code < :hi "
        "ORDER BY code"), {"lo": lo, "hi": hi}).mappings().all()
    return pd.DataFrame(rows, columns=["code", "name", "population"])


def village_table(conn: Connection, region: str, year: int) -> pd.DataFrame:
    """The yearly village table's rows of ``year`` under ``region`` (column ``code`` + VILLAGE_COLUMNS)."""
    lo, hi = code_range(region)
    cols = ", ".join(VILLAGE_COLUMNS)
    rows = conn.execute(text(
        f"SELECT village_code AS code, {cols} FROM village_year "
        "WHERE year = :y AND village_code >= :lo AND village_code < :hi ORDER BY village_code"),
        {"y": int(year), "lo": lo, "hi": hi}).mappings().all()
    return pd.DataFrame(rows, columns=["code", *VILLAGE_COLUMNS])


#: Open past their deadline at the as-of time (``overdue``), and closed but due after it (``early``, of which
#: ``early_on_time`` on time): 应办结 = closed - early + overdue, the denominator of the closure and on-time rates
#: (analytics.indicators.derive), so a year still running is judged on the cases already due.
OVERDUE_SQL = f"SUM(CASE WHEN NOT ({CLOSED}) AND deadline < :as_of THEN 1 ELSE 0 END)"
EARLY_SQL = f"SUM(CASE WHEN {CLOSED} AND deadline > :as_of THEN 1 ELSE 0 END)"
EARLY_ON_TIME_SQL = f"SUM(CASE WHEN {CLOSED} AND deadline > :as_of THEN COALESCE(on_time, 0) ELSE 0 END)"


def case_counts(conn: Connection, region: str, year: int, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Case measures of ``year`` under ``region`` per (village, category, resolution_level, is_major); ``overdue``
    counts the year's cases still open past their deadline at ``as_of`` (default: now)."""
    lo, hi = code_range(region)
    key = "substr(grid_code, 1, 12)"
    sql = (f"SELECT {key} AS village, category, resolution_level, is_major, {select_list(MEASURES)}, "
           f"{OVERDUE_SQL} AS overdue, {EARLY_SQL} AS early, {EARLY_ON_TIME_SQL} AS early_on_time FROM cases "
           "WHERE grid_code >= :lo AND grid_code < :hi AND day >= :d0 AND day < :d1 "
           f"GROUP BY {key}, category, resolution_level, is_major")
    result = conn.execute(text(sql), {"lo": lo, "hi": hi, "d0": year * 10000 + 101, "d1": (year + 1) * 10000 + 101,
                                      "as_of": as_of or dt.datetime.now()})
    df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    df["is_major"] = df["is_major"].astype(bool)
    for m in (*MEASURES, "overdue", "early", "early_on_time"):
        df[m] = pd.to_numeric(df[m]).astype(float)
    return df


def years(conn: Connection) -> list[int]:
    """Years that can be scored, newest first: those with cases or with rows in the village table."""
    found = {int(y) for y in conn.execute(text("SELECT DISTINCT year FROM village_year")).scalars()}
    span = month_span(conn)
    if span is not None:
        found |= set(range(span[0] // 100, span[1] // 100 + 1))
    return sorted(found, reverse=True)


def restrict(ev, region: str, scope) -> "object":
    """The evaluation (analytics.village_index.Evaluated) as one user may see it: ``region`` checked against the
    scope (OutsideScope outside it, nothing without one) and only the villages inside the scope kept. Ranks and
    group sizes stay those of the whole comparison group: a village is compared with its county's villages even
    when the user sees only their township, as the 平安报表 does."""
    s = scope_mod.of(scope)
    s.narrow(region)
    keep = ev.frame["code"].astype(str).map(s.allows).astype(bool)
    return dataclasses.replace(ev, frame=ev.frame[keep.to_numpy()].reset_index(drop=True))
