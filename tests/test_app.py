"""Every page renders without an exception at city, county, township and village level (AppTest)."""
import os

import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from .conftest import ROOT

PAGES = ["overview", "map", "cases", "warnings", "index", "duban", "data", "import", "wall"]


@pytest.fixture(scope="module")
def regions(small_sqlite):
    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = str(small_sqlite.url)
    st.cache_data.clear()
    st.cache_resource.clear()
    with small_sqlite.connect() as conn:
        county = "331127000000"
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code='{county}'")).scalar()
        village = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code='{town}'")).scalar()
    yield {"city": "331100000000", "county": county, "township": town, "village": village}
    if before is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = before
    st.cache_data.clear()
    st.cache_resource.clear()


def run(page: str, region: str, timeout: float = 90, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.query_params.update({"region": region, "from": "2026-01-01", "to": "2026-10-31", **params})
    at.run()  # registers the st.navigation pages; switch_page needs that first
    if page != "overview":
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


@pytest.mark.parametrize("level", ["city", "county", "township", "village"])
@pytest.mark.parametrize("page", PAGES)
def test_page_renders(regions, page, level):
    at = run(page, regions[level])
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_overview_numbers_match_the_query_layer(regions, small_sqlite):
    import datetime as dt

    from data_access import queries
    from data_access.view import View
    at = run("overview", regions["county"])
    metrics = {m.label: m.value for m in at.metric}
    with small_sqlite.connect() as conn:
        table = queries.indicator_table(conn, View(regions["county"], dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
                                        dt.datetime.now())
    assert metrics["受理量"] == f"{int(table.iloc[0]['received']):,}"
    assert metrics["办结率"] == f"{table.iloc[0]['closure_rate'] * 100:.1f}%"
    assert any("景宁" in t.value for t in at.title)


def test_unknown_region_in_url_falls_back_with_a_message(regions):
    at = run("overview", "331199999000")
    assert not at.exception
    assert any("331199999000" in w.value and "不存在" in w.value for w in at.warning)
    assert any("丽水市" in t.value for t in at.title)


def test_database_down_is_one_chinese_message(monkeypatch):
    """An unreachable DATABASE_URL: one short sentence, no driver text, no URL, no traceback (issue 14)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://yiping:s3cret@127.0.0.1:1/test?connect_timeout=2")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["region"] = "331100000000"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    from ui.strings import t
    shown = [e.value for e in (*at.error, *at.warning) if e.value != t("auth_off_banner")]  # the tests run with auth off
    assert shown == ["数据库暂时无法连接，正在重试…"], shown
    st.cache_resource.clear()
