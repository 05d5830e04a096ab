"""Breakdowns for the 事件办结 and 三色预警 pages, aggregated in SQL through the same measures as queries.

Every function takes ``(conn, view, as_of)`` like :mod:`data_access.queries` and returns a small frame.
Plan per breakdown (the cheapest source that can answer it exactly):

- by category and source: ONE ``queries._measures`` pass keyed by the pair (the rollup has both columns);
- daily and weekly series: the day rows of ``case_rollup_all`` (unfiltered) or ``case_rollup_day`` (category or
  source filter) for city and county views, raw ``cases`` by code range otherwise; open/overdue from
  data_access.open_cases;
- 12-month warning history: ONE grouped query over (child prefix ``:`` month), rollup for full months;
- resolution level split (村/镇/县/市): raw ``cases`` (the rollup keeps only 村+镇 as ``local_resolved``),
  reading covering-index columns only;
- ageing of open cases: data_access.open_cases (in memory); the overdue list: the partial index on open
  cases (``closed_at IS NULL``) picks the ids, then only those rows are read.

Periods select cases by report day (``cases.day``), exactly like the indicator table, so the open
cases aged here are the ``open`` of the KPI cards and the overdue list's total is their ``overdue``.
A few pure helpers at the end (duration classes, rankings) shape query results for the pages.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from analytics.indicators import (
    DURATION_COLUMNS, DURATION_EDGES, HIGHER_IS_BETTER, SUM_MEASURES, derive,
)
from .codes import CHILD_LEVEL, PREFIX_LEN, code_range, level_of, pad
from . import open_cases
from .measures import ROLLUP_SQL, select_list
from .queries import _filters, _measures, children, day_int, index_hint, region
from .rollup import DAY_ROLLUP_LEVELS, ROLLUP_LEVELS
from .scope import check, check_view
from .view import View

#: Ageing classes of open cases, in whole days since the report day: [0, 3), [3, 7), [7, 30), [30, ∞).
AGE_EDGES: tuple[int, ...] = (3, 7, 30)
#: Resolution levels in order (村/镇/县/市: 小事不出村、大事不出镇、矛盾不上交).
RESOLUTION_LEVELS: tuple[str, ...] = ("村", "镇", "县", "市")


def _rollup_level(view: View) -> str:
    """The level of the rollup rows that describe the view's region itself (as in queries.monthly): its own
    level; below the township there are none and the raw cases answer."""
    return level_of(view.region)


def _period(view: View) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(view.date_from, dt.time()),
            dt.datetime.combine(view.date_to + dt.timedelta(days=1), dt.time()))


def _frame(conn: Connection, sql: str, params: dict) -> pd.DataFrame:
    """Run ``sql`` (see queries._fetch) into a DataFrame."""
    from .queries import _fetch
    columns, rows = _fetch(conn, sql, params)
    return pd.DataFrame.from_records(rows, columns=columns)


def _raw(conn: Connection, view: View, key: str, measures: dict[str, str]) -> pd.DataFrame:
    """``measures`` of the view's raw cases grouped by the expression ``key`` (column k), through the
    covering index by code range and report day, like queries' raw path."""
    lo, hi = code_range(view.region)
    t0, t1 = _period(view)
    fsql, params = _filters(view)
    hint = index_hint(conn, level_of(view.region), (t1 - t0).days)
    sql = (f"SELECT {key} AS k, {select_list(measures)} FROM cases{hint} "
           f"WHERE grid_code >= :lo AND grid_code < :hi AND day >= :d0 AND day < :d1{fsql} "
           f"GROUP BY {key}")
    return _frame(conn, sql, {"lo": lo, "hi": hi, "d0": day_int(t0), "d1": day_int(t1), **params})


def _sums(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Measures summed per ``key`` with every SUM_MEASURES column present (0 when absent; NaN sums as 0)."""
    df = df.reindex(columns=[key, *SUM_MEASURES])
    df[list(SUM_MEASURES)] = df[list(SUM_MEASURES)].astype(float)
    return df.groupby(key, as_index=False, sort=True).sum()


# --- by category, by source ---

#: Joins category and source into one group key (a control character: never part of a name).
_SEP = "\x1f"


def by_dimensions(conn: Connection, view: View, as_of: dt.datetime,
                  columns: tuple[str, ...] = ("category", "source")) -> dict[str, pd.DataFrame]:
    """Every indicator per category and per source, from ONE grouped pass (the page shows both side by side).

    Grouping by the pair (category, source) and summing each side gives both breakdowns exactly, because
    every measure is additive; the pairs are a few dozen rows, so they are summed in plain Python (pandas'
    groupby costs more than the SQL here). Each frame is named by its column, most cases first; cases without
    a value in that column are left out of it.
    """
    check_view(view)
    if not columns or any(c not in ("category", "source") for c in columns):
        raise ValueError(columns)
    key = f" || '{_SEP}' || ".join(f"COALESCE({c}, '')" for c in columns)
    df = _measures(conn, view, as_of, _rollup_level(view), key, key, open_cases.joined(columns, _SEP), by_category=True)
    pairs = [str(k).split(_SEP) for k in df["k"]]
    values = df[list(SUM_MEASURES)].to_numpy(dtype=float)
    out = {}
    for i, column in enumerate(columns):
        acc: dict[str, np.ndarray] = {}
        for parts, row in zip(pairs, values):
            if parts[i]:
                acc[parts[i]] = acc[parts[i]] + row if parts[i] in acc else row.copy()
        one = pd.DataFrame(np.array(list(acc.values())).reshape(len(acc), len(SUM_MEASURES)),
                           columns=list(SUM_MEASURES))
        one.insert(0, column, list(acc))
        out[column] = derive(one).sort_values(["received", column], ascending=[False, True], ignore_index=True)
    return out


def by_dimension(conn: Connection, view: View, as_of: dt.datetime, column: str) -> pd.DataFrame:
    """Every indicator per category or source (column named like ``column``), most cases first."""
    check_view(view)
    if column not in ("category", "source"):
        raise ValueError(column)
    return by_dimensions(conn, view, as_of, (column,))[column]


# --- daily and weekly series ---

def daily(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Additive measures per report day (column ``day`` as yyyymmdd int); days without cases are absent.

    Unfiltered city/county/township views sum the day rows of the all-category rollup (one row per region
    and day); with a category or source filter, city and county views sum the county day rows by category
    and source; anything else (a status filter, villages) groups the raw cases by day.
    """
    check_view(view)
    level = _rollup_level(view)
    lo, hi = code_range(view.region)
    t0, t1 = _period(view)
    sums = ", ".join(f"SUM({m}) AS {m}" for m in ROLLUP_SQL)
    bounds = {"lvl": level, "d0": day_int(t0), "d1": day_int(t1), "lo": lo, "hi": hi}
    if level in ROLLUP_LEVELS and not (view.categories or view.sources or view.statuses):
        # Day rows have day > 0 (month rows are day = 0, outside the range).
        closed = _frame(conn, f"SELECT day AS k, {sums} FROM case_rollup_all WHERE level = :lvl AND day >= :d0 "
                              "AND day < :d1 AND code >= :lo AND code < :hi GROUP BY day", bounds)
    elif level in DAY_ROLLUP_LEVELS and not view.statuses:
        fsql, params = _filters(view)
        closed = _frame(conn, f"SELECT day AS k, {sums} FROM case_rollup_day WHERE level = :lvl AND day >= :d0 "
                              f"AND day < :d1 AND code >= :lo AND code < :hi{fsql} GROUP BY day", {**bounds, **params})
    else:
        closed = _raw(conn, view, "day", ROLLUP_SQL)
    columns, rows = open_cases.grouped(conn, view, as_of, open_cases.day)
    opened = pd.DataFrame.from_records(rows, columns=columns)
    columns, rows = open_cases.grouped_not_due(conn, view, as_of, open_cases.day)
    early = pd.DataFrame.from_records(rows, columns=columns)
    parts = [p for p in (closed, opened, early) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=["day", *SUM_MEASURES])
    df = pd.concat(parts, ignore_index=True).rename(columns={"k": "day"})
    df["day"] = df["day"].astype(int)
    return _sums(df, "day")


def weekly(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Every indicator per ISO week (Monday to Sunday) of the view, weeks without cases included.

    Columns ``week`` (the Monday, a date) and ``period`` (its Timestamp); the first and last week may
    be cut by the period (``days`` = days of the week inside the period).
    """
    check_view(view)
    days = daily(conn, view, as_of)
    start = view.date_from - dt.timedelta(days=view.date_from.weekday())
    mondays = pd.date_range(start, view.date_to, freq="7D", name="period")
    sums = pd.DataFrame(0.0, index=mondays, columns=list(SUM_MEASURES))
    if not days.empty:
        when = pd.to_datetime(days["day"].astype(str), format="%Y%m%d")
        monday = (when - pd.to_timedelta(when.dt.day_of_week, unit="D")).to_numpy()
        sums = days[list(SUM_MEASURES)].groupby(monday).sum().reindex(mondays, fill_value=0.0)
    frame = sums.rename_axis("period").reset_index()
    first, last = pd.Timestamp(view.date_from), pd.Timestamp(view.date_to)
    frame["days"] = [(min(m + pd.Timedelta(days=6), last) - max(m, first)).days + 1 for m in frame["period"]]
    frame["week"] = frame["period"].dt.date
    return derive(frame)


# --- resolution level (小事不出村) ---

_RESOLUTION_SQL = {"closed": ROLLUP_SQL["closed"], "on_time": ROLLUP_SQL["on_time"],
                   "close_hours": ROLLUP_SQL["close_hours"]}


def _resolution_rows(conn: Connection, view: View) -> pd.DataFrame:
    """closed/on_time/close_hours per resolution level (column k). Unfiltered city, county and township views
    read case_rollup_res (full months from month rows; partial months from county day rows or raw cases);
    filtered views and anything below a township read raw cases by code range."""
    level = level_of(view.region)
    rollup_level = level if level in ROLLUP_LEVELS else None
    if rollup_level is None or view.categories or view.sources or view.statuses:
        return _raw(conn, view, "resolution_level", _RESOLUTION_SQL)
    from .queries import _rolled, split_period
    lo, hi = code_range(view.region)
    months, edges = split_period(view.date_from, view.date_to)
    frames = []
    if months is not None:
        frames.append(_rolled(conn, view, "resolution_level", rollup_level, lo, hi, "case_rollup_res", "month", *months,
                              extra=" AND day = 0", measures=_RESOLUTION_SQL))
    for a, b in edges:
        if rollup_level in DAY_ROLLUP_LEVELS:
            frames.append(_rolled(conn, view, "resolution_level", rollup_level, lo, hi, "case_rollup_res", "day",
                                  day_int(a), day_int(b - dt.timedelta(days=1)), measures=_RESOLUTION_SQL))
        else:
            edge = View(view.region, a.date(), (b - dt.timedelta(days=1)).date(), scope=view.scope)
            frames.append(_raw(conn, edge, "resolution_level", _RESOLUTION_SQL))
    frames = [f if isinstance(f, pd.DataFrame) else pd.DataFrame.from_records(f[1], columns=f[0]) for f in frames]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["k", *_RESOLUTION_SQL])
    return out.replace({"k": {"": None}})


def resolution_levels(conn: Connection, view: View) -> pd.DataFrame:
    """Closed cases per resolution level: columns level (村/镇/县/市, then any other value), closed, on_time,
    close_hours, share (of all closed), mean_close_hours. Every level of RESOLUTION_LEVELS appears."""
    check_view(view)
    df = _resolution_rows(conn, view).rename(columns={"k": "level"})
    cols = list(_RESOLUTION_SQL)
    df = df.astype({c: float for c in cols})  # an empty result has untyped columns
    df = df[df["closed"] > 0]
    df = df.assign(level=df["level"].fillna("")).groupby("level", as_index=False)[cols].sum()
    others = sorted(set(df["level"]) - set(RESOLUTION_LEVELS))
    out = pd.DataFrame({"level": [*RESOLUTION_LEVELS, *others]}).merge(df, on="level", how="left")
    out = out.fillna({"closed": 0, "on_time": 0, "close_hours": 0.0})
    out[["closed", "on_time"]] = out[["closed", "on_time"]].astype(int)
    total = out["closed"].sum()
    out["share"] = out["closed"] / total if total else np.nan
    out["mean_close_hours"] = (out["close_hours"] / out["closed"].where(out["closed"] > 0)).astype(float)
    return out


# --- ageing and the overdue list (open cases) ---

def ageing(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Open cases of the view per ageing class: columns age (0..len(AGE_EDGES)), open, overdue.

    Age = whole days from the report day to the as-of day; class i covers [AGE_EDGES[i-1], AGE_EDGES[i]).
    """
    check_view(view)
    today = as_of.date()
    # Age class i: reported after the yyyymmdd bound i (bounds descending), as CASE WHEN day > bound THEN i.
    bounds = tuple(day_int(today - dt.timedelta(days=edge)) for edge in AGE_EDGES)
    columns, rows = open_cases.grouped(conn, view, as_of, open_cases.age(bounds))
    df = pd.DataFrame.from_records(rows, columns=columns).rename(columns={"k": "age"})
    out = pd.DataFrame({"age": range(len(AGE_EDGES) + 1)})
    if not df.empty:
        out = out.merge(df.astype({"age": int}).groupby("age", as_index=False).sum(numeric_only=True),
                        on="age", how="left")
    out = out.reindex(columns=["age", "open", "overdue"]).fillna(0)
    return out.astype(int)


OVERDUE_COLUMNS = ("id", "county", "township", "village", "grid", "category", "source", "status", "reported_at",
                   "deadline", "days_overdue", "handling_unit", "is_major", "grid_code")


def overdue_list(conn: Connection, view: View, as_of: dt.datetime, limit: int = 20) -> pd.DataFrame:
    """The ``limit`` most overdue open cases of the view (earliest deadline first), with region names.

    No personal data: no citizen, phone or free-text description; ``handling_unit`` is the 承办单位.
    """
    check_view(view)
    lo, hi = code_range(view.region)
    t0, t1 = _period(view)
    fsql, params = _filters(view)
    hint = index_hint(conn, level_of(view.region), (t1 - t0).days, only_open=True)
    # The inner query picks the ids from the open-case index alone (it holds deadline and id); only those
    # few rows are then read from the table, instead of every open case of the period before the sort.
    sql = ("SELECT id, grid_code, category, source, status, reported_at, deadline, handling_unit, is_major "
           f"FROM cases WHERE id IN (SELECT id FROM cases{hint} WHERE closed_at IS NULL AND grid_code >= :lo "
           f"AND grid_code < :hi AND day >= :d0 AND day < :d1 AND deadline < :as_of{fsql} "
           "ORDER BY deadline, id LIMIT :n) ORDER BY deadline, id")
    df = _frame(conn, sql, {"lo": lo, "hi": hi, "d0": day_int(t0), "d1": day_int(t1), "as_of": as_of,
                          "n": int(limit), **params})
    if df.empty:
        return pd.DataFrame(columns=list(OVERDUE_COLUMNS))
    for col in ("reported_at", "deadline"):
        df[col] = pd.to_datetime(df[col])
    df["is_major"] = df["is_major"].astype(bool)
    df["days_overdue"] = ((pd.Timestamp(as_of) - df["deadline"]).dt.total_seconds() / 86400.0).round(1)
    names = _names(conn, df["grid_code"])
    for level in ("county", "township", "village"):
        df[level] = df["grid_code"].str[: PREFIX_LEN[level]].map(lambda p: names.get(pad(p), ""))
    df["grid"] = df["grid_code"].map(lambda g: names.get(g, ""))
    return df[list(OVERDUE_COLUMNS)]


def _names(conn: Connection, grid_codes: pd.Series) -> dict[str, str]:
    """Names of the grids and of every region above them, for a handful of grid codes."""
    grid_codes = sorted(set(grid_codes))
    regions = sorted({pad(g[: PREFIX_LEN[lv]]) for g in grid_codes for lv in ("county", "township", "village")})
    out = {}
    for sql, codes in (("SELECT code, name FROM regions WHERE code IN :codes", regions),
                       ("SELECT code, name FROM grids WHERE code IN :codes", grid_codes)):
        stmt = text(sql).bindparams(bindparam("codes", expanding=True))
        out.update({code: name for code, name in conn.execute(stmt, {"codes": codes})})
    return out


# --- three-colour warnings: children × months in one query, duty list, month range ---

def child_month_measures(conn: Connection, view: View, as_of: dt.datetime) -> pd.DataFrame:
    """Additive measures per (child, month) of the view in ONE grouped query per source table.

    Columns ``k`` (child code prefix), ``month`` (yyyymm int) + SUM_MEASURES; the key is the composite
    ``prefix || ':' || month`` on cases, case_rollup and case_rollup_day alike.
    """
    check_view(view)
    child_level = CHILD_LEVEL.get(level_of(view.region), "grid")
    n = PREFIX_LEN[child_level]
    month_of_day = "CAST((day / 100) AS VARCHAR(6))"
    df = _measures(conn, view, as_of, child_level,
                   f"substr(grid_code, 1, {n}) || ':' || {month_of_day}",
                   f"substr(code, 1, {n}) || ':' || CAST(month AS VARCHAR(6))",
                   open_cases.prefix_month(n),
                   f"substr(code, 1, {n}) || ':' || {month_of_day}")
    if df.empty:
        return pd.DataFrame(columns=["k", "month", *SUM_MEASURES])
    parts = df["k"].astype(str).str.split(":", n=1, expand=True)
    df = df.drop(columns="k").assign(k=parts[0], month=parts[1].astype(int))
    return df[["k", "month", *SUM_MEASURES]]


def month_list(first: int, last: int) -> list[int]:
    """yyyymm ints from ``first`` to ``last`` inclusive."""
    out, m = [], first
    while m <= last:
        out.append(m)
        m = m + 1 if m % 100 < 12 else (m // 100 + 1) * 100 + 1
    return out


def month_view(code: str, month: int, today: dt.date | None = None, months: int = 1, scope=None) -> View:
    """The View of ``months`` whole months ending with ``month`` (yyyymm), cut at ``today``; no filters."""
    first = shift_month(month, -(months - 1))
    d0 = dt.date(first // 100, first % 100, 1)
    nxt = shift_month(month, 1)
    d1 = dt.date(nxt // 100, nxt % 100, 1) - dt.timedelta(days=1)
    if today is not None and d0 <= today < d1:
        d1 = today
    return View(code, d0, d1, scope=scope)


def shift_month(month: int, k: int) -> int:
    """The yyyymm ``k`` months after ``month`` (negative: before)."""
    m = (month // 100) * 12 + month % 100 - 1 + k
    return (m // 12) * 100 + m % 12 + 1


def warning_history(conn: Connection, code: str, month: int, as_of: dt.datetime, months: int = 12,
                    today: dt.date | None = None, scope=None) -> pd.DataFrame:
    """Every indicator per (child of ``code``, month) for the ``months`` months ending with ``month``.

    One row per child and month (months without cases have zero measures): columns code, name, level,
    population, month + SUM_MEASURES + derived rates; ready for analytics.warnings.evaluate.
    """
    view = month_view(code, month, today, months, scope)
    kids = children(conn, code, scope)
    if kids.empty:
        me = region(conn, code, scope)
        kids = pd.DataFrame([{k: me[k] for k in ("code", "name", "level", "population")}])
    kids = kids.assign(k=kids["code"].str[: PREFIX_LEN[kids["level"].iloc[0]]])
    measures = child_month_measures(conn, view, as_of)
    grid = kids.merge(pd.DataFrame({"month": month_list(shift_month(month, -(months - 1)), month)}), how="cross")
    out = grid.merge(measures, on=["k", "month"], how="left").drop(columns="k")
    out = out.fillna({c: 0 for c in SUM_MEASURES})
    return derive(out)


def duty_list(conn: Connection, code: str, scope=None) -> pd.DataFrame:
    """Responsible unit, person and phone of each child of ``code`` (grids: the grid and its worker).

    Phones are returned as stored; callers mask them (exports.safety.mask_phone) before showing.
    """
    check(code, scope)
    level = level_of(code)
    if level == "village":
        sql = ("SELECT code, name, name AS duty_unit, worker_name AS duty_person, worker_phone AS duty_phone "
               "FROM grids WHERE village_code = :c ORDER BY code")
    elif level == "grid":
        sql = ("SELECT code, name, name AS duty_unit, worker_name AS duty_person, worker_phone AS duty_phone "
               "FROM grids WHERE code = :c")
    else:
        sql = ("SELECT code, name, duty_unit, duty_person, duty_phone FROM regions WHERE parent_code = :c "
               "ORDER BY code")
    return _frame(conn, sql, {"c": code})


def month_span(conn: Connection) -> tuple[int, int] | None:
    """(first, last) yyyymm with cases, read from the small county rollup; None when there are no cases."""
    row = conn.execute(text("SELECT MIN(month), MAX(month) FROM case_rollup WHERE level = 'county'")).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


# --- pure helpers over query results ---

def duration_distribution(row: pd.Series | dict) -> pd.DataFrame:
    """The closing-time histogram of one indicator row: columns cls, lo_hours, hi_hours (NaN: open), count,
    share (of all closed). ``row`` holds d0 … d12 (e.g. the total row of queries.indicator_table)."""
    counts = np.array([float(row.get(c, 0) or 0) for c in DURATION_COLUMNS])
    lo = (0.0, *DURATION_EDGES)
    hi = (*DURATION_EDGES, np.nan)
    total = counts.sum()
    return pd.DataFrame({"cls": range(len(DURATION_COLUMNS)), "lo_hours": lo, "hi_hours": hi,
                         "count": counts.astype(int), "share": counts / total if total else np.nan})


#: Indicators that are rates or averages: a child needs ``min_cases`` received cases to be ranked on them.
_NEEDS_CASES = {"closure_rate", "on_time_rate", "local_rate", "satisfaction_rate", "mean_close_hours",
                "median_close_hours"}


def ranking(now: pd.DataFrame, before: pd.DataFrame, indicator: str, min_cases: int = 0) -> pd.DataFrame:
    """Children of an indicator table ranked best first on ``indicator``, with the previous period.

    ``now``/``before``: indicator tables (queries.indicator_table, optionally evaluated). Children without a
    value, or (for rates and averages) with fewer than ``min_cases`` received cases, are left out.
    Columns: code, name, value, received, rank, previous, previous_rank, change (value − previous),
    rank_change (positive: moved up), level (the warning level of the indicator, else the overall level,
    when ``now`` is evaluated).
    """
    def eligible(table: pd.DataFrame) -> pd.DataFrame:
        kids = table[~table["is_total"].astype(bool)] if "is_total" in table.columns else table
        kids = kids[kids[indicator].notna()]
        if indicator in _NEEDS_CASES:
            kids = kids[kids["received"] >= min_cases]
        return kids

    def ranked(table: pd.DataFrame) -> pd.DataFrame:
        kids = eligible(table)
        order = kids.sort_values([indicator, "code"], ascending=[not HIGHER_IS_BETTER.get(indicator, True), True],
                                 kind="stable")
        return order.assign(rank=np.arange(1, len(order) + 1))

    cur = ranked(now)
    level_col = f"level_{indicator}" if f"level_{indicator}" in cur.columns else "overall"
    out = pd.DataFrame({"code": cur["code"].to_numpy(), "name": cur["name"].to_numpy(),
                        "value": cur[indicator].to_numpy(), "received": cur["received"].to_numpy(),
                        "rank": cur["rank"].to_numpy(),
                        "level": cur[level_col].to_numpy() if level_col in cur.columns else -1})
    old = ranked(before)
    prev = pd.DataFrame({"code": old["code"].to_numpy(), "previous": old[indicator].to_numpy(),
                         "previous_rank": old["rank"].to_numpy()})
    out = out.merge(prev, on="code", how="left")
    out["change"] = out["value"] - out["previous"]
    out["rank_change"] = out["previous_rank"] - out["rank"]
    return out.reset_index(drop=True)


# --- what each page asks of the database (for benchmarks/pagedata.py) ---

def cases_page(conn: Connection, view: View, as_of: dt.datetime, limit: int = 20) -> None:
    """Every query the 事件办结 page runs for a first visit of ``view`` (its trend opens by month; the switch
    to weeks is one more query, :func:`weekly`). The indicator tables and monthly come from queries."""
    from . import queries
    queries.indicator_table(conn, view, as_of)
    queries.indicator_table(conn, view.previous(), as_of)
    queries.monthly(conn, view, as_of)
    by_dimensions(conn, view, as_of)
    resolution_levels(conn, view)
    ageing(conn, view, as_of)
    overdue_list(conn, view, as_of, limit)


def warnings_page(conn: Connection, view: View, as_of: dt.datetime) -> None:
    """Every query the 三色预警 page runs for the last month of ``view``."""
    from . import queries
    month = view.date_to.year * 100 + view.date_to.month
    this = month_view(view.region, month, scope=view.scope)
    for v in (this, this.previous(), this.year_ago()):
        queries.indicator_table(conn, v, as_of)
    warning_history(conn, view.region, month, as_of, scope=view.scope)
    duty_list(conn, view.region, view.scope)
