"""The one query only the wall display (大屏) needs: the latest cases for its ticker.

The ticker reads no personal data: category, place (township and village names), time and status only.
(Its other data come from the shared doors: indicator tables, ``breakdowns.by_dimension``, ``geo``.)
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .codes import code_range, level_of
from .queries import day_int
from .scope import check

TICKER_COLUMNS = ["reported_at", "category", "status", "township", "village"]


def latest_cases(conn: Connection, code: str, until: dt.date, n: int = 12, days: int = 31,
                 scope=None) -> pd.DataFrame:
    """The ``n`` most recent cases of the subtree reported up to the end of ``until`` (within ``days``).

    Columns: reported_at, category, status, township, village. The day window bounds the index range;
    city and county views walk the report-time index backwards (SQLite is told which index, as in
    ``queries.index_hint``: its planner cannot estimate code ranges).
    """
    lo, hi = code_range(check(code, scope))
    d0 = until - dt.timedelta(days=days)
    hint = ""
    if conn.dialect.name == "sqlite":
        hint = " INDEXED BY ix_cases_reported" if level_of(code) in ("city", "county") else " INDEXED BY ix_cases_grid_day"
    sql = (
        "SELECT c.reported_at, c.category, c.status, t.name AS township, v.name AS village "
        f"FROM cases c{hint} JOIN grids g ON g.code = c.grid_code JOIN regions v ON v.code = g.village_code "
        "LEFT JOIN regions t ON t.code = v.parent_code "
        "WHERE c.grid_code >= :lo AND c.grid_code < :hi AND c.reported_at >= :t0 AND c.reported_at < :t1 "
        "AND c.day >= :d0 AND c.day <= :d1 "
        "ORDER BY c.reported_at DESC LIMIT :n"
    )
    t1 = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
    rows = conn.execute(text(sql), {"lo": lo, "hi": hi, "t0": dt.datetime.combine(d0, dt.time()), "t1": t1,
                                    "d0": day_int(d0), "d1": day_int(until), "n": int(n)}).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=TICKER_COLUMNS)
    if df.empty:
        return pd.DataFrame(columns=TICKER_COLUMNS)
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    return df[TICKER_COLUMNS]
