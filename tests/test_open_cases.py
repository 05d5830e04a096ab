"""The in-memory open cases: the same numbers as the database, reloaded after every write, one per database."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from data_access import meta, migrate, open_cases, queries
from data_access.engine import get_engine
from data_access.schema import cases as cases_t
from data_access.view import View
from data_access.writes import derive_columns, insert_frame

from .conftest import AS_OF

CITY = "331100000000"
ALL_TIME = (dt.date(2000, 1, 1), dt.date(2026, 10, 31))


def test_snapshot_holds_exactly_the_open_cases(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        snap = open_cases.snapshot(conn)
        want = pd.read_sql(text("SELECT grid_code, day, deadline FROM cases WHERE closed_at IS NULL "
                                "ORDER BY grid_code, day, deadline"), conn)
    got = pd.DataFrame({"grid_code": snap.grid, "day": snap.day, "deadline": snap.deadline})
    got = got.sort_values(["grid_code", "day", "deadline"], ignore_index=True)
    assert len(got) == len(want) > 100
    assert list(got["grid_code"]) == list(want["grid_code"])
    assert (got["day"].to_numpy() == want["day"].to_numpy()).all()
    assert (got["deadline"].to_numpy() == pd.to_datetime(want["deadline"]).to_numpy()).all()
    assert list(snap.grid) == sorted(snap.grid)  # the binary search by code range relies on it


def _write(engine, assignments: str, cid: str) -> None:
    """Update one case and bump the data version in one transaction, as every writer does."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE cases SET {assignments} WHERE id = :id"), {"id": cid})
        meta.bump_version(conn)


def test_a_write_that_bumps_the_version_is_seen_by_the_next_view(small_db):
    """Close one open case (as the importer does: same transaction bumps the data version): open and overdue of
    its grid drop by one on the next call; reopening it brings them back."""
    engine, _ = small_db
    with engine.connect() as conn:
        cid, grid, deadline = conn.execute(text(
            "SELECT id, grid_code, deadline FROM cases WHERE closed_at IS NULL ORDER BY deadline, id LIMIT 1")).one()
        view = View(grid, *ALL_TIME)
        before = queries.open_overdue(conn, view, AS_OF)
    assert before["overdue"] >= 1  # the earliest deadline of all open cases is long past
    try:
        _write(engine, "closed_at = reported_at, close_hours = 0, status = 'closed'", cid)
        with engine.connect() as conn:
            after = queries.open_overdue(conn, view, AS_OF)
        assert after == {"open": before["open"] - 1, "overdue": before["overdue"] - 1}
    finally:
        _write(engine, "closed_at = NULL, close_hours = NULL, status = 'dispatched'", cid)
    with engine.connect() as conn:
        assert queries.open_overdue(conn, view, AS_OF) == before


def test_each_database_has_its_own_snapshot(small_sqlite, tmp_path):
    """A second database in the same process (same data version number) never sees the first one's cases."""
    other = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(other)
    with small_sqlite.connect() as conn:
        grid = conn.execute(text("SELECT MIN(grid_code) FROM cases")).scalar()
        big = queries.open_overdue(conn, View(CITY, *ALL_TIME), AS_OF)
    row = {"id": "ONLY-HERE", "category": "治安", "source": "12345热线", "grid_code": grid,
           "reported_at": dt.datetime(2026, 10, 1, 9), "closed_at": None, "deadline": dt.datetime(2026, 10, 2),
           "status": "dispatched", "resolution_level": None, "satisfaction": None, "is_major": False}
    with small_sqlite.connect() as conn:
        stamp = {k: v for k, v in meta.read(conn).items() if k in ("data_version", "built_at")}
    with other.begin() as conn:
        insert_frame(conn, cases_t, derive_columns(pd.DataFrame([row])))
        meta.write(conn, stamp)  # the same version and build stamp: only the URL tells the two apart
    with other.connect() as conn:
        assert queries.open_overdue(conn, View(CITY, *ALL_TIME), AS_OF) == {"open": 1, "overdue": 1}
    with small_sqlite.connect() as conn:
        assert queries.open_overdue(conn, View(CITY, *ALL_TIME), AS_OF) == big
    assert big["open"] > 1
    other.dispose()


@pytest.mark.parametrize("key, values, want", [
    (open_cases.prefix(6), ["331102001001001", "331102001001002", "331121001001001"], ["331102", "331102", "331121"]),
    (open_cases.month, [20260131, 20260201, 20260202], [202601, 202602, 202602]),
    (open_cases.prefix_month(9), ["331102001001001"] * 2, ["331102001:202601", "331102001:202602"]),
    (open_cases.age((20261029, 20261025, 20261002)), [20261030, 20261029, 20261025, 20261003, 20261002, 20250101],
     [0, 1, 2, 2, 3, 3]),
])
def test_keys_are_the_twins_of_the_sql_keys(key, values, want):
    n = len(values)
    grid = np.array(values if isinstance(values[0], str) else ["331102001001001"] * n)
    day = np.array(values if isinstance(values[0], int) else [20260131, 20260201][:n] + [20260201] * (n - 2),
                   dtype=np.int64)
    snap = open_cases.OpenCases(grid=grid, day=day, deadline=np.zeros(n, dtype="datetime64[us]"),
                                category=np.array(["a"] * n), source=np.array(["b"] * n), status=np.array(["x"] * n))
    assert key(snap, np.arange(n)).tolist() == want
    assert open_cases.joined(("category", "source"), "|")(snap, np.arange(n)).tolist() == ["a|b"] * n


@pytest.mark.parametrize("hours_before", [0, 30, 24 * 9 + 5])
def test_closed_cases_not_yet_due_from_memory_equal_the_sql(small_db, hours_before):
    """The closed cases due after the as-of time (left out of 应办结), counted from the in-memory snapshot per
    county, per day and with a filter, equal the SQL over the deadline index, at as-of times on other days too
    (each day its own snapshot); and the raw cases agree with both (deadline > as_of, closed)."""
    engine, _ = small_db
    at = AS_OF - dt.timedelta(hours=hours_before)
    views = [View(CITY, dt.date(2026, 9, 1), at.date()),
             View(CITY, dt.date(2026, 10, 1), at.date(), categories=("安全隐患", "矛盾纠纷"))]
    with engine.connect() as conn:
        for view in views:
            for key, sql_key in ((open_cases.prefix(6), "substr(grid_code, 1, 6)"), (open_cases.day, "day")):
                _c, memory = open_cases.grouped_not_due(conn, view, at, key)
                _c, sql = queries.early_closed(conn, view, at, sql_key)
                assert sorted(memory) == sorted(tuple(int(v) if i else v for i, v in enumerate(r)) for r in sql)
                assert sum(r[1] for r in memory) > 0
        raw = pd.read_sql(text("SELECT deadline, closed_at, on_time FROM cases WHERE day >= 20260901 AND day <= :d"),
                          conn, params={"d": queries.day_int(at.date())})
        _c, everything = open_cases.grouped_not_due(conn, views[0], at, open_cases.prefix(2))
    due_later = (pd.to_datetime(raw["deadline"]) > at) & raw["closed_at"].notna()
    assert everything == [(CITY[:2], int(due_later.sum()), int(raw["on_time"][due_later].sum()))]


def test_the_sql_count_of_closed_cases_not_yet_due_fails_closed_without_a_scope(small_db):
    """queries.early_closed is public: a user without a region reads nothing, and a township user nothing of the
    city (the tests' process default is trusted, so the scope is given on the view)."""
    from data_access.scope import OutsideScope, Scope
    engine, _ = small_db
    for scope in (Scope("nobody", "viewer", None), Scope("town", "viewer", CITY[:4] + "02001000")):
        view = View(CITY, dt.date(2026, 10, 1), dt.date(2026, 10, 31), scope=scope)
        with engine.connect() as conn, pytest.raises(OutsideScope):
            queries.early_closed(conn, view, AS_OF, "substr(grid_code, 1, 6)")
