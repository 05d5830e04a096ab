"""Sample-city generator invariants: real counties, nested geometry, consistent codes, determinism."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from data_access.codes import level_of, prefix
from sample_data.cases import CATEGORIES, generate_cases
from sample_data.counties import UnknownCity, load_city
from sample_data.geography import build_hierarchy

from .conftest import SMALL


def _geoms(conn, sql):
    rows = conn.execute(text(sql)).all()
    return {r[0]: (r[1], shapely.from_wkb(r[2])) for r in rows}


@pytest.fixture(scope="module")
def tree(small_sqlite):
    with small_sqlite.connect() as conn:
        regions = _geoms(conn, "SELECT code, parent_code, geometry FROM regions")
        grids = _geoms(conn, "SELECT code, village_code, geometry FROM grids")
        levels = dict(conn.execute(text("SELECT code, level FROM regions")).all())
    return regions, grids, levels


def _inside(child, parent):
    # WKB round-trips exactly; allow only floating-point noise of the clip (1e-9 degrees ≈ 0.1 mm).
    return parent.buffer(1e-9).contains(child) and not child.is_empty and child.is_valid


def test_every_child_lies_inside_its_parent(tree):
    regions, grids, levels = tree
    for code, (parent, geom) in regions.items():
        if levels[code] == "city":
            continue
        assert parent in regions, code
        assert _inside(geom, regions[parent][1]), f"{code} not inside {parent}"
    for code, (village, geom) in grids.items():
        assert _inside(geom, regions[village][1]), f"grid {code} not inside {village}"


def test_townships_lie_in_the_real_county_and_tile_it(tree):
    regions, _, levels = tree
    city = load_city(SMALL["city"])
    real = {c.code: c.geometry for c in city.counties}
    assert {c for c, lv in levels.items() if lv == "county"} == set(real)
    for county, geom in real.items():
        towns = [g for c, (p, g) in regions.items() if p == county]
        union = shapely.union_all(towns)
        assert union.symmetric_difference(geom).area < 1e-6 * geom.area, county


def test_codes_follow_the_12_digit_scheme(tree):
    regions, grids, levels = tree
    for code, (parent, _) in regions.items():
        assert len(code) == 12 and code.isdigit()
        assert level_of(code) == levels[code], code
        if levels[code] != "city":
            assert code.startswith(prefix(parent)), (code, parent)
            assert code != parent
    for code, (village, _) in grids.items():
        assert len(code) == 15 and code[:12] == village


def test_counts_match_the_arguments(small_sqlite):
    with small_sqlite.connect() as conn:
        n = conn.execute(text("SELECT COUNT(*) FROM cases")).scalar()
        first, last = conn.execute(text("SELECT MIN(reported_at), MAX(reported_at) FROM cases")).one()
        orphans = conn.execute(text(
            "SELECT COUNT(*) FROM cases WHERE grid_code NOT IN (SELECT code FROM grids)")).scalar()
    assert n == SMALL["cases"]
    assert orphans == 0
    assert pd.Timestamp(last).date() <= SMALL["end"]
    assert pd.Timestamp(first).date() >= dt.date(SMALL["end"].year - SMALL["years"], SMALL["end"].month, 1)


def test_scale_is_like_lishui():
    units = build_hierarchy(load_city("丽水市"), np.random.default_rng(7))
    assert len(units["county"]) == 9
    assert 140 <= len(units["township"]) <= 200
    assert 2300 <= len(units["village"]) <= 3200
    assert 3000 <= len(units["grid"]) <= 4200


def test_same_seed_same_data_other_seed_other_data():
    city = load_city("丽水市")
    a = build_hierarchy(city, np.random.default_rng(11))
    b = build_hierarchy(city, np.random.default_rng(11))
    c = build_hierarchy(city, np.random.default_rng(12))
    assert [(u.code, u.name, u.geometry.wkb) for u in a["grid"]] == [(u.code, u.name, u.geometry.wkb) for u in b["grid"]]
    assert [u.name for u in a["township"]] != [u.name for u in c["township"]]


def _mini_cases(seed, until=None, end=dt.date(2025, 12, 31)):
    grids = pd.DataFrame({
        "code": ["331102001001001", "331102001201001"], "village_code": ["331102001001", "331102001201"],
        "township_code": ["331102001000"] * 2, "county_code": ["331102000000"] * 2, "population": [3000, 800],
        "urban": [True, False], "points": [np.array([[119.9, 28.4]]), np.array([[119.8, 28.5]])],
        "township_name": ["某街道"] * 2, "village_name": ["甲社区", "乙村"],
    })
    return generate_cases(np.random.default_rng(seed), grids, 5000, dt.date(2025, 1, 1), end,
                          {"331102001000"}, set(), until=until)


def test_nothing_happens_after_the_moment_the_generator_runs():
    """Built at 20:21 on the last day: no case reported, dispatched or closed later (issue 13)."""
    now = dt.datetime(2025, 12, 31, 20, 21)
    a = _mini_cases(5, until=now)
    assert len(a) == 5000
    for col in ("reported_at", "dispatched_at", "closed_at"):
        assert (a[col].dropna() <= now).all(), col
    last_day = a[a["reported_at"] >= "2025-12-31"]
    assert len(last_day) > 0 and last_day["reported_at"].max() > dt.datetime(2025, 12, 31, 12)
    # a past end date is untouched by ``until`` elsewhere
    pd.testing.assert_frame_equal(_mini_cases(5, until=dt.datetime(2026, 3, 1, 9)), _mini_cases(5))


def test_cases_are_deterministic_and_believable():
    a, b = _mini_cases(5), _mini_cases(5)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 5000 and a["id"].is_unique
    assert set(a["category"]) <= set(CATEGORIES)
    closed = a["closed_at"].notna()
    assert (a.loc[closed, "closed_at"] >= a.loc[closed, "reported_at"]).all()
    assert (a["deadline"] > a["reported_at"]).all()
    # weekends are quieter than weekdays; the Spring Festival week is quieter still
    per_day = a.groupby(a["reported_at"].dt.date).size()
    per_day.index = pd.to_datetime(per_day.index)
    weekday = per_day[per_day.index.day_of_week < 5].mean()
    weekend = per_day[per_day.index.day_of_week >= 5].mean()
    festival = per_day["2025-01-29":"2025-02-04"].mean()
    assert weekend < weekday and festival < 0.6 * weekday


def test_overall_closure_is_near_the_seeds(small_sqlite):
    with small_sqlite.connect() as conn:
        received, closed = conn.execute(text(
            "SELECT COUNT(*), SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END) FROM cases "
            "WHERE reported_at < '2026-10-01'")).one()
    assert 0.95 <= closed / received <= 0.995


def test_unknown_city_names_near_matches():
    with pytest.raises(UnknownCity) as err:
        load_city("丽水县")
    assert "丽水市" in str(err.value) and "未找到城市" in str(err.value)


@pytest.mark.parametrize("name, n_counties", [("温州市", 12), ("湖州市", 5), ("嘉兴市", 7)])
def test_other_cities_load(name, n_counties):
    city = load_city(name)
    assert len(city.counties) == n_counties
    assert all(c.code.startswith(city.code[:4]) for c in city.counties)


def test_a_villages_closure_times_are_steady_not_clumped():
    """sample_data.cases.steady_normal: across all cases the values are standard normal; within a village, any 20
    consecutive cases hold about as many in the slow 10 % tail as the tail's share says (1–3), where independent
    draws put 5 or more in one window of 20 about one time in 25 and none in one in eight."""
    from sample_data.cases import steady_normal
    rng = np.random.default_rng(5)
    village = np.repeat(np.array([f"V{i:03d}" for i in range(50)]), 200)
    reported = rng.permutation(len(village)).astype(float)          # time order unrelated to the row order
    z = steady_normal(rng, village, reported)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    slow = z > 1.2816                                               # the slowest 10 %
    for code in np.unique(village):
        mine = np.flatnonzero(village == code)
        tail = slow[mine[np.argsort(reported[mine])]].astype(int)   # the village's cases in time order
        windows = np.convolve(tail, np.ones(20, dtype=int), mode="valid")
        assert windows.min() >= 1 and windows.max() <= 3, code
    assert steady_normal(rng, village[:0], reported[:0]).shape == (0,)


@pytest.mark.parametrize("attribute", ["stuck", "satisfaction", "rated"])
def test_stuck_unsatisfied_and_rated_cases_are_steady_too(attribute):
    """The same evenness for the other attributes a village's pace drives (sample_data.cases.STEPS): among any
    20 consecutive cases of a village, 1–3 fall in a 10 % band, and the values are uniform across the city."""
    from sample_data.cases import STEPS, steady_uniform
    rng = np.random.default_rng(8)
    village = np.repeat(np.array([f"V{i:03d}" for i in range(50)]), 200)
    reported = rng.permutation(len(village)).astype(float)
    u = steady_uniform(rng, village, reported, STEPS[attribute])
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 900          # 1,000 expected per tenth
    for code in np.unique(village):
        mine = np.flatnonzero(village == code)
        band = (u[mine[np.argsort(reported[mine])]] < 0.1).astype(int)
        windows = np.convolve(band, np.ones(20, dtype=int), mode="valid")
        assert windows.min() >= 1 and windows.max() <= 3, code
