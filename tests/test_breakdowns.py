"""The 事件办结 / 三色预警 breakdowns (data_access.breakdowns) equal pandas computations over the raw cases of
the same view, on SQLite and on PostgreSQL (``small_db``), plus the pure helpers."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from analytics.indicators import DURATION_COLUMNS, SUM_MEASURES, derive, measures_from_cases
from data_access import breakdowns, queries
from data_access.codes import CHILD_LEVEL, PREFIX_LEN, code_range, level_of
from data_access.view import View

from .conftest import AS_OF

CITY, COUNTY = "331100000000", "331127000000"
PERSONAL = {"citizen_name", "citizen_phone", "description", "lon", "lat"}


def raw(engine, view: View) -> pd.DataFrame:
    """The view's cases (report day in the period, filters applied), straight from the table."""
    lo, hi = code_range(view.region)
    sql = ("SELECT * FROM cases WHERE grid_code >= :lo AND grid_code < :hi "
           "AND reported_at >= :t0 AND reported_at < :t1")
    with engine.connect() as conn:
        df = pd.read_sql(text(sql), conn, params={
            "lo": lo, "hi": hi, "t0": dt.datetime.combine(view.date_from, dt.time()),
            "t1": dt.datetime.combine(view.date_to + dt.timedelta(days=1), dt.time())})
    for col, values in (("category", view.categories), ("source", view.sources), ("status", view.statuses)):
        if values:
            df = df[df[col].isin(values)]
    for c in ("reported_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c])
    return df.reset_index(drop=True)


def codes(engine):
    with engine.connect() as conn:
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE level='township' AND parent_code='{COUNTY}'")).scalar()
        village = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE level='village' AND parent_code='{town}'")).scalar()
    return town, village


VIEWS = [
    ("city, full months", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
    ("city, partial months", lambda t, v: View(CITY, dt.date(2025, 12, 17), dt.date(2026, 3, 9))),
    ("county, one month", lambda t, v: View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30))),
    ("county, inside a month", lambda t, v: View(COUNTY, dt.date(2026, 9, 3), dt.date(2026, 9, 20))),
    ("township", lambda t, v: View(t, dt.date(2026, 1, 1), dt.date(2026, 10, 31))),
    ("township, partial", lambda t, v: View(t, dt.date(2026, 2, 10), dt.date(2026, 10, 31))),
    ("village", lambda t, v: View(v, dt.date(2025, 11, 1), dt.date(2026, 10, 31))),
    ("city, categories", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 10, 31), categories=("安全隐患", "治安"))),
    ("county, source", lambda t, v: View(COUNTY, dt.date(2026, 2, 1), dt.date(2026, 8, 31), sources=("12345热线",))),
    ("city, status filter", lambda t, v: View(CITY, dt.date(2026, 1, 1), dt.date(2026, 10, 31),
                                              statuses=("dispatched", "reopened"))),
]
IDS = [v[0] for v in VIEWS]


@pytest.fixture(params=VIEWS, ids=IDS)
def case(request, small_db):
    engine, _ = small_db
    view = request.param[1](*codes(engine))
    return engine, view, raw(engine, view)


def assert_measures(got: pd.DataFrame, want: pd.DataFrame, key: str, columns=SUM_MEASURES):
    merged = want.merge(got, on=key, how="outer", suffixes=("_want", "")).fillna(0)
    assert len(merged) == len(want), (sorted(got[key]), sorted(want[key]))
    for col in columns:
        assert merged[col].to_numpy(dtype=float) == pytest.approx(merged[col + "_want"].to_numpy(dtype=float),
                                                                   abs=1e-6), col


# --- category, source, daily, weekly ---

@pytest.mark.parametrize("column", ["category", "source"])
def test_by_dimension_matches_raw_cases(case, column):
    engine, view, cases = case
    with engine.connect() as conn:
        got = breakdowns.by_dimension(conn, view, AS_OF, column)
    want = measures_from_cases(cases, pd.Timestamp(AS_OF), key=column)
    assert_measures(got, want, column)
    assert got["received"].is_monotonic_decreasing
    rates = derive(want).set_index(column)["closure_rate"]
    assert got.set_index(column)["closure_rate"].reindex(rates.index).to_numpy() == pytest.approx(rates.to_numpy(),
                                                                                                  nan_ok=True)


def test_one_pass_gives_category_and_source_breakdowns(case):
    engine, view, cases = case
    with engine.connect() as conn:
        both = breakdowns.by_dimensions(conn, view, AS_OF)
    assert set(both) == {"category", "source"}
    for column, got in both.items():
        assert_measures(got, measures_from_cases(cases, pd.Timestamp(AS_OF), key=column), column)
        assert got["received"].sum() == len(cases)


def test_daily_and_weekly_match_raw_cases(case):
    engine, view, cases = case
    with engine.connect() as conn:
        days = breakdowns.daily(conn, view, AS_OF)
        weeks = breakdowns.weekly(conn, view, AS_OF)
        table = queries.indicator_table(conn, view, AS_OF)
    cases = cases.assign(day=cases["reported_at"].dt.strftime("%Y%m%d").astype(int))
    assert_measures(days, measures_from_cases(cases, pd.Timestamp(AS_OF), key="day"), "day")

    monday = cases["reported_at"].dt.normalize() - pd.to_timedelta(cases["reported_at"].dt.day_of_week, unit="D")
    want = measures_from_cases(cases.assign(period=monday), pd.Timestamp(AS_OF), key="period")
    assert_measures(weeks[weeks["received"] > 0], want, "period")
    # every week of the period is there, consecutive Mondays, and the days add up to the period
    assert (weeks["period"].dt.day_of_week == 0).all()
    assert (weeks["period"].diff().dropna() == pd.Timedelta(days=7)).all()
    assert weeks["period"].iloc[0] <= pd.Timestamp(view.date_from) < weeks["period"].iloc[0] + pd.Timedelta(days=7)
    assert weeks["days"].sum() == (view.date_to - view.date_from).days + 1
    assert weeks["received"].sum() == table.iloc[0]["received"]
    assert weeks["overdue"].sum() == table.iloc[0]["overdue"]


# --- resolution level, ageing, overdue list ---

def test_resolution_levels_match_raw_cases(case):
    engine, view, cases = case
    with engine.connect() as conn:
        got = breakdowns.resolution_levels(conn, view)
    closed = cases[cases["closed_at"].notna()]
    want = closed["resolution_level"].fillna("").value_counts()
    assert list(got["level"][:4]) == ["村", "镇", "县", "市"]
    assert dict(zip(got["level"], got["closed"])) == {lv: int(want.get(lv, 0)) for lv in got["level"]}
    assert got["closed"].sum() == len(closed)
    if len(closed):
        assert got["share"].sum() == pytest.approx(1.0)
        hours = (closed["closed_at"] - closed["reported_at"]).dt.total_seconds() / 3600
        mean = hours.groupby(closed["resolution_level"]).mean()
        for lv, m in mean.items():
            assert got.set_index("level").loc[lv, "mean_close_hours"] == pytest.approx(m, rel=1e-6)


@pytest.mark.parametrize("as_of", [AS_OF, dt.datetime(2026, 10, 20, 15, 30)], ids=["as-of", "mid-October"])
def test_ageing_matches_raw_cases(case, as_of):
    engine, view, cases = case
    with engine.connect() as conn:
        got = breakdowns.ageing(conn, view, as_of)
        table = queries.indicator_table(conn, view, as_of)
    open_ = cases[cases["closed_at"].isna()]
    age = (pd.Timestamp(as_of.date()) - open_["reported_at"].dt.normalize()).dt.days
    bucket = np.searchsorted(np.array(breakdowns.AGE_EDGES), age.to_numpy(), side="right")
    assert got["age"].tolist() == list(range(len(breakdowns.AGE_EDGES) + 1))
    assert got["open"].tolist() == [int((bucket == i).sum()) for i in got["age"]]
    overdue = (open_["deadline"] < pd.Timestamp(as_of)).to_numpy()
    assert got["overdue"].tolist() == [int(((bucket == i) & overdue).sum()) for i in got["age"]]
    # the same open cases as the KPI cards
    assert got["open"].sum() == table.iloc[0]["open"] and got["overdue"].sum() == table.iloc[0]["overdue"]


def test_overdue_list_is_the_most_overdue_open_cases(case):
    engine, view, cases = case
    with engine.connect() as conn:
        got = breakdowns.overdue_list(conn, view, AS_OF, limit=15)
        names = dict(conn.execute(text("SELECT code, name FROM regions")).all())
        grids = dict(conn.execute(text("SELECT code, name FROM grids")).all())
    want = cases[cases["closed_at"].isna() & (cases["deadline"] < pd.Timestamp(AS_OF))]
    want = want.sort_values(["deadline", "id"]).head(15)
    assert got["id"].tolist() == want["id"].tolist()
    assert not PERSONAL & set(got.columns)
    if want.empty:
        return
    days = (pd.Timestamp(AS_OF) - want["deadline"]).dt.total_seconds() / 86400
    assert got["days_overdue"].to_numpy() == pytest.approx(days.round(1).to_numpy())
    assert got["days_overdue"].is_monotonic_decreasing
    assert got["handling_unit"].tolist() == want["handling_unit"].tolist()
    row = got.iloc[0]
    g = row["grid_code"]
    assert row["county"] == names[g[:6] + "000000"] and row["township"] == names[g[:9] + "000"]
    assert row["village"] == names[g[:12]] and row["grid"] == grids[g]


# --- three-colour warnings: children × months in one query ---

@pytest.mark.parametrize("region, month, today", [
    ("city", 202610, None), ("county", 202609, None), ("township", 202610, None), ("village", 202610, None),
    ("city", 202610, dt.date(2026, 10, 17)),        # the current month, cut at today (raw/day-rollup edge)
    ("county", 202610, dt.date(2026, 10, 17)),
], ids=["city", "county", "township", "village", "city, current month", "county, current month"])
def test_warning_history_matches_raw_cases(small_db, region, month, today):
    engine, _ = small_db
    town, village = codes(engine)
    code = {"city": CITY, "county": COUNTY, "township": town, "village": village}[region]
    view = breakdowns.month_view(code, month, today, months=12)
    with engine.connect() as conn:
        got = breakdowns.warning_history(conn, code, month, AS_OF, today=today)
        kids = queries.children(conn, code)
        last = queries.indicator_table(conn, breakdowns.month_view(code, month, today), AS_OF)
    cases = raw(engine, view)
    n = PREFIX_LEN[CHILD_LEVEL[level_of(code)]]
    cases = cases.assign(k=cases["grid_code"].str[:n] + ":" + cases["reported_at"].dt.strftime("%Y%m"))
    want = measures_from_cases(cases, pd.Timestamp(AS_OF), key="k")
    got = got.assign(k=got["code"].str[:n] + ":" + got["month"].astype(str))
    assert len(got) == 12 * len(kids)                      # every child × every month, empty ones included
    assert sorted(got["month"].unique()) == breakdowns.month_list(breakdowns.shift_month(month, -11), month)
    assert_measures(got[got["received"] + got["open"] > 0], want, "k")
    # the last month equals the indicator table of that month (the page's report)
    mine = got[got["month"] == month].set_index("code")
    for _, row in last[~last["is_total"]].iterrows():
        assert mine.loc[row["code"], "received"] == row["received"]
        assert mine.loc[row["code"], "overdue"] == row["overdue"]
        assert mine.loc[row["code"], "closure_rate"] == pytest.approx(row["closure_rate"], nan_ok=True)


def test_month_view_and_month_list():
    assert breakdowns.month_list(202511, 202602) == [202511, 202512, 202601, 202602]
    v = breakdowns.month_view(CITY, 202602)
    assert (v.date_from, v.date_to) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    v = breakdowns.month_view(CITY, 202610, months=12)
    assert (v.date_from, v.date_to) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    v = breakdowns.month_view(CITY, 202611, today=dt.date(2026, 11, 22))
    assert (v.date_from, v.date_to) == (dt.date(2026, 11, 1), dt.date(2026, 11, 22))
    assert breakdowns.month_view(CITY, 202610, today=dt.date(2026, 11, 22)).date_to == dt.date(2026, 10, 31)


def test_duty_list_and_month_span(small_db):
    engine, _ = small_db
    town, village = codes(engine)
    with engine.connect() as conn:
        duty = breakdowns.duty_list(conn, COUNTY)
        regions = pd.read_sql(text(f"SELECT code, duty_unit, duty_person, duty_phone FROM regions "
                                   f"WHERE parent_code = '{COUNTY}' ORDER BY code"), conn)
        grids = breakdowns.duty_list(conn, village)
        workers = pd.read_sql(text(f"SELECT code, worker_name, worker_phone FROM grids WHERE village_code = '{village}' "
                                   "ORDER BY code"), conn)
        span = breakdowns.month_span(conn)
        first, last = conn.execute(text("SELECT MIN(reported_at), MAX(reported_at) FROM cases")).one()
    assert duty["code"].tolist() == regions["code"].tolist()
    assert duty["duty_person"].tolist() == regions["duty_person"].tolist()
    assert duty["duty_unit"].notna().all() and duty["duty_phone"].tolist() == regions["duty_phone"].tolist()
    assert grids["duty_person"].tolist() == workers["worker_name"].tolist()
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    assert span == (first.year * 100 + first.month, last.year * 100 + last.month)


# --- pure helpers ---

def test_duration_distribution():
    row = {c: 0 for c in DURATION_COLUMNS} | {"d0": 2, "d5": 6, "d12": 2}
    dist = breakdowns.duration_distribution(row)
    assert dist["count"].tolist() == [2, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 2]
    assert dist["share"].sum() == pytest.approx(1.0) and dist.loc[5, "share"] == pytest.approx(0.6)
    assert (dist.loc[5, "lo_hours"], dist.loc[5, "hi_hours"]) == (24, 48)
    assert np.isnan(dist["hi_hours"].iloc[-1])
    assert breakdowns.duration_distribution({})["share"].isna().all()


def table(rows):
    """rows: (code, received, closure_rate, overdue)."""
    df = pd.DataFrame(rows, columns=["code", "received", "closure_rate", "overdue"])
    df["name"] = df["code"].str[6:9]
    df["is_total"] = False
    return df


def test_ranking_best_first_with_previous_period_and_min_cases():
    now = table([("331102001000", 100, 0.90, 5), ("331102002000", 100, 0.99, 1), ("331102003000", 10, 1.0, 0),
                 ("331102004000", 100, float("nan"), 9), ("331102005000", 50, 0.95, 2)])
    before = table([("331102001000", 100, 0.95, 3), ("331102002000", 100, 0.97, 2), ("331102005000", 50, 0.80, 7)])
    r = breakdowns.ranking(now, before, "closure_rate", min_cases=30)
    assert r["name"].tolist() == ["002", "005", "001"]          # NaN and the 10-case region are not ranked
    assert r["rank"].tolist() == [1, 2, 3]
    assert r["previous_rank"].tolist() == [1, 3, 2]
    assert r["change"].to_numpy() == pytest.approx([0.02, 0.15, -0.05])
    assert r["rank_change"].tolist() == [0, 1, -1]
    assert (r["level"] == -1).all()                             # not evaluated: no level
    # lower is better, counts are ranked whatever the number of cases
    r = breakdowns.ranking(now, before, "overdue", min_cases=30)
    assert r["name"].tolist() == ["003", "002", "005", "001", "004"]
    assert pd.isna(r.set_index("name").loc["003", "previous"])


def test_ranking_uses_the_indicator_warning_level():
    from analytics.warnings import DEFAULT_RULES, evaluate
    now = evaluate(table([("331102001000", 100, 0.95, 50), ("331102002000", 100, 0.99, 1)]), DEFAULT_RULES)
    r = breakdowns.ranking(now, now, "closure_rate", min_cases=30)
    assert r["level"].tolist() == [0, 1]                         # 0.99 green, 0.95 yellow (closure rule [0.97, 0.92])
    r = breakdowns.ranking(now, now, "received", min_cases=30)
    assert sorted(r["level"].tolist()) == [0, 1]                 # no rule for received: the overall level


def test_page_query_bundles_run(small_db):
    """What benchmarks time for the two pages (breakdowns.cases_page / warnings_page) runs on both databases."""
    engine, _ = small_db
    with engine.connect() as conn:
        for view in (View(CITY, dt.date(2026, 1, 1), dt.date(2026, 10, 31)), View(COUNTY, dt.date(2026, 10, 1), dt.date(2026, 10, 31))):
            breakdowns.cases_page(conn, view, AS_OF)
            breakdowns.warnings_page(conn, view, AS_OF)


@pytest.mark.parametrize("region", ["331100000000", "331127000000"])
def test_a_period_without_cases_gives_empty_but_well_formed_breakdowns(small_db, region):
    """Zero cases (a month before the data starts): every breakdown answers, with zeros, not an error."""
    engine, _ = small_db
    view = View(region, dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    with engine.connect() as conn:
        levels = breakdowns.resolution_levels(conn, view)
        ageing = breakdowns.ageing(conn, view, AS_OF)
        overdue = breakdowns.overdue_list(conn, view, AS_OF, 20)
        weekly = breakdowns.weekly(conn, view, AS_OF)
        by_cat = breakdowns.by_dimension(conn, view, AS_OF, "category")
    assert list(levels["level"]) == ["村", "镇", "县", "市"] and levels["closed"].sum() == 0
    assert levels["share"].isna().all()
    assert list(ageing["age"]) == [0, 1, 2, 3] and ageing[["open", "overdue"]].to_numpy().sum() == 0
    assert overdue.empty
    assert len(weekly) == 5 and weekly["received"].sum() == 0
    assert by_cat.empty and "closure_rate" in by_cat.columns
