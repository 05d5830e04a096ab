"""Indicator queries: one row per child region (plus the region itself), aggregated in SQL.

Plan for a View (region R, period, filters), children at level L:
- full calendar months of the period come from ``case_rollup`` when L is a rollup level
  (county, township) and no status filter is set;
- the partial months at either end, and every view below the county, come from ``cases``
  through the (grid_code, reported_at) index, selected by code range;
- ``open``/``overdue`` depend on the as-of time, so no rollup holds them: they come from the open cases
  that ``data_access.open_cases`` keeps in memory (a few percent of all rows, reloaded after each write).
Every raw query reads only columns of a covering index (schema.AGG_COLUMNS), and periods
are compared as yyyymmdd integers (``cases.day``), so no query touches a table row.
All three add up, because every measure is a count or a sum (analytics.indicators).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from analytics.indicators import SUM_MEASURES, derive
from .codes import CHILD_LEVEL, PREFIX_LEN, code_range, level_of
from . import open_cases
from .scope import check, check_view
from .measures import ROLLUP_SQL, select_list
from .rollup import DAY_ROLLUP_LEVELS, ROLLUP_LEVELS
from .view import View


class UnknownRegion(LookupError):
    """The region code is not in the database; the message is for people (Chinese)."""


def region(conn: Connection, code: str, scope=None) -> dict:
    """name, level, parent_code, population of a region or grid; raises UnknownRegion (OutsideScope outside
    ``scope``)."""
    check(code, scope)
    if len(code) == 15:
        row = conn.execute(text(
            "SELECT code, name, 'grid' AS level, village_code AS parent_code, population, label_lon, label_lat "
            "FROM grids WHERE code = :c"), {"c": code}).mappings().first()
    else:
        row = conn.execute(text(
            "SELECT code, name, level, parent_code, population, label_lon, label_lat, duty_unit, duty_person, "
            "duty_phone FROM regions WHERE code = :c"), {"c": code}).mappings().first()
    if row is None:
        raise UnknownRegion(f"区划代码 {code} 不存在于当前数据库中。")
    return dict(row)


def root_code(conn: Connection) -> str:
    """The top region of the database (the city)."""
    code = conn.execute(text("SELECT code FROM regions WHERE level = 'city' ORDER BY code LIMIT 1")).scalar()
    if code is None:
        raise UnknownRegion("数据库中没有城市级区划，请先生成或导入数据。")
    return code


def children(conn: Connection, code: str, scope=None) -> pd.DataFrame:
    """code, name, level, population of the direct children (grids under a village)."""
    check(code, scope)
    level = level_of(code)
    if level == "grid":
        return pd.DataFrame(columns=["code", "name", "level", "population"])
    if level == "village":
        sql = "SELECT code, name, 'grid' AS level, population FROM grids WHERE village_code = :c ORDER BY code"
    else:
        sql = "SELECT code, name, level, population FROM regions WHERE parent_code = :c ORDER BY code"
    return pd.DataFrame(conn.execute(text(sql), {"c": code}).mappings().all(),
                        columns=["code", "name", "level", "population"])


def split_period(date_from: dt.date, date_to: dt.date) -> tuple[tuple[int, int] | None, list[tuple[dt.datetime, dt.datetime]]]:
    """Full months (first, last yyyymm) inside [date_from, date_to], and the leftover datetime ranges."""
    start = date_from if date_from.day == 1 else _next_month(date_from)
    stop = _next_month(date_to) if _next_month(date_to) == date_to + dt.timedelta(days=1) else date_to.replace(day=1)
    t0 = dt.datetime.combine(date_from, dt.time())
    t1 = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())
    if start >= stop:
        return None, [(t0, t1)]
    last = _prev_month(stop)
    edges = []
    if date_from < start:
        edges.append((t0, dt.datetime.combine(start, dt.time())))
    if stop <= date_to:
        edges.append((dt.datetime.combine(stop, dt.time()), t1))
    return (start.year * 100 + start.month, last.year * 100 + last.month), edges


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _prev_month(d: dt.date) -> dt.date:
    return dt.date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)


def _filters(view: View) -> tuple[str, dict]:
    sql, params = "", {}
    for col, values in (("category", view.categories), ("source", view.sources), ("status", view.statuses)):
        if values:
            sql += f" AND {col} IN :{col}_list"
            params[f"{col}_list"] = list(values)
    return sql, params


def _fetch(conn: Connection, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of ``sql``; list parameters expand to IN lists."""
    if ":as_of" not in sql:
        params = {k: v for k, v in params.items() if k != "as_of"}
    stmt = text(sql)
    for key, value in params.items():
        if isinstance(value, list):
            stmt = stmt.bindparams(bindparam(key, expanding=True))
    result = conn.execute(stmt, params)
    return list(result.keys()), result.fetchall()


def _run(conn: Connection, sql: str, params: dict) -> pd.DataFrame:
    columns, rows = _fetch(conn, sql, params)
    return pd.DataFrame.from_records(rows, columns=columns)


def _raw(conn, view: View, key: str, lo: str, hi: str, t0, t1, measures: dict[str, str]):
    fsql, params = _filters(view)
    hint = index_hint(conn, level_of(view.region), (t1 - t0).days)
    sql = (f"SELECT {key} AS k, {select_list(measures)} FROM cases{hint} "
           f"WHERE grid_code >= :lo AND grid_code < :hi AND day >= :d0 AND day < :d1{fsql} "
           f"GROUP BY {key}")
    return _fetch(conn, sql, {"lo": lo, "hi": hi, "d0": day_int(t0), "d1": day_int(t1), **params})


def index_hint(conn: Connection, level: str, days: int, only_open: bool = False) -> str:
    """SQLite: name the covering index that scans least (its planner cannot estimate code ranges).

    A city-wide scan, or a county's over a couple of months, reads fewer entries day-first; anything
    lower in the tree reads fewer subtree-first. PostgreSQL has histograms and chooses well itself.
    """
    if conn.dialect.name != "sqlite":
        return ""
    if only_open:
        return " INDEXED BY ix_cases_open"
    day_first = level == "city" or (level == "county" and days <= 62)
    return " INDEXED BY " + ("ix_cases_day_grid" if day_first else "ix_cases_grid_day")


def day_int(t: dt.date | dt.datetime) -> int:
    """yyyymmdd of a date (``cases.day``): periods are whole days, compared as integers."""
    return t.year * 10000 + t.month * 100 + t.day


def _rolled(conn, view: View, key: str, level: str, lo: str, hi: str, table: str, grain: str,
            first: int, last: int, extra: str = "", measures: dict[str, str] = ROLLUP_SQL):
    """(columns, rows): rollup rows of ``level`` under [lo, hi) with ``first <= grain <= last``, summed by ``key``."""
    fsql, params = _filters(view) if table in ("case_rollup", "case_rollup_day") else ("", {})
    sums = ", ".join(f"SUM({m}) AS {m}" for m in measures)
    sql = (f"SELECT {key} AS k, {sums} FROM {table} "
           f"WHERE level = :lvl{extra} AND {grain} >= :g0 AND {grain} <= :g1 AND code >= :lo AND code < :hi{fsql} "
           f"GROUP BY {key}")
    return _fetch(conn, sql, {"lvl": level, "lo": lo, "hi": hi, "g0": first, "g1": last, **params})


def _measures(conn, view: View, as_of: dt.datetime, rollup_level: str | None, raw_key: str, rollup_key: str,
              open_key: open_cases.Key, day_key: str | None = None, by_category: bool = False) -> pd.DataFrame:
    """Additive measures of ``view`` grouped by ``raw_key`` (an expression over cases), columns k + SUM_MEASURES.

    ``rollup_level``: the rollup level whose rows can answer full months (None: raw cases only);
    ``rollup_key`` / ``day_key``: the same grouping over case_rollup / case_rollup_day (default: rollup_key);
    ``open_key``: the same grouping over the in-memory open cases (open, overdue: see data_access.open_cases);
    ``by_category``: the keys name category or source, so read the rollups that keep those columns
    (case_rollup, case_rollup_day) even for an unfiltered view.
    """
    lo, hi = code_range(view.region)
    months, edges = split_period(view.date_from, view.date_to)
    t0 = dt.datetime.combine(view.date_from, dt.time())
    t1 = dt.datetime.combine(view.date_to + dt.timedelta(days=1), dt.time())
    parts = []
    if rollup_level in ROLLUP_LEVELS and not (by_category or view.statuses or view.categories or view.sources):
        # Unfiltered: the all-category totals, month rows for full months and day rows for the edges.
        if months is not None:
            parts.append(_rolled(conn, view, rollup_key, rollup_level, lo, hi, "case_rollup_all", "month", *months,
                                 extra=" AND day = 0"))
        for a, b in edges:
            parts.append(_rolled(conn, view, day_key or rollup_key, rollup_level, lo, hi, "case_rollup_all", "day",
                                 day_int(a), day_int(b - dt.timedelta(days=1))))
    elif rollup_level in ROLLUP_LEVELS and not view.statuses:
        if months is not None:
            parts.append(_rolled(conn, view, rollup_key, rollup_level, lo, hi, "case_rollup", "month", *months))
        for a, b in edges:
            if rollup_level in DAY_ROLLUP_LEVELS:
                parts.append(_rolled(conn, view, day_key or rollup_key, rollup_level, lo, hi, "case_rollup_day",
                                     "day", day_int(a), day_int(b - dt.timedelta(days=1))))
            else:
                parts.append(_raw(conn, view, raw_key, lo, hi, a, b, ROLLUP_SQL))
    else:
        parts.append(_raw(conn, view, raw_key, lo, hi, t0, t1, ROLLUP_SQL))
    parts.append(open_cases.grouped(conn, view, as_of, open_key))
    parts.append(open_cases.grouped_not_due(conn, view, as_of, open_key))
    return _accumulate(parts)


def early_closed(conn: Connection, view: View, as_of: dt.datetime, key: str) -> tuple[list[str], list[tuple]]:
    """(columns, rows): ``k``, early, early_on_time per value of ``key`` (an expression over cases), in SQL.

    The closed cases whose deadline is after ``as_of`` (办结但未到期: not 应办结 yet, analytics.indicators). The
    views count them from memory (data_access.open_cases.grouped_not_due); this is the reference the tests hold
    that path to, over the deadline index (ix_cases_deadline), which reads only the cases due after ``as_of``.
    Public, so it checks the view's scope itself (no scope, no rows).
    """
    lo, hi = code_range(check_view(view).region)
    fsql, params = _filters(view)
    hint = " INDEXED BY ix_cases_deadline" if conn.dialect.name == "sqlite" else ""
    t0 = dt.datetime.combine(view.date_from, dt.time())
    t1 = dt.datetime.combine(view.date_to + dt.timedelta(days=1), dt.time())
    sql = (f"SELECT {key} AS k, COUNT(*) AS early, COALESCE(SUM(on_time), 0) AS early_on_time FROM cases{hint} "
           f"WHERE deadline > :as_of AND closed_at IS NOT NULL AND grid_code >= :lo AND grid_code < :hi "
           f"AND day >= :d0 AND day < :d1{fsql} GROUP BY {key}")
    return _fetch(conn, sql, {"as_of": as_of, "lo": lo, "hi": hi, "d0": day_int(t0), "d1": day_int(t1), **params})


_POSITION = {m: i for i, m in enumerate(SUM_MEASURES)}


def _accumulate(parts: list[tuple[list[str], list[tuple]]]) -> pd.DataFrame:
    """Add up (columns, rows) results by their key ``k`` into one frame: k + SUM_MEASURES.

    Plain arrays, not pandas concat/groupby: the inputs are a few hundred rows at most, and pandas'
    per-operation overhead would cost more than the SQL did.
    """
    acc: dict = {}
    for columns, rows in parts:
        pos = [_POSITION[c] for c in columns[1:]]
        for row in rows:
            total_ = acc.get(row[0])
            if total_ is None:
                total_ = acc[row[0]] = np.zeros(len(SUM_MEASURES))
            total_[pos] += np.array([v or 0 for v in row[1:]], dtype=float)
    data = np.array(list(acc.values())) if acc else np.zeros((0, len(SUM_MEASURES)))
    out = pd.DataFrame(data, columns=list(SUM_MEASURES))
    out.insert(0, "k", list(acc))
    return out


def child_measures(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Additive measures per child of ``view.region``: columns k (child code prefix) + SUM_MEASURES."""
    check_view(view)
    child_level = CHILD_LEVEL.get(level_of(view.region), "grid")
    n = PREFIX_LEN[child_level]
    return _measures(conn, view, as_of, child_level, f"substr(grid_code, 1, {n})", f"substr(code, 1, {n})",
                     open_cases.prefix(n))


def open_overdue(conn: Connection, view: View, as_of: dt.datetime) -> dict[str, int]:
    """Open and overdue cases of the view's region reported in its period (from the open cases alone).

    The wall's 当前逾期 (every open case, however old) needs only these two numbers: an indicator table for
    all time would read years of cases or rollups.
    """
    check_view(view)
    _columns, rows = open_cases.grouped(conn, view, as_of, open_cases.prefix(len(code_range(view.region)[0])))
    return {"open": sum(r[1] for r in rows), "overdue": sum(r[2] for r in rows)}


def monthly(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Every indicator per month (column ``month`` as yyyymm int, ``period`` as the month's first day)."""
    check_view(view)
    df = _measures(conn, view, as_of, level_of(view.region), "(day / 100)", "month", open_cases.month,
                   "(day / 100)").rename(columns={"k": "month"})
    m0, m1 = view.date_from.year * 100 + view.date_from.month, view.date_to.year * 100 + view.date_to.month
    months = [y * 100 + m for y in range(m0 // 100, m1 // 100 + 1) for m in range(1, 13) if m0 <= y * 100 + m <= m1]
    df = pd.DataFrame({"month": months}).merge(df.astype({"month": int}), on="month", how="left").fillna(0)
    df["period"] = pd.to_datetime(df["month"].astype(str) + "01", format="%Y%m%d")
    return derive(df)


def indicator_table(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Every indicator for each child of the region and, first, for the region itself (is_total=True)."""
    check_view(view)
    me = region(conn, view.region, view.scope)
    kids = children(conn, view.region, view.scope)
    measures = child_measures(conn, view, as_of)
    if kids.empty:
        kids = pd.DataFrame([{"code": me["code"], "name": me["name"], "level": me["level"], "population": me["population"]}])
    n = PREFIX_LEN[kids["level"].iloc[0]]
    by_key = dict(zip(measures["k"], measures[list(SUM_MEASURES)].to_numpy()))
    empty = np.zeros(len(SUM_MEASURES))
    values = np.array([by_key.get(code[:n], empty) for code in kids["code"]])
    pop = kids["population"].fillna(0).to_numpy(dtype=float)
    values = np.vstack([values.sum(axis=0), values])
    columns = {"code": [me["code"], *kids["code"]], "name": [me["name"], *kids["name"]],
               "level": [me["level"], *kids["level"]], "population": [float(me["population"] or pop.sum()), *pop]}
    columns.update({c: values[:, i] for i, c in enumerate(SUM_MEASURES)})
    columns["is_total"] = [True] + [False] * len(kids)
    return derive(pd.DataFrame(columns))  # built in one go: column inserts cost more than the query here


def distinct_values(conn: Connection, column: str) -> list[str]:
    """Categories or sources present in the data (read from the small county rollup, not the cases)."""
    if column not in ("category", "source"):
        raise ValueError(column)
    sql = f"SELECT DISTINCT {column} FROM case_rollup WHERE level = 'county' ORDER BY {column}"
    return [r for r in conn.execute(text(sql)).scalars().all() if r]
