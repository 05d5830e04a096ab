"""地图钻取 in a real browser, offline: click a county ON THE MAP CANVAS to drill, the breadcrumb to go back,
a ranking bar to drill; labels render with local fonts and nothing is fetched from another host (``page``)."""
import re

import pytest

from data_access import queries
from geo.boundaries import view_shapes
from geo.layers import COMPACT_MAP_PX, MAP_PX, fit_view, to_pixel

from .conftest import open_app, shoot, tap_bar, wait_ready

CITY, LIANDU = "331100000000", "331102000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
DECK = '[data-testid="stDeckGlJsonChart"]'
VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080}, "1024x768": {"width": 1024, "height": 768}}


def open_map(page, region: str, **params) -> None:
    """Open 总览 with the view in the URL, then go to 地图钻取 through the sidebar (client-side navigation)."""
    open_app(page, "", region=region, **{**PERIOD, **params})
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="地图钻取").first.click()
    page.wait_for_function("() => location.pathname.endsWith('/map')", timeout=20000)
    wait_ready(page)
    canvas_ready(page)


def canvas_ready(page):
    page.locator(f"{DECK} canvas").first.wait_for(state="visible", timeout=30000)
    page.wait_for_timeout(1500)  # deck.gl draws on the next animation frames


def map_pixel(page, engine, view_code: str, target: str, px: int = MAP_PX) -> tuple[float, float]:
    """Page pixel of ``target``'s label point on the map of ``view_code`` (Web Mercator, from the view state)."""
    with engine.connect() as conn:
        bounds = view_shapes(conn, view_code).bounds
        where = queries.region(conn, target)
    view = fit_view(bounds, px, px)
    canvas = page.locator(f"{DECK} canvas").first
    canvas.scroll_into_view_if_needed()  # 总览's map sits below the KPI rows: a click must land on screen
    page.wait_for_timeout(300)
    box = canvas.bounding_box()
    x, y = to_pixel(where["label_lon"], where["label_lat"], view, box["width"], box["height"])
    assert 0 < x < box["width"] and 0 < y < box["height"], (x, y, box)
    return box["x"] + x, box["y"] + y


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def wait_region(page, code: str) -> None:
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('region') === '{code}'", timeout=30000)
    wait_ready(page)


@pytest.mark.parametrize("viewport", list(VIEWPORTS.values()), ids=list(VIEWPORTS))
def test_click_on_the_canvas_drills_and_the_breadcrumb_goes_back(page, small_sqlite, viewport):
    open_map(page, CITY)
    assert "地图钻取 · 丽水市" in main_text(page)
    shoot(page, f"map_city_{viewport['width']}x{viewport['height']}")
    x, y = map_pixel(page, small_sqlite, CITY, LIANDU)
    page.mouse.move(x, y)  # the tooltip, in Chinese
    tooltip = page.locator(".deck-tooltip").first
    tooltip.wait_for(state="visible", timeout=10000)
    tip = tooltip.inner_text()
    assert "莲都区" in tip and "办结率" in tip and "<" not in tip, tip
    page.mouse.click(x, y)
    wait_region(page, LIANDU)
    canvas_ready(page)
    with small_sqlite.connect() as conn:
        towns = queries.children(conn, LIANDU)["name"].tolist()
    text = main_text(page)
    assert "地图钻取 · 莲都区" in text
    assert sum(name in text for name in towns) >= min(3, len(towns)), towns
    shoot(page, f"map_county_{viewport['width']}x{viewport['height']}")
    page.get_by_role("button", name=re.compile("丽水市")).first.click()
    wait_region(page, CITY)
    assert "地图钻取 · 丽水市" in main_text(page)


def test_the_overview_map_drills_too(page, small_sqlite):
    open_app(page, "", region=CITY, **PERIOD)
    canvas_ready(page)
    assert "地图与排名" in main_text(page)
    x, y = map_pixel(page, small_sqlite, CITY, LIANDU, px=COMPACT_MAP_PX)
    page.mouse.click(x, y)
    wait_region(page, LIANDU)
    assert "莲都区" in page.locator("h1").first.inner_text()
    assert "/map" not in page.url  # stays on 总览


def test_a_bar_click_drills(page, small_sqlite):
    open_map(page, CITY, ind="overdue")
    assert "下级区域排名 · 逾期未办结" in main_text(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    tap_bar(page, chart, re.compile("^莲都区$"))  # the bar in the row of 莲都区's axis label
    wait_region(page, LIANDU)
    assert "地图钻取 · 莲都区" in main_text(page)
    assert "下级区域排名 · 逾期未办结" in main_text(page)  # the indicator stays (URL ?ind= and session)
    assert "ind=overdue" in page.url


def test_village_shows_case_points(page, small_sqlite):
    with small_sqlite.connect() as conn:
        town = queries.children(conn, LIANDU)["code"].iloc[0]
        village = queries.children(conn, town)["code"].iloc[0]
        name = queries.region(conn, village)["name"]
    open_map(page, village, **{"from": "2025-11-01", "to": "2026-10-31"})
    text = main_text(page)
    assert name in text and "事件点位" in text
    shoot(page, "map_village_1920x1080")


def test_bad_indicator_in_the_url_is_explained(page):
    open_app(page, "", region=CITY, ind="nonsense", **PERIOD)  # 总览 shows the compact map with the same picker
    assert "ind=nonsense" in main_text(page)
    page.wait_for_function("() => new URLSearchParams(location.search).get('ind') === 'warning'", timeout=20000)
    page.locator(f"{DECK} canvas").first.wait_for(state="visible", timeout=30000)
