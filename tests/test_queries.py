"""The SQL paths (rollup, raw, open-case index) agree with indicators computed from raw rows in pandas,
on SQLite and on PostgreSQL; the rollup stays equal to the cases after writes."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from analytics.indicators import SUM_MEASURES, derive, measures_from_cases
from data_access import queries, rollup
from data_access.codes import CHILD_LEVEL, PREFIX_LEN, code_range, level_of
from data_access.schema import cases as cases_t
from data_access.view import View
from data_access.writes import derive_columns, insert_frame

from .conftest import AS_OF

CITY, COUNTY = "331100000000", "331127000000"


def raw_cases(engine, code, d0, d1, **filters):
    lo, hi = code_range(code)
    sql = ("SELECT * FROM cases WHERE grid_code >= :lo AND grid_code < :hi "
           "AND reported_at >= :t0 AND reported_at < :t1")
    with engine.connect() as conn:
        df = pd.read_sql(text(sql), conn, params={
            "lo": lo, "hi": hi, "t0": dt.datetime.combine(d0, dt.time()),
            "t1": dt.datetime.combine(d1 + dt.timedelta(days=1), dt.time())})
    for col, values in filters.items():
        df = df[df[col].isin(values)]
    for c in ("reported_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c])
    return df


def expected(engine, view: View, **filters):
    df = raw_cases(engine, view.region, view.date_from, view.date_to, **filters)
    child = CHILD_LEVEL.get(level_of(view.region), "grid")
    df["k"] = df["grid_code"].str[: PREFIX_LEN[child]]
    return measures_from_cases(df, pd.Timestamp(AS_OF), key="k")


def sample_codes(engine):
    with engine.connect() as conn:
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE level='township' AND parent_code='{COUNTY}'")).scalar()
        village = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE level='village' AND parent_code='{town}'")).scalar()
    return town, village


VIEWS = [
    ("city, full months (rollup)", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
    ("city, categories, partial months", lambda t, v: View(CITY, dt.date(2025, 12, 17), dt.date(2026, 3, 9),
                                                           categories=("矛盾纠纷",))),
    ("county, source, partial months", lambda t, v: View(COUNTY, dt.date(2025, 12, 17), dt.date(2026, 3, 9),
                                                         sources=("网格员上报", "12345热线"))),
    ("city, partial months (rollup + raw edges)", lambda t, v: View(CITY, dt.date(2025, 12, 17), dt.date(2026, 3, 9))),
    ("county, one month", lambda t, v: View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30))),
    ("county, inside one month", lambda t, v: View(COUNTY, dt.date(2026, 9, 3), dt.date(2026, 9, 20))),
    ("township (raw)", lambda t, v: View(t, dt.date(2026, 1, 1), dt.date(2026, 10, 31))),
    ("village (grids)", lambda t, v: View(v, dt.date(2025, 11, 1), dt.date(2026, 10, 31))),
    ("city, categories", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 10, 31), categories=("安全隐患", "治安"))),
    ("county, source", lambda t, v: View(COUNTY, dt.date(2026, 2, 1), dt.date(2026, 8, 31), sources=("12345热线",))),
    ("city, status filter", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 10, 31), statuses=("dispatched", "reopened"))),
]


@pytest.mark.parametrize("name, make", VIEWS, ids=[v[0] for v in VIEWS])
def test_indicator_table_matches_raw_cases(small_db, name, make):
    engine, _ = small_db
    view = make(*sample_codes(engine))
    filters = {c: list(getattr(view, f)) for c, f in (("category", "categories"), ("source", "sources"),
                                                      ("status", "statuses")) if getattr(view, f)}
    with engine.connect() as conn:
        got = queries.indicator_table(conn, view, AS_OF)
    want = expected(engine, view, **filters)
    kids = got[~got["is_total"]].copy()
    kids["k"] = kids["code"].str[: len(want["k"].iloc[0])] if len(want) else kids["code"]
    merged = kids.merge(want, on="k", how="left", suffixes=("", "_want")).fillna(0)
    for col in SUM_MEASURES:
        assert merged[col].to_numpy() == pytest.approx(merged[col + "_want"].to_numpy(), abs=1e-6), col
    # the region row is the sum of its children, and its rates are the pooled rates
    total = got[got["is_total"]].iloc[0]
    assert total["received"] == want["received"].sum()
    pooled = derive(want[list(SUM_MEASURES)].sum().to_frame().T).iloc[0]
    for col in ("closure_rate", "on_time_rate", "local_rate", "satisfaction_rate", "mean_close_hours",
                "median_close_hours"):
        assert total[col] == pytest.approx(pooled[col], nan_ok=True), col


def test_children_include_regions_without_cases(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        n_children = len(queries.children(conn, COUNTY))
        got = queries.indicator_table(conn, View(COUNTY, dt.date(2026, 10, 31), dt.date(2026, 10, 31)), AS_OF)
    assert len(got) == n_children + 1


@pytest.mark.parametrize("code", [CITY, COUNTY], ids=["city rows", "county rows"])
def test_monthly_series_sums_to_the_period(small_db, code):
    engine, _ = small_db
    view = View(code, dt.date(2025, 11, 15), dt.date(2026, 10, 31))
    with engine.connect() as conn:
        series = queries.monthly(conn, view, AS_OF)
        table = queries.indicator_table(conn, view, AS_OF)
    assert list(series["month"])[:2] == [202511, 202512] and len(series) == 12
    assert series["received"].sum() == table.iloc[0]["received"]
    for month, first, last in ((202511, dt.date(2025, 11, 15), dt.date(2025, 11, 30)),
                               (202603, dt.date(2026, 3, 1), dt.date(2026, 3, 31))):
        want = expected(engine, View(code, first, last))[list(SUM_MEASURES)].sum()
        got = series[series["month"] == month].iloc[0]
        for col in SUM_MEASURES:
            assert got[col] == pytest.approx(want[col], abs=1e-6), (month, col)


def test_unknown_region_is_a_clear_error(small_db):
    engine, _ = small_db
    with engine.connect() as conn, pytest.raises(queries.UnknownRegion, match="331199000000"):
        queries.region(conn, "331199000000")


def _rollup_from_scratch(conn):
    month = pd.read_sql(text("SELECT * FROM case_rollup ORDER BY level, code, month, category, source"), conn)
    day = pd.read_sql(text("SELECT * FROM case_rollup_day ORDER BY level, code, day, category, source"), conn)
    totals = pd.read_sql(text("SELECT * FROM case_rollup_all ORDER BY level, day, month, code"), conn)
    res = pd.read_sql(text("SELECT * FROM case_rollup_res ORDER BY level, day, month, code, resolution_level"), conn)
    assert len(month) and len(day) and len(totals) and len(res)
    return pd.concat([month, day, totals, res], keys=["month", "day", "all", "res"])


def test_rollup_agrees_after_insert_and_update(small_db):
    """Writes refresh the touched months; the result equals a rollup rebuilt from scratch."""
    engine, _ = small_db
    with engine.begin() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
        new = derive_columns(pd.DataFrame([{
            "id": "TEST-ROLLUP-1", "category": "治安", "source": "12345热线", "grid_code": grid,
            "reported_at": dt.datetime(2026, 5, 3, 9), "closed_at": dt.datetime(2026, 5, 4, 9),
            "deadline": dt.datetime(2026, 5, 8), "status": "closed", "resolution_level": "村",
            "satisfaction": 3, "is_major": False}]))
        insert_frame(conn, cases_t, new)
        # an update: a case of another month closes
        cid, month = conn.execute(text("SELECT id, month FROM cases WHERE closed_at IS NULL ORDER BY id LIMIT 1")).one()
        conn.execute(text("UPDATE cases SET closed_at = reported_at, close_hours = 0, on_time = 1, status = 'closed', "
                          "resolution_level = '镇' WHERE id = :id"), {"id": cid})
        rollup.refresh(conn, [202605, month])
        incremental = _rollup_from_scratch(conn)
        rollup.refresh(conn)
        full = _rollup_from_scratch(conn)
        conn.execute(text("DELETE FROM cases WHERE id = 'TEST-ROLLUP-1'"))
        conn.execute(text("UPDATE cases SET closed_at = NULL, close_hours = NULL, on_time = NULL, status = 'dispatched', "
                          "resolution_level = NULL WHERE id = :id"), {"id": cid})
        rollup.refresh(conn, [202605, month])
    pd.testing.assert_frame_equal(incremental, full)


def test_schema_round_trip(small_db):
    """A case written is read back with the same values (types, times, NULLs) on each database."""
    engine, _ = small_db
    row = {"id": "TEST-RT-1", "category": "劳动欠薪", "source": "矛调中心窗口", "grid_code": None,
           "lon": 119.912345, "lat": 28.456789, "reported_at": dt.datetime(2026, 2, 28, 23, 59, 59),
           "dispatched_at": None, "closed_at": None, "deadline": dt.datetime(2026, 3, 15, 23, 59, 59),
           "status": "reported", "resolution_level": None, "satisfaction": None, "is_major": True,
           "handling_unit": "某镇人社服务站", "description": "包工头失联欠薪", "citizen_name": "张三",
           "citizen_phone": "13812341234"}
    with engine.begin() as conn:
        row["grid_code"] = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
        insert_frame(conn, cases_t, derive_columns(pd.DataFrame([row])))
        back = dict(conn.execute(text("SELECT * FROM cases WHERE id = 'TEST-RT-1'")).mappings().one())
        conn.execute(text("DELETE FROM cases WHERE id = 'TEST-RT-1'"))
    for key, value in row.items():
        got = back[key]
        if isinstance(value, dt.datetime):
            got = pd.Timestamp(got).to_pydatetime()
        assert got == value, key
    assert back["month"] == 202602 and back["close_hours"] is None


@pytest.mark.parametrize("revision, table", [("0001", "case_rollup_res"), ("0002", "case_rollup"),
                                             ("0002", "case_rollup_day"), ("0002", "case_rollup_all"),
                                             ("0002", "case_rollup_res")])
def test_migrations_fill_new_rollup_rows_from_an_older_database(small_db, revision, table):
    """A database built before revision 0002 gets case_rollup_res filled from its cases, one built before 0003
    gets the city rows of every rollup, on the next start: the same rows a fresh build has."""
    from alembic import command

    from data_access import migrate
    engine, _ = small_db
    query = text(f"SELECT * FROM {table} ORDER BY level, code, {', '.join(rollup._KEYS[table])}")
    with engine.connect() as conn:
        before = pd.read_sql(query, conn)
    with engine.begin() as conn:
        command.downgrade(migrate.config(conn), revision)
    assert migrate.current(engine) == revision  # so upgrade() must run Alembic, not take the fast path
    with engine.connect() as conn:
        if revision == "0002":
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE level = 'city'")).scalar() == 0
    migrate.upgrade(engine)
    with engine.connect() as conn:
        after = pd.read_sql(query, conn)
    assert (before["level"] == "city").sum() > 0
    pd.testing.assert_frame_equal(before, after)


def test_city_rows_are_the_sums_of_the_cases(small_db):
    """Every city row of every rollup equals the same grouping computed from the raw cases."""
    engine, _ = small_db
    with engine.connect() as conn:
        got = pd.read_sql(text("SELECT month, category, source, received, closed, on_time, close_hours, d3 "
                               "FROM case_rollup WHERE level = 'city' ORDER BY month, category, source"), conn)
        want = pd.read_sql(text(
            "SELECT month, category, source, COUNT(*) AS received, "
            "SUM(CASE WHEN close_hours IS NOT NULL THEN 1 ELSE 0 END) AS closed, COALESCE(SUM(on_time), 0) AS on_time, "
            "COALESCE(SUM(close_hours), 0) AS close_hours, "
            "SUM(CASE WHEN close_hours > 8 AND close_hours <= 12 THEN 1 ELSE 0 END) AS d3 "
            "FROM cases GROUP BY month, category, source ORDER BY month, category, source"), conn)
        days = conn.execute(text("SELECT COUNT(DISTINCT day) FROM case_rollup_all WHERE level = 'city' AND day > 0")).scalar()
        case_days = conn.execute(text("SELECT COUNT(DISTINCT day) FROM cases")).scalar()
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert days == case_days


@pytest.mark.parametrize("level", ["city", "county", "township"])
def test_open_overdue_of_all_time_matches_raw_cases(small_db, level):
    """The wall's 当前逾期: every open case of the region, however old, and how many are past their deadline."""
    engine, _ = small_db
    town, _village = sample_codes(engine)
    code = {"city": CITY, "county": COUNTY, "township": town}[level]
    with engine.connect() as conn:
        got = queries.open_overdue(conn, View(code, dt.date(2000, 1, 1), dt.date(2026, 10, 31)), AS_OF)
    raw = raw_cases(engine, code, dt.date(2000, 1, 1), dt.date(2026, 10, 31))
    is_open = raw["closed_at"].isna()
    assert got == {"open": int(is_open.sum()), "overdue": int((is_open & (raw["deadline"] < AS_OF)).sum())}
    assert 0 < got["overdue"] < got["open"]
