"""The case list (事件明细): filtered, paged and streamed rows of ``cases`` with region and grid names.

One filter value, :class:`CaseQuery` (the shared View plus the data page's own filters), drives three
reads that therefore always agree: :func:`count` (the total shown), :func:`page` (one page for the
browser, paged in the database) and :func:`iter_chunks` (every row, in chunks, for exports).

Portable SQL only (SQLite and PostgreSQL):
- the subtree and period are the code range and ``day`` integers the indicator queries use;
- free text is ``lower(description) LIKE :term ESCAPE '\\'`` with ``%``, ``_`` and ``\\`` in the
  search string escaped, one term per whitespace-separated word (all must occur);
- names are joined from ``regions``/``grids`` by computed parent codes (``substr(...) || '000'``), on
  the page's rows only: the paging happens in a subquery first;
- overdue is ``closed_at IS NULL AND deadline < :as_of``, as in the indicators (逾期未办结).
Rows are ordered newest first, ``(reported_at DESC, id DESC)``, a total order, so LIMIT/OFFSET pages
never overlap or skip. Streaming: a server-side cursor on PostgreSQL
(``stream_results``/``yield_per``), ``fetchmany`` on SQLite, so memory stays bounded by the chunk size.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from .codes import code_range, is_code
from .queries import day_int
from .scope import check_view
from .view import View

#: Never more rows than this in one page (the browser gets pages, never the whole result).
MAX_PAGE_ROWS = 5_000
#: Longest free-text search accepted (characters).
MAX_TEXT = 100
#: Rows per chunk when streaming an export.
CHUNK_ROWS = 10_000

#: Columns of a case-list frame, in order.
COLUMNS = (
    "id", "reported_at", "category", "source", "status", "overdue", "county_name", "township_name",
    "village_name", "grid_name", "description", "handling_unit", "deadline", "dispatched_at", "closed_at",
    "resolution_level", "satisfaction", "is_major", "citizen_name", "citizen_phone", "grid_code",
)
DATETIME_COLUMNS = ("reported_at", "deadline", "dispatched_at", "closed_at")

_ESCAPE = "\\"


class BadFilter(ValueError):
    """A filter value that cannot be used; the message is for people (Chinese)."""


@dataclass(frozen=True)
class CaseQuery:
    """Which cases: the View (region subtree, period, categories, sources, statuses) and page filters.

    ``regions``: None = the whole subtree; a tuple = only these codes' subtrees (e.g. the children whose
    warning colour is red), an empty tuple selects nothing. ``as_of`` is the time overdue is judged at.
    """

    view: View
    as_of: dt.datetime
    overdue_only: bool = False
    text: str = ""
    regions: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.text) > MAX_TEXT:
            raise BadFilter(f"搜索内容过长（{len(self.text)} 个字符），最多 {MAX_TEXT} 个字符。")
        for code in self.regions or ():
            if not is_code(code):
                raise BadFilter(f"区划代码 {code!r} 格式不正确，应为 12 位数字（网格为 15 位）。")

    @property
    def terms(self) -> list[str]:
        return self.text.split()


def like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE … ESCAPE '\\'`` with the term's own ``\\``, ``%`` and ``_`` matched literally."""
    escaped = term.lower().replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def _where(q: CaseQuery) -> tuple[str, dict]:
    """WHERE clause (over alias ``c``) and its parameters; the View's region is checked against its scope."""
    v = check_view(q.view)
    lo, hi = code_range(v.region)
    sql = ["c.grid_code >= :lo AND c.grid_code < :hi", "c.day >= :d0 AND c.day <= :d1"]
    params: dict = {"lo": lo, "hi": hi, "d0": day_int(v.date_from), "d1": day_int(v.date_to)}
    for col, values in (("category", v.categories), ("source", v.sources), ("status", v.statuses)):
        if values:
            sql.append(f"c.{col} IN :{col}_list")
            params[f"{col}_list"] = list(values)
    if q.regions is not None:
        if not q.regions:
            sql.append("1 = 0")
        else:
            ors = []
            for i, code in enumerate(q.regions):
                params[f"rlo{i}"], params[f"rhi{i}"] = code_range(code)
                ors.append(f"(c.grid_code >= :rlo{i} AND c.grid_code < :rhi{i})")
            sql.append("(" + " OR ".join(ors) + ")")
    if q.overdue_only:
        sql.append("c.closed_at IS NULL AND c.deadline < :as_of")
        params["as_of"] = q.as_of
    for i, term in enumerate(q.terms):
        sql.append(f"lower(c.description) LIKE :term{i} ESCAPE '{_ESCAPE}'")
        params[f"term{i}"] = like_pattern(term)
    return " AND ".join(sql), params


def _stmt(sql: str, params: dict):
    stmt = text(sql)
    for key, value in params.items():
        if isinstance(value, list):
            stmt = stmt.bindparams(bindparam(key, expanding=True))
    return stmt


def _hint(conn: Connection, q: CaseQuery, ordered: bool) -> str:
    """SQLite only: the index to read (its planner cannot estimate code and day ranges).

    Overdue-only reads the small partial index of open cases. A count reads the covering
    (grid, day) index. An ordered read of a whole city or county (many matches) walks
    ``ix_cases_reported`` backwards and stops after a page; below the county the subtree's
    matches are few, found through (grid, day) and sorted.
    PostgreSQL has histograms and chooses well itself.
    """
    if conn.dialect.name != "sqlite":
        return ""
    if q.overdue_only:
        return " INDEXED BY ix_cases_open"
    if ordered and q.view.level in ("city", "county") and q.regions is None:
        return " INDEXED BY ix_cases_reported"
    return " INDEXED BY ix_cases_grid_day"


def count(conn: Connection, q: CaseQuery) -> int:
    """How many cases the query selects.

    A city or county filtered only by period, category and source is counted from the rollups (the 受理量
    of its indicator row): COUNT(*) over a city's year would read ~600 k index entries at 2 M cases."""
    if (q.view.level in ("city", "county") and not q.text and not q.overdue_only and q.regions is None
            and not q.view.statuses):
        from .queries import indicator_table
        return int(indicator_table(conn, q.view, q.as_of).iloc[0]["received"])
    where, params = _where(q)
    sql = f"SELECT COUNT(*) FROM cases c{_hint(conn, q, ordered=False)} WHERE {where}"
    return int(conn.execute(_stmt(sql, params), params).scalar() or 0)


def _select(conn: Connection, q: CaseQuery, limit: int | None = None, offset: int = 0) -> tuple[str, dict]:
    where, params = _where(q)
    params["as_of"] = q.as_of
    # reported_at bounds as well as day: they let ix_cases_reported stop at the period's ends.
    params["t0"] = dt.datetime.combine(q.view.date_from, dt.time())
    params["t1"] = dt.datetime.combine(q.view.date_to + dt.timedelta(days=1), dt.time())
    paging = ""
    if limit is not None:
        paging = " LIMIT :limit OFFSET :offset"
        params["limit"], params["offset"] = int(limit), int(offset)
    order = "ORDER BY reported_at DESC, id DESC"
    inner = (f"SELECT c.* FROM cases c{_hint(conn, q, ordered=True)} "
             f"WHERE {where} AND c.reported_at >= :t0 AND c.reported_at < :t1 {order}{paging}")
    sql = (
        "SELECT c.id, c.reported_at, c.category, c.source, c.status, "
        "CASE WHEN c.closed_at IS NULL AND c.deadline < :as_of THEN 1 ELSE 0 END AS overdue, "
        "k.name AS county_name, tw.name AS township_name, v.name AS village_name, g.name AS grid_name, "
        "c.description, c.handling_unit, c.deadline, c.dispatched_at, c.closed_at, c.resolution_level, "
        "c.satisfaction, c.is_major, c.citizen_name, c.citizen_phone, c.grid_code "
        f"FROM ({inner}) c "
        "LEFT JOIN grids g ON g.code = c.grid_code "
        "LEFT JOIN regions v ON v.code = substr(c.grid_code, 1, 12) "
        "LEFT JOIN regions tw ON tw.code = substr(c.grid_code, 1, 9) || '000' "
        "LEFT JOIN regions k ON k.code = substr(c.grid_code, 1, 6) || '000000' "
        f"{order}"
    )
    return sql, params


def frame(rows, columns=COLUMNS) -> pd.DataFrame:
    """Rows as a typed frame: datetimes (SQLite returns strings), nullable ints, booleans."""
    df = pd.DataFrame.from_records(rows, columns=list(columns))
    for col in DATETIME_COLUMNS:
        df[col] = pd.to_datetime(df[col], format="ISO8601") if len(df) else pd.Series(dtype="datetime64[us]")
    df["overdue"] = df["overdue"].astype(bool)
    df["is_major"] = df["is_major"].fillna(False).astype(bool)
    df["satisfaction"] = pd.to_numeric(df["satisfaction"]).astype("Int64")
    return df


def page(conn: Connection, q: CaseQuery, offset: int = 0, limit: int = 50) -> pd.DataFrame:
    """One page of cases, newest first (``limit`` at most MAX_PAGE_ROWS)."""
    if limit < 1 or offset < 0:
        raise BadFilter("分页参数无效：每页行数应大于 0，起始行不能为负。")
    sql, params = _select(conn, q, min(limit, MAX_PAGE_ROWS), offset)
    return frame(conn.execute(_stmt(sql, params), params).fetchall())


def iter_chunks(conn: Connection, q: CaseQuery, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Every selected case, newest first, as frames of at most ``chunk_rows`` rows (bounded memory).

    PostgreSQL reads through a server-side cursor; SQLite's cursor steps through the result lazily and
    ``fetchmany`` takes one chunk at a time.
    """
    sql, params = _select(conn, q)
    stmt = _stmt(sql, params)
    if conn.dialect.name == "postgresql":
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt, params)
        for rows in result.partitions(chunk_rows):
            yield frame(rows)
        return
    result = conn.execute(stmt, params)
    try:
        while rows := result.fetchmany(chunk_rows):
            yield frame(rows)
    finally:
        result.close()
