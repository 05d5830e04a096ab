"""事件办结 and 三色预警 in a real browser at city, county and village level, wall and tablet size: no
exception or console error, no request to another host (the ``page`` fixture), the key numbers equal the
query layer, and screenshots in artifacts/screenshots/."""
import datetime as dt
import re

import pytest

from analytics.warnings import level_counts, load_rules
from data_access import queries
from data_access.breakdowns import month_span, month_view
from data_access.judged import warning_table
from data_access.view import View

from ..conftest import ROOT
from .conftest import metric, open_app, shoot, tap_bar, wait_ready

CITY, COUNTY = "331100000000", "331127000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080}, "1024x768": {"width": 1024, "height": 768}}
NAV = {"cases": "事件办结", "warnings": "三色预警"}


@pytest.fixture(scope="module")
def codes(small_sqlite):
    with small_sqlite.connect() as conn:
        town = queries.children(conn, COUNTY)["code"].iloc[0]
        village = queries.children(conn, town)["code"].iloc[0]
    return {"city": CITY, "county": COUNTY, "village": village}


def go_to(page, name: str, region: str) -> None:
    """Open the app on the view, then switch page in the sidebar (as a person does; the view stays)."""
    open_app(page, "", region=region, **PERIOD)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=NAV[name]).first.click()
    page.wait_for_url(re.compile(f"/{name}"), timeout=20000)
    wait_ready(page)
    page.wait_for_function(f"() => location.search.includes('{region}')", timeout=20000)
    page.wait_for_timeout(800)  # plotly draws after the script has finished
    wait_ready(page)


def default_month(engine) -> int:
    today = dt.date.today()
    last_full = today.replace(day=1) - dt.timedelta(days=1)
    with engine.connect() as conn:
        newest = month_span(conn)[1]
    return min(last_full.year * 100 + last_full.month, newest)


@pytest.mark.parametrize("level", ["city", "county", "village"])
def test_cases_page(page, small_sqlite, codes, level):
    """At 1920×1080, then the same session at 1024×768 (one page load checks both sizes)."""
    region = codes[level]
    go_to(page, "cases", region)
    with small_sqlite.connect() as conn:
        want = queries.indicator_table(conn, View(region, dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
                                       dt.datetime.now()).iloc[0]
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        wait_ready(page)
        page.wait_for_timeout(500)  # plotly re-lays out after a resize
        _check_cases_page(page, want)
        shoot(page, f"cases_page_{level}_{size}")


def _check_cases_page(page, want) -> None:
    main = page.locator('[data-testid="stMain"]')
    assert want["name"] in page.locator("h1").first.inner_text()
    assert metric(page, "受理量") == f"{int(want['received']):,}"
    assert metric(page, "办结率") == f"{want['closure_rate'] * 100:.1f}%"
    body = main.inner_text()
    for heading in ("受理与办结趋势", "按类别、来源", "未办结与逾期", "办结时长与化解层级", "下级区域排名"):
        assert heading in body
    if want["overdue"]:
        assert f"共 {int(want['overdue']):,} 件）" in body          # the overdue list's total = the KPI
    # every chart is drawn, with a Chinese title: trend, category, source, (ageing when cases are open), closing
    # times, resolution level (+ the ranking when the children have enough cases)
    charts = main.locator(".js-plotly-plot")
    assert charts.count() >= 5 + bool(want["open"])
    titles = main.locator(".js-plotly-plot .gtitle").evaluate_all("els => els.map(e => e.textContent)")
    assert any("受理量" in x for x in titles) and any("办结时长" in x for x in titles), titles
    assert not want["open"] or any("账龄" in x for x in titles), titles
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


@pytest.mark.parametrize("level", ["city", "county", "village"])
def test_warnings_page(page, small_sqlite, codes, level):
    """At 1920×1080, then the same session at 1024×768."""
    region = codes[level]
    go_to(page, "warnings", region)
    month = default_month(small_sqlite)
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    with small_sqlite.connect() as conn:
        table = warning_table(conn, month_view(region, month, dt.date.today()), dt.datetime.now(), rules)
    want = level_counts(table[~table["is_total"]], rules)
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        wait_ready(page)
        _check_warnings_page(page, table, want, month)
        shoot(page, f"warnings_page_{level}_{size}")


def _check_warnings_page(page, table, want, month) -> None:
    assert table.iloc[0]["name"] in page.locator("h1").first.inner_text()
    for name, count in want.items():
        assert metric(page, name) == f"{count:,}", name
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert f"{month // 100}年{month % 100}月" in body
    for heading in ("平安报表", "问题清单", "责任清单", "预警历史"):
        assert heading in body
    assert page.locator('[data-testid="stMain"] .js-plotly-plot').count() == 1   # the 12-month colour grid
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def _wait_region_change(page, old: str) -> str:
    page.wait_for_function(f"() => (new URLSearchParams(location.search).get('region') || '') !== '{old}'",
                           timeout=30000)
    wait_ready(page)
    return re.search(r"region=(\d+)", page.url).group(1)


def test_a_report_row_tap_on_warnings_drills(page, small_sqlite):
    """三色预警's 平安报表 (a memoised, frozen Styler; drilled in its on_select callback): a row tap opens it."""
    go_to(page, "warnings", CITY)
    grid = page.locator(f".st-key-wn_report_{CITY} [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection cell
    code = _wait_region_change(page, CITY)
    assert code != CITY and code.startswith(CITY[:4])
    assert "/warnings" in page.url and page.locator('[data-testid="stException"]').count() == 0


def test_a_bar_of_the_cases_ranking_drills(page, small_sqlite):
    """A tap on a bar of 事件办结's ranking (children by 办结率) opens that child's view, on the same page."""
    go_to(page, "cases", CITY)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator(".gtitle", has_text="括号内为较上期变化")).first
    chart.scroll_into_view_if_needed()
    chart.locator(".barlayer .point").first.wait_for(timeout=20000)
    page.wait_for_timeout(500)
    second = re.compile(r"^2\. ")  # the second-ranked child's axis label ("2. 名称")
    name = chart.locator(".yaxislayer-above .ytick text").filter(has_text=second).first.text_content()
    name = name.split(". ", 1)[1].strip()
    with small_sqlite.connect() as conn:
        kids = queries.children(conn, CITY)
    code = kids.loc[kids["name"] == name, "code"].iloc[0]
    tap_bar(page, chart, second)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('region') === '{code}'", timeout=30000)
    wait_ready(page)
    assert "/cases" in page.url
    assert name in page.locator("h1").first.inner_text()
