"""总览 in a real browser: numbers equal the query layer, filters and URL reproduce views, table drills."""
import datetime as dt
import re

import pytest

from data_access import queries
from data_access.view import View

from .conftest import metric, open_app, shoot, wait_ready

COUNTY = "331127000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}


def expected(engine, code, **kw):
    with engine.connect() as conn:
        return queries.indicator_table(conn, View(code, dt.date(2026, 1, 1), dt.date(2026, 10, 31), **kw),
                                       dt.datetime.now()).iloc[0]


@pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1024, "height": 768}],
                         ids=["1920x1080", "1024x768"])
@pytest.mark.parametrize("region", ["331100000000", COUNTY, "village"])
def test_overview_shows_the_query_numbers(page, small_sqlite, region, viewport):
    if region == "village":
        with small_sqlite.connect() as conn:
            town = queries.children(conn, COUNTY)["code"].iloc[0]
            region = queries.children(conn, town)["code"].iloc[0]
    open_app(page, "", region=region, **PERIOD)
    want = expected(small_sqlite, region)
    assert metric(page, "受理量") == f"{int(want['received']):,}"
    assert metric(page, "办结率") == f"{want['closure_rate'] * 100:.1f}%"
    assert want["name"] in page.locator("h1").first.inner_text()
    shoot(page, f"overview_{region}_{viewport['width']}x{viewport['height']}")


def test_filter_bar_changes_the_numbers_and_the_url(page, small_sqlite):
    open_app(page, "", region=COUNTY, **PERIOD)
    before = metric(page, "受理量")
    sidebar = page.locator('[data-testid="stSidebar"]')
    categories = sidebar.locator('[data-testid="stMultiSelect"]').first
    categories.evaluate("e => e.scrollIntoView({block: 'center'})")  # below the longer navigation: its menu must fit
    categories.click()
    page.get_by_role("option", name="安全隐患").click()
    page.keyboard.press("Escape")
    wait_ready(page)
    page.wait_for_function("() => decodeURIComponent(location.search).includes('安全隐患')", timeout=20000)
    want = expected(small_sqlite, COUNTY, categories=("安全隐患",))
    assert metric(page, "受理量") == f"{int(want['received']):,}" != before
    # the URL alone reproduces the view in a fresh page
    url = page.url
    other = page.context.new_page()
    other.app_url = page.app_url
    other.goto(url)
    wait_ready(other)
    assert metric(other, "受理量") == f"{int(want['received']):,}"
    other.close()


def test_region_picker_and_breadcrumb(page):
    open_app(page, "", region="331100000000", **PERIOD)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="景宁畲族自治县").click()
    wait_ready(page)
    page.wait_for_function(f"() => location.search.includes('{COUNTY}')", timeout=20000)
    assert "景宁畲族自治县" in page.locator("h1").first.inner_text()
    page.get_by_role("button", name=re.compile("丽水市")).first.click()
    wait_ready(page)
    page.wait_for_function("() => location.search.includes('331100000000')", timeout=20000)
    assert "丽水市" in page.locator("h1").first.inner_text()


def test_script_health_check_runs_the_app(app_url):
    """The readiness probe a deployment points at (README): it runs app.py once, warming imports and caches."""
    import urllib.request
    with urllib.request.urlopen(f"{app_url}/_stcore/script-health-check", timeout=120) as r:
        assert (r.status, r.read().decode()) == (200, "ok")
