"""The shipped rules on a city the generator makes (not the default one): at every level and in every preset
period the colours carry information (issue 13, point 4), on SQLite and on PostgreSQL.

Every level: the city's counties, each county's townships, each township's villages. Every preset period:
the last full month, this month (day 17 of 30), the year to date. For each view:
    * at most a quarter of the children red (a township the generator made to struggle may be red all
      over: its villages are all slow; that is the truth, and it must be found, see the last test);
    * at most a fifth grey, where the children are townships or counties;
    * more than one colour among the city's counties, in most counties' townships and townships' villages
      (a county whose townships all did well in a year is green all over, and rightly so).
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from analytics.warnings import evaluate, load_rules
from data_access import queries
from data_access.engine import get_engine
from data_access.view import View
from sample_data.build import build

from .conftest import PG_URL, ROOT, _pg_schema_url

#: Another seed, another end date (mid-month), one year: the smallest city with every level at real density.
OTHER = dict(city="丽水市", years=1, cases=60_000, seed=11, end=dt.date(2026, 6, 17))
AS_OF = dt.datetime(2026, 6, 17, 18, 0)
PERIODS = {
    "last full month": (dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
    "this month": (dt.date(2026, 6, 1), dt.date(2026, 6, 17)),
    "year to date": (dt.date(2026, 1, 1), dt.date(2026, 6, 17)),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def other_city(request, tmp_path_factory):
    """(views, struggling townships): every view's evaluated children, built once per database kind."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('other') / 'other.db'}", None
    else:
        request.getfixturevalue("pg_url")       # skips with the reason when no server answers
        schema, url = _pg_schema_url()
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        drop = schema
    engine = get_engine(url)
    build(engine, **OTHER)
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    views = {}
    with engine.connect() as conn:
        city = queries.root_code(conn)
        counties = list(queries.children(conn, city)["code"])
        towns = [t for c in counties for t in queries.children(conn, c)["code"]]
        struggling = set(conn.execute(text("SELECT value FROM meta WHERE key = 'struggling_townships'"))
                         .scalar().split(","))
        for level, parents in (("county", [city]), ("township", counties), ("village", towns)):
            for code in parents:
                for period, (a, b) in PERIODS.items():
                    ev = evaluate(queries.indicator_table(conn, View(code, a, b), AS_OF), rules)
                    views[(level, code, period)] = ev[~ev["is_total"]]
    yield views, struggling
    engine.dispose()
    get_engine.cache_clear()
    if drop:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {drop} CASCADE"))
        admin.dispose()


def shares(kids):
    o = kids["overall"]
    return (o == 2).mean(), (o == -1).mean(), o[o >= 0].nunique()


@pytest.mark.parametrize("level", ["county", "township", "village"])
@pytest.mark.parametrize("period", list(PERIODS))
def test_colours_carry_information(other_city, level, period):
    views, struggling = other_city
    mine = {code: kids for (lvl, code, per), kids in views.items() if lvl == level and per == period}
    assert mine
    several = 0
    for code, kids in mine.items():
        red, grey, colours = shares(kids)
        if not (level == "village" and code in struggling):
            assert red <= 0.25, (code, period, kids["overall_name"].value_counts().to_dict())
        if level != "village":
            assert grey <= 0.2, (code, period, kids["overall_name"].value_counts().to_dict())
        several += colours > 1
    if level == "county":
        assert several == 1                      # the city's counties: more than one colour
    else:
        assert several >= 0.5 * len(mine), (several, len(mine))
    pooled = {int(v) for kids in mine.values() for v in kids["overall"] if v >= 0}
    assert len(pooled) >= 2


def test_red_still_finds_the_struggling_townships(other_city):
    """The generator's struggling townships: red over the year, never green in a month."""
    views, struggling = other_city
    levels = {}
    for (lvl, _code, period), kids in views.items():
        if lvl == "township":
            for code, overall in zip(kids["code"], kids["overall"]):
                levels[(code, period)] = int(overall)
    assert len(struggling) == 5
    for code in struggling:
        assert levels[(code, "year to date")] == 2, code
        assert levels[(code, "last full month")] >= 1 and levels[(code, "this month")] >= 1, code
