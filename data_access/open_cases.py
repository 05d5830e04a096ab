"""The open cases, held in memory per process and reloaded whenever the data changes.

Why: ``open`` and ``overdue`` depend on the clock (a case becomes overdue the minute its deadline
passes), so no rollup can hold them, and every view asks for them, grouped five ways (by child, month,
day, category × source, age). Scanning the open-case index for each costs 5–17 ms at 2 M cases, and a
city page asks five times. Open cases are a command centre's backlog (33,000 of 2 M at the benchmark
city), not its history, so this process keeps them as numpy columns, sorted by grid code (about 200 bytes
per open case), and answers each view with a binary search and array masks in well under a millisecond.

Invalidation: a snapshot belongs to one database (its URL), its build stamp and its data version
(``data_access.meta``). Every write bumps the version (the importer, the sample build), and each call
reads it (one primary-key lookup), so the next view after a write reloads the snapshot.

Group keys are returned exactly as the SQL keys they stand beside (``queries._accumulate`` adds the
two by key): region prefixes and ``prefix:yyyymm`` as str, months and days as int.

The closed cases whose deadline is still ahead (办结但未到期, left out of 应办结: analytics.indicators) depend on
the clock too, and are as few (the last weeks' cases): :func:`not_due` keeps those due after the start of the
as-of day, per data version and day, and :func:`grouped_not_due` counts the ones due after the as-of time.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .codes import code_range
from .schema import meta
from .view import View

COLUMNS = ["k", "open", "overdue"]
NOT_DUE_COLUMNS = ["k", "early", "early_on_time"]


@dataclass(frozen=True)
class OpenCases:
    """Columns of every open case (closed_at IS NULL), sorted by grid code."""
    grid: np.ndarray      # <U15
    day: np.ndarray       # int64 yyyymmdd of the report
    deadline: np.ndarray  # datetime64[us]
    category: np.ndarray  # <U, '' when missing
    source: np.ndarray
    status: np.ndarray
    on_time: np.ndarray | None = None  # int 0/1, only in the not-yet-due snapshot

    def __len__(self) -> int:
        return len(self.grid)

    def rows(self, view: View) -> np.ndarray:
        """Indices of the open cases of ``view``: its region's subtree, its report days, its filters."""
        lo, hi = code_range(view.region)
        a, b = np.searchsorted(self.grid, lo, "left"), np.searchsorted(self.grid, hi, "left")
        d0 = view.date_from.year * 10000 + view.date_from.month * 100 + view.date_from.day
        d1 = view.date_to.year * 10000 + view.date_to.month * 100 + view.date_to.day
        keep = (self.day[a:b] >= d0) & (self.day[a:b] <= d1)
        for column, values in (("category", view.categories), ("source", view.sources), ("status", view.statuses)):
            if values:
                keep &= np.isin(getattr(self, column)[a:b], list(values))
        return a + np.flatnonzero(keep)


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, OpenCases]] = {}


def _stamp(conn: Connection) -> tuple:
    rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(["data_version", "built_at"])))
    return tuple(sorted(rows))


def snapshot(conn: Connection) -> OpenCases:
    """The open cases of ``conn``'s database, loaded once per data version."""
    return _cached(_cache, conn, _stamp(conn), lambda: load(conn))


def _cached(cache: dict, conn: Connection, stamp: tuple, loader: Callable[[], "OpenCases"]) -> "OpenCases":
    """``cache``'s snapshot for ``conn``'s database when its stamp is ``stamp``, else a fresh one (one load at a time)."""
    url = conn.engine.url.render_as_string(hide_password=True)
    hit = cache.get(url)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with _lock:
        hit = cache.get(url)
        if hit is None or hit[0] != stamp:
            hit = cache[url] = (stamp, loader())
    return hit[1]


def load(conn: Connection) -> OpenCases:
    """Read every open case's grouping columns (the partial open-case index covers them).

    The driver's cursor and column-wise numpy: SQLAlchemy's per-row wrapping and date parsing, and a
    DataFrame built from Row objects, cost several times the query at 33,000 rows. Sorted here, not by the
    database, because a collation could order codes differently from numpy's binary search.
    """
    return _read(conn, "SELECT grid_code, day, deadline, category, source, status FROM cases WHERE closed_at IS NULL")


def _read(conn: Connection, sql: str, params: tuple = ()) -> OpenCases:
    """An OpenCases from ``sql`` (grid_code, day, deadline, category, source, status[, on_time]) via the driver."""
    cursor = conn.connection.dbapi_connection.cursor()  # the driver's own rows: no per-row wrapping
    try:
        cursor.execute(sql, params) if params else cursor.execute(sql)
        rows = cursor.fetchall()
        width = len(cursor.description)
    finally:
        cursor.close()
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in range(width)]
    grid, day, deadline, category, source, status = columns[:6]
    order = np.argsort(np.array(grid, dtype="<U15"), kind="stable")

    def strings(values: list) -> np.ndarray:
        return np.array(["" if v is None else str(v) for v in values], dtype=str)[order]

    when = (pd.to_datetime(pd.Series(deadline, dtype=object), format="ISO8601") if rows
            else pd.Series([], dtype="datetime64[us]"))
    on_time = (np.array([int(v or 0) for v in columns[6]], dtype=np.int64)[order] if width > 6 else None)
    return OpenCases(grid=np.array(grid, dtype="<U15")[order], day=np.array(day, dtype=np.int64)[order],
                     deadline=when.to_numpy(dtype="datetime64[us]")[order],
                     category=strings(category), source=strings(source), status=strings(status), on_time=on_time)


_not_due_cache: dict[str, tuple[tuple, OpenCases]] = {}


def not_due(conn: Connection, as_of: dt.datetime) -> OpenCases:
    """The closed cases due after the start of ``as_of``'s day (with ``on_time``), loaded once per data version
    and day: a wall or a leader asks all day long with the clock moving, and each call filters by its own time."""
    since = dt.datetime.combine(as_of.date(), dt.time())
    return _cached(_not_due_cache, conn, _stamp(conn) + (since.isoformat(),), lambda: load_not_due(conn, since))


def load_not_due(conn: Connection, since: dt.datetime) -> OpenCases:
    """Closed cases due after ``since``, read over the deadline index (ix_cases_deadline covers them)."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    hint = " INDEXED BY ix_cases_deadline" if sqlite else ""
    # SQLite stores DateTime as text: compare with the same text SQLAlchemy writes.
    value = since.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else since
    return _read(conn, f"SELECT grid_code, day, deadline, category, source, status, on_time FROM cases{hint} "
                       f"WHERE deadline > {mark} AND closed_at IS NOT NULL", (value,))


Key = Callable[[OpenCases, np.ndarray], np.ndarray]


def grouped(conn: Connection, view: View, as_of: dt.datetime, key: Key) -> tuple[list[str], list[tuple]]:
    """(columns, rows) like ``queries._fetch``: ``k``, open, overdue per value of ``key(snapshot, rows)``."""
    snap = snapshot(conn)
    idx = snap.rows(view)
    if not len(idx):
        return list(COLUMNS), []
    keys, inverse = np.unique(key(snap, idx), return_inverse=True)
    late = snap.deadline[idx] < np.datetime64(as_of, "us")
    opened = np.bincount(inverse, minlength=len(keys))
    overdue = np.bincount(inverse, weights=late, minlength=len(keys)).astype(np.int64)
    return list(COLUMNS), list(zip(keys.tolist(), opened.tolist(), overdue.tolist()))


def grouped_not_due(conn: Connection, view: View, as_of: dt.datetime, key: Key) -> tuple[list[str], list[tuple]]:
    """(columns, rows) like :func:`grouped`: ``k``, early, early_on_time: the view's closed cases due after
    ``as_of``, per value of ``key``."""
    snap = not_due(conn, as_of)
    idx = snap.rows(view)
    idx = idx[snap.deadline[idx] > np.datetime64(as_of, "us")]
    if not len(idx):
        return list(NOT_DUE_COLUMNS), []
    keys, inverse = np.unique(key(snap, idx), return_inverse=True)
    early = np.bincount(inverse, minlength=len(keys))
    on_time = np.bincount(inverse, weights=snap.on_time[idx], minlength=len(keys)).astype(np.int64)
    return list(NOT_DUE_COLUMNS), list(zip(keys.tolist(), early.tolist(), on_time.tolist()))


# --- keys (each the twin of a SQL key expression) ---

def prefix(n: int) -> Key:
    """substr(grid_code, 1, n)"""
    return lambda s, i: s.grid[i].astype(f"<U{n}")


def month(s: OpenCases, i: np.ndarray) -> np.ndarray:
    """(day / 100)"""
    return s.day[i] // 100


def day(s: OpenCases, i: np.ndarray) -> np.ndarray:
    return s.day[i]


def prefix_month(n: int) -> Key:
    """substr(grid_code, 1, n) || ':' || month"""
    return lambda s, i: np.char.add(np.char.add(s.grid[i].astype(f"<U{n}"), ":"), (s.day[i] // 100).astype("<U6"))


def joined(columns: tuple[str, ...], sep: str) -> Key:
    """COALESCE(c1, '') || sep || COALESCE(c2, '') …"""
    def key(s: OpenCases, i: np.ndarray) -> np.ndarray:
        out = getattr(s, columns[0])[i]
        for column in columns[1:]:
            out = np.char.add(np.char.add(out, sep), getattr(s, column)[i])
        return out
    return key


def age(thresholds: tuple[int, ...]) -> Key:
    """CASE WHEN day > t0 THEN 0 WHEN day > t1 THEN 1 … ELSE len(thresholds) END (thresholds descending)."""
    edges = np.asarray(thresholds, dtype=np.int64)
    return lambda s, i: (s.day[i][:, None] <= edges[None, :]).sum(axis=1)
