"""The case rollups: additive measures per (level, region, month or day, category, source).

Why: a city view over a year touches ~700 k raw cases; the county-by-month rollup answers it
from a few thousand rows. Rollups exist for the county and township levels (the children of city
and county views) and for the city itself (its own series and breakdowns: one row per month or day
instead of one per county, lifted from the county rows); township and village views read raw cases
through the code-range index, which is already small. ``refresh`` rebuilds exactly the months a write
touched, inside the caller's transaction, so the rollup never disagrees with the cases it summarises.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .codes import PREFIX_LEN
from .measures import ROLLUP_SQL, select_list
from .schema import RESOLUTION_MEASURES, ROLLUP_MEASURES

#: Levels with rollup rows. County and township rows are grouped from the cases; city rows are the
#: county rows summed (every measure is additive), which costs a few thousand rows, not a pass over the cases.
ROLLUP_LEVELS = ("city", "county", "township")
CASE_LEVELS = ("county", "township")
#: Levels that also have day rows (case_rollup_day): the city and its children.
DAY_ROLLUP_LEVELS = ("city", "county")
#: Rollup tables and their key columns besides level and code (what a lift to the city groups by).
_KEYS = {"case_rollup": ("month", "category", "source"), "case_rollup_day": ("day", "category", "source"),
         "case_rollup_all": ("day", "month"), "case_rollup_res": ("day", "month", "resolution_level")}


def refresh(conn: Connection, months: Iterable[int] | None = None) -> None:
    """Rebuild both rollups for ``months`` (yyyymm ints), or entirely when None."""
    months = None if months is None else sorted({int(m) for m in months})
    if months == []:
        return
    in_months = "" if months is None else f" WHERE month IN ({', '.join(str(m) for m in months)})"
    day_months = "" if months is None else f" WHERE (day / 100) IN ({', '.join(str(m) for m in months)})"
    conn.execute(text("DELETE FROM case_rollup" + in_months))
    conn.execute(text("DELETE FROM case_rollup_day" + day_months))
    conn.execute(text("DELETE FROM case_rollup_all" + in_months))
    for level in CASE_LEVELS:
        _insert(conn, "case_rollup", ["month", "category", "source"], level, in_months)
        _insert(conn, "case_rollup_all", ["month"], level, in_months, extra={"day": "0"})
        _insert(conn, "case_rollup_all", ["day", "month"], level, in_months)
    _insert(conn, "case_rollup_day", ["day", "category", "source"], "county", in_months)
    for table in ("case_rollup", "case_rollup_all", "case_rollup_day"):
        lift_to_city(conn, table, months)
    _resolution(conn, months)


def lift_to_city(conn: Connection, table: str, months: list[int] | None = None) -> None:
    """Insert the city rows of ``table`` as the sums of its county rows (for ``months``, or all)."""
    keys = _KEYS[table]
    measures = RESOLUTION_MEASURES if table == "case_rollup_res" else ROLLUP_MEASURES
    month = "(day / 100)" if table == "case_rollup_day" else "month"
    only = "" if months is None else f" AND {month} IN ({', '.join(str(m) for m in months)})"
    n = PREFIX_LEN["city"]
    conn.execute(text(
        f"INSERT INTO {table} (level, code, {', '.join(keys)}, {', '.join(measures)}) "
        f"SELECT 'city', substr(code, 1, {n}) || '{'0' * (12 - n)}', {', '.join(keys)}, "
        f"{', '.join(f'SUM({m})' for m in measures)} FROM {table} WHERE level = 'county'{only} "
        f"GROUP BY substr(code, 1, {n}), {', '.join(keys)}"
    ))


def refresh_resolution(conn: Connection, months: Iterable[int] | None = None) -> None:
    """Rebuild only case_rollup_res (the migration that adds it fills it this way)."""
    _resolution(conn, None if months is None else sorted({int(m) for m in months}))


_RESOLUTION_SQL = {m: ROLLUP_SQL[m] for m in RESOLUTION_MEASURES}
#: Only closed cases count in the resolution split; open ones have no level yet.
_CLOSED_ONLY = "close_hours IS NOT NULL"


def _resolution(conn: Connection, months: list[int] | None) -> None:
    in_months = "" if months is None else f" AND month IN ({', '.join(str(m) for m in months)})"
    conn.execute(text("DELETE FROM case_rollup_res" + (f" WHERE {in_months[5:]}" if in_months else "")))
    where = f" WHERE {_CLOSED_ONLY}{in_months}"
    level_expr = {"resolution_level": "COALESCE(resolution_level, '')"}
    for level in CASE_LEVELS:
        _insert(conn, "case_rollup_res", ["month"], level, where, extra={"day": "0"}, exprs=level_expr,
                measures=_RESOLUTION_SQL)
    _insert(conn, "case_rollup_res", ["day", "month"], "county", where, exprs=level_expr, measures=_RESOLUTION_SQL)
    lift_to_city(conn, "case_rollup_res", months)


def _insert(conn: Connection, table: str, dims: list[str], level: str, where: str, extra: dict | None = None,
            exprs: dict[str, str] | None = None, measures: dict[str, str] = ROLLUP_SQL) -> None:
    """INSERT … SELECT ``measures`` of ``level`` grouped by its code, the columns ``dims`` and the computed
    columns ``exprs`` (name -> SQL expression), plus constant columns ``extra``."""
    n = PREFIX_LEN[level]
    pad = "0" * (12 - n)
    extra, exprs = extra or {}, exprs or {}
    cols = ", ".join([*dims, *exprs, *extra, *measures])
    values = ", ".join([*dims, *exprs.values(), *extra.values()])
    conn.execute(text(
        f"INSERT INTO {table} (level, code, {cols}) "
        f"SELECT '{level}', substr(grid_code, 1, {n}) || '{pad}', {values}, "
        f"{select_list(measures)} FROM cases{where} "
        f"GROUP BY substr(grid_code, 1, {n}), {', '.join([*dims, *exprs.values()])}"
    ))
