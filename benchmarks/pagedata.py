"""What each page asks of the database for one view, as plain calls (no Streamlit, no cache).

The benchmark times these; keep them in step with what the pages call through ui/data.py. Each function
is one cold visit of the page: every query it runs for the view, nothing served from a cache.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from data_access import breakdowns, case_list, points, queries, wall
from data_access.view import View
from geo.boundaries import view_shapes

Call = Callable[[object, View, dt.datetime], object]


def overview(conn, view: View, at: dt.datetime):
    """总览: KPI cards (with the previous period), the children table, the trend, the compact map."""
    queries.indicator_table(conn, view, at)
    queries.indicator_table(conn, view.previous(), at)
    queries.monthly(conn, view, at)
    view_shapes(conn, view.region)


def drill_map(conn, view: View, at: dt.datetime):
    """地图钻取: the children's indicators, their boundaries and (village and below) the case points."""
    queries.indicator_table(conn, view, at)
    view_shapes(conn, view.region)
    if view.level in ("village", "grid"):
        points.case_points(conn, view, at)


def cases(conn, view: View, at: dt.datetime):
    """事件办结: the monthly trend, breakdowns, ageing, overdue list, resolution levels."""
    breakdowns.cases_page(conn, view, at)


def cases_weeks(conn, view: View, at: dt.datetime):
    """事件办结, the trend switched to weeks: the one query that tap adds (the rest is cached)."""
    breakdowns.weekly(conn, view, at)


def warnings(conn, view: View, at: dt.datetime):
    """三色预警: the month, the month before, a year ago, the 12-month history, the duty list."""
    breakdowns.warnings_page(conn, view, at)


def data(conn, view: View, at: dt.datetime):
    """数据查询导出: the total count and the first page of rows (50)."""
    q = case_list.CaseQuery(view, at)
    case_list.count(conn, q)
    case_list.page(conn, q, 0, 50)


def wall_screen(conn, view: View, at: dt.datetime):
    """大屏 (one refresh): today, this month, open-overdue, 12 months, category mix, ticker, map shapes."""
    ref = view.date_to
    month = View(view.region, ref.replace(day=1), ref)
    queries.indicator_table(conn, View(view.region, ref, ref), at)
    queries.indicator_table(conn, month, at)
    queries.open_overdue(conn, View(view.region, dt.date(2000, 1, 1), ref), at)
    start = (ref.replace(day=1) - dt.timedelta(days=330)).replace(day=1)
    queries.monthly(conn, View(view.region, start, ref), at)
    breakdowns.by_dimensions(conn, month, at)
    wall.latest_cases(conn, view.region, ref, 12)
    view_shapes(conn, view.region)


PAGES: dict[str, Call] = {"总览": overview, "地图钻取": drill_map, "事件办结": cases,
                          "事件办结·按周": cases_weeks, "三色预警": warnings,
                          "数据查询导出": data, "大屏": wall_screen}
