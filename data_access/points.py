"""What the map reads besides indicators: boundary rows (WKB) around a region, and case points.

Portable SQL only (code ranges, CASE, LIMIT with a bound parameter): SQLite and PostgreSQL run it unchanged.

- :func:`shape_rows`: the region, its children and its siblings (the parent's other children; for a grid also
  the neighbouring villages), with geometry as WKB and the stored label point; grids come from ``grids``.
- :func:`level_rows`: every region (or grid) of one level, optionally under a code (a whole county's grids …).
- :func:`case_points`: the view's cases as points (code range + period + filters), newest first, capped.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .codes import PARENT_LEVEL, code_range, level_of
from .queries import _filters, _run, day_int, index_hint
from .scope import EVERYWHERE, check, check_view, keep_allowed, of
from .view import View

SHAPE_COLUMNS = ["code", "name", "level", "parent_code", "geometry", "label_lon", "label_lat"]
_REGION_SELECT = "SELECT code, name, level, parent_code, geometry, label_lon, label_lat FROM regions"
_GRID_SELECT = ("SELECT code, name, 'grid' AS level, village_code AS parent_code, geometry, label_lon, label_lat "
                "FROM grids")

#: Most points the map draws for one view (newest first); the page says when there were more.
POINT_CAP = 20_000
#: Point states, for colours and legends: closed, open and not yet overdue, open past its deadline.
CLOSED, OPEN, OVERDUE = 0, 1, 2


def _frame(conn: Connection, sql: str, params: dict) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(text(sql), params).mappings().all(), columns=SHAPE_COLUMNS)


def _children_sql(code: str) -> str:
    if level_of(code) == "village":
        return f"{_GRID_SELECT} WHERE village_code = :c ORDER BY code"
    return f"{_REGION_SELECT} WHERE parent_code = :c ORDER BY code"


def shape_rows(conn: Connection, code: str, scope=None) -> dict[str, pd.DataFrame]:
    """``{"region": 1 row, "children": …, "siblings": …}`` of boundary rows around ``code``.

    A grid has no children; the city's siblings are empty (the province is not stored). Siblings outside
    ``scope`` are left out (a township user's map shows no neighbouring township).
    """
    check(code, scope)
    level = level_of(code)
    if level == "grid":
        region = _frame(conn, f"{_GRID_SELECT} WHERE code = :c", {"c": code})
        children = region.iloc[:0]
    else:
        region = _frame(conn, f"{_REGION_SELECT} WHERE code = :c", {"c": code})
        children = _frame(conn, _children_sql(code), {"c": code}) if level in PARENT_LEVEL.values() else region.iloc[:0]
    if region.empty:
        return {"region": region, "children": children, "siblings": region}
    parent = region["parent_code"].iloc[0]
    if level == "city" or parent is None:
        siblings = region.iloc[:0]
    else:
        siblings = _frame(conn, _children_sql(parent), {"c": parent})
        siblings = siblings[siblings["code"] != code]
        if level == "grid":  # a village often has one or two grids: its neighbouring villages orient too
            village = _frame(conn, f"{_REGION_SELECT} WHERE code = :c", {"c": parent})
            if not village.empty and village["parent_code"].iloc[0]:
                town = village["parent_code"].iloc[0]
                others = _frame(conn, _children_sql(town), {"c": town})
                siblings = pd.concat([siblings, others[others["code"] != parent]], ignore_index=True)
        siblings = siblings[siblings["code"].isin(keep_allowed(siblings["code"], scope))].reset_index(drop=True)
    return {"region": region, "children": children, "siblings": siblings}


def level_rows(conn: Connection, level: str, within: str | None = None, scope=None) -> pd.DataFrame:
    """Boundary rows of every region at ``level`` (county … grid), inside region ``within`` (default: the
    scope's region; outside it raises OutsideScope)."""
    within = check(within or of(scope).region or "", scope)
    where, params = "", {}
    if within != EVERYWHERE:
        lo, hi = code_range(within)
        where, params = " AND code >= :lo AND code < :hi", {"lo": lo, "hi": hi}
    if level == "grid":
        return _frame(conn, f"{_GRID_SELECT} WHERE 1 = 1{where} ORDER BY code", params)
    return _frame(conn, f"{_REGION_SELECT} WHERE level = :lvl{where} ORDER BY code", {"lvl": level, **params})


@dataclass(frozen=True)
class CasePoints:
    """Case locations of a view: ``frame`` has lon, lat, state (CLOSED/OPEN/OVERDUE), newest first."""
    frame: pd.DataFrame
    total: int
    cap: int

    @property
    def capped(self) -> bool:
        return self.total > len(self.frame)


def case_points(conn: Connection, view: View, as_of: dt.datetime, cap: int = POINT_CAP) -> CasePoints:
    """The view's cases with a location (its code range, period and filters), at most ``cap``, newest first."""
    check_view(view)
    lo, hi = code_range(view.region)
    fsql, params = _filters(view)
    where = (f"WHERE grid_code >= :lo AND grid_code < :hi AND day >= :d0 AND day < :d1{fsql} "
             "AND lon IS NOT NULL AND lat IS NOT NULL")
    params.update(lo=lo, hi=hi, d0=day_int(view.date_from), d1=day_int(view.date_to + dt.timedelta(days=1)))
    state = (f"CASE WHEN closed_at IS NOT NULL THEN {CLOSED} WHEN deadline < :as_of THEN {OVERDUE} "
             f"ELSE {OPEN} END AS state")
    # SQLite: read the subtree through (grid, day) and sort its few matches; left alone, its planner walks
    # ix_cases_reported backwards through the whole city's newest cases to find a village's (≈10x slower).
    hint = index_hint(conn, level_of(view.region), (view.date_to - view.date_from).days + 1)
    frame = _run(conn, f"SELECT lon, lat, {state} FROM cases{hint} {where} ORDER BY reported_at DESC, id LIMIT :n",
                 {**params, "as_of": as_of, "n": cap + 1})
    frame = frame.reindex(columns=["lon", "lat", "state"])
    total = len(frame)
    if total > cap:
        frame = frame.iloc[:cap]
        total = int(_run(conn, f"SELECT COUNT(*) AS n FROM cases{hint} {where}", params)["n"].iloc[0])
    frame = frame.astype({"lon": float, "lat": float, "state": int}).reset_index(drop=True)
    return CasePoints(frame, total, cap)
