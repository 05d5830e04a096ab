"""事件办结 (AppTest on the small city): every chart drawn, the charts memoised per view (the same figure on a
rerun, a new one for another view); and the process-wide memo of drawn parts (ui.data.drawn) never hands one user's drawing to another scope."""
import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from .test_app import run


@pytest.fixture
def site(small_sqlite, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(small_sqlite.url))
    monkeypatch.setenv("YIPING_AUTH", "off")
    monkeypatch.delenv("WARNING_RULES", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    with small_sqlite.connect() as conn:
        city = conn.execute(text("SELECT code FROM regions WHERE level = 'city'")).scalar()
        county = conn.execute(text("SELECT code FROM regions WHERE level = 'county' ORDER BY code LIMIT 1")).scalar()
    yield small_sqlite, city, county
    st.cache_data.clear()
    st.cache_resource.clear()


def cases_page(region: str) -> AppTest:
    at = run("cases", region, timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[str]:
    return [el.proto.spec for el in at.get("plotly_chart")]


def test_every_chart_is_drawn_and_a_rerun_sends_the_same_ones(site):
    from ui import data
    _engine, city, county = site
    at = cases_page(city)
    first = charts(at)
    assert len(first) >= 6  # trend, category, source, ageing, closing times, resolution level, ranking
    made = data.DRAWN.misses
    at.run()
    assert not at.exception
    assert charts(at) == first and data.DRAWN.misses == made  # nothing built again
    other = cases_page(county)  # another view: its own charts
    assert charts(other) != first and data.DRAWN.misses > made


def test_drawn_parts_are_never_handed_across_scopes(across_scopes):
    """A township user asking for the county view a city user has just drawn must get ScopeError, not the city
    user's memoised charts (their region names and numbers)."""
    from ui import data

    s = across_scopes

    def make():
        return data.by_dimension(s.view, "category", s.at, s.version)

    s.as_user("city")
    drawn = data.drawn("test_dim", s.view, s.at, s.version, make)
    assert len(drawn) and data.drawn("test_dim", s.view, s.at, s.version, make) is drawn
    s.as_user("town")
    with pytest.raises(data.ScopeError):
        data.drawn("test_dim", s.view, s.at, s.version, make)


def test_warnings_rerun_builds_nothing_again(site):
    """三色预警: a rerun of the same month view sends the same coloured tables and history without building them."""
    from ui import data
    _engine, city, _county = site
    at = run("warnings", city, timeout=180, month="2026-10")
    assert not at.exception, [e.value for e in at.exception]
    tables = [df.proto.arrow_data.styler.styles for df in at.dataframe]
    assert sum(1 for s in tables if "background-color" in s) >= 3  # 平安报表, changes, 问题清单 (, 责任清单) coloured
    made = data.DRAWN.misses
    at.run()
    assert not at.exception and data.DRAWN.misses == made
    again = [df.proto.arrow_data.styler.styles for df in at.dataframe]
    # the memoised tables come back as they were (same Styler, same uuid); the 督办 panel's is made per run
    assert len(again) == len(tables) and sum(a == b and "background-color" in a for a, b in zip(again, tables)) >= 3
