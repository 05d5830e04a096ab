"""Tablets (touch, 1024×768 and 1366×1024, landscape and portrait): every main page fits the width, every tap
target is at least 44 px, the filter bar (sidebar) collapses and comes back by tap, and a tap drills (table row,
map region, breadcrumb) and opens a help tooltip. Screenshots of every page at every size."""
from __future__ import annotations

import re
import urllib.parse

import pytest

from data_access import queries
from geo.boundaries import view_shapes
from geo.layers import MAP_PX, fit_view, to_pixel

from .conftest import recorded_page, shoot, wait_ready

CITY, COUNTY, LIANDU = "331100000000", "331127000000", "331102000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
PAGES = {"overview": "", "map": "map", "cases": "cases", "warnings": "warnings", "data": "data"}
SIZES = {"1024x768": {"width": 1024, "height": 768}, "768x1024": {"width": 768, "height": 1024},
         "1366x1024": {"width": 1366, "height": 1024}, "1024x1366": {"width": 1024, "height": 1366}}
SIDEBAR = '[data-testid="stSidebar"]'

#: Elements wider than the window, except inside a container that scrolls (or clips) horizontally by itself.
OVERFLOW_JS = """() => {
  const W = innerWidth, out = [];
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) { const cs = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(cs.overflowX) && p.scrollWidth > p.clientWidth + 1) return true; }
    return false; };
  for (const e of document.querySelectorAll('[data-testid="stAppViewContainer"] *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
    if (r.right > W + 1 && !scrolls(e))
      out.push(`${e.tagName}[${e.getAttribute('data-testid') || e.className.toString().slice(0, 30)}] right=${Math.round(r.right)} "${(e.innerText || '').slice(0, 30)}"`);
  }
  const s = document.scrollingElement;
  return {out: out.slice(0, 10), page: [s.scrollWidth, s.clientWidth]};
}"""

#: Visible controls smaller than 44 px. A control's target is what a finger hits: an input's whole field
#: (select, text, date, number), a checkbox/toggle's label row; a select's arrow and a date field's calendar
#: icon are parts of the field. The visually hidden skip link is for keyboards.
TARGETS_JS = """() => {
  const sel = 'button, a[href], input, select, textarea, summary, [role="button"], [role="tab"], [role="switch"], '
            + '[role="checkbox"], [role="radio"], [role="option"], [role="combobox"]';
  const field = '.react-aria-ComboBox > div, .react-aria-TextField > div, [data-testid="stDateInputField"], '
              + '[data-baseweb="select"], [data-baseweb="input"], [data-baseweb="textarea"], label';
  const part = '.react-aria-ComboBox, [data-testid="stDateInputField"], [data-baseweb="select"]';
  const out = [];
  for (const e of document.querySelectorAll(sel)) {
    if (e.getAttribute('data-testid') === 'stSkipToContent') continue;
    const whole = e.matches('input, textarea, [role="combobox"]') || (e.matches('button') && e.closest(part));
    const hit = whole ? (e.closest(field) || e) : e;
    const r = hit.getBoundingClientRect(), cs = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (r.right <= 0 || r.left >= innerWidth) continue;  // off screen (a collapsed sidebar)
    let hidden = false;
    for (let p = e; p; p = p.parentElement) { const ps = getComputedStyle(p); if (+ps.opacity === 0 || ps.visibility === 'hidden') { hidden = true; break; } }
    if (hidden) continue;
    if (r.height < 43.5 || r.width < 43.5)
      out.push(`${e.tagName}[${e.getAttribute('data-testid') || e.getAttribute('aria-label') || e.getAttribute('role') || ''}] ${Math.round(r.width)}x${Math.round(r.height)} "${(e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 24)}"`);
  }
  return out;
}"""


@pytest.fixture
def tablet(browser, app_url, viewport):
    """A touch page (tap works), recording requests and console errors like conftest's ``page``."""
    with recorded_page(browser, app_url, viewport=viewport, has_touch=True, device_scale_factor=1) as pg:
        yield pg


def go(page, path: str, **params) -> None:
    page.goto(f"{page.app_url}/{path}?{urllib.parse.urlencode({**PERIOD, **params})}")
    wait_ready(page)
    page.wait_for_timeout(1200)  # charts and the map lay out


def wait_region(page, code: str) -> None:
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('region') === '{code}'", timeout=30000)
    wait_ready(page)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_usable_on_a_tablet(tablet, name):
    """Each tablet size in turn, in one touch session (one page load checks all four sizes, which keeps the
    browser tests under 10 minutes). Narrowest first: Streamlit's tables keep their width when the window
    shrinks (a tablet turned to portrait) until the next rerun, so a shrinking order would test that instead."""
    sizes = sorted(SIZES.items(), key=lambda item: (item[1]["width"], item[1]["height"]))
    tablet.set_viewport_size(sizes[0][1])
    go(tablet, PAGES[name], region=COUNTY)
    for size, viewport in sizes:
        tablet.set_viewport_size(viewport)
        wait_ready(tablet)
        tablet.wait_for_timeout(1200)  # charts and the map lay out again
        assert tablet.locator('[data-testid="stAlertContentError"]').count() == 0, \
            tablet.locator('[data-testid="stAlertContentError"]').first.inner_text()
        assert "景宁畲族自治县" in tablet.locator('[data-testid="stMain"]').inner_text()
        shoot(tablet, f"tablet_{name}_{size}")
        over = tablet.evaluate(OVERFLOW_JS)
        assert over["page"][0] <= over["page"][1], f"{size}: the page scrolls sideways: {over}"
        assert over["out"] == [], f"{name} at {size}: elements overflow the window: {over['out']}"
        small = tablet.evaluate(TARGETS_JS)
        assert small == [], f"{name} at {size}: tap targets under 44 px: {small}"


@pytest.mark.parametrize("viewport", [SIZES["768x1024"], SIZES["1366x1024"]], ids=["768x1024", "1366x1024"])
def test_the_filter_bar_collapses_and_comes_back_by_tap(tablet, viewport):
    go(tablet, "", region=CITY)
    sidebar = tablet.locator(SIDEBAR)
    collapse = tablet.locator('[data-testid="stSidebarCollapseButton"] button')
    collapse.wait_for(state="visible", timeout=15000)  # Streamlit shows it only on hover; the touch CSS always does
    box = collapse.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    collapse.tap()
    tablet.wait_for_function(f"() => document.querySelector('{SIDEBAR}').getAttribute('data-collapsed') === 'true'",
                             timeout=10000)
    tablet.wait_for_timeout(600)
    assert sidebar.bounding_box() is None or sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 1
    expand = tablet.locator('[data-testid="stExpandSidebarButton"]').first
    expand.wait_for(state="visible", timeout=15000)
    box = expand.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    expand.tap()
    tablet.wait_for_function(f"() => document.querySelector('{SIDEBAR}').getAttribute('data-collapsed') === 'false'",
                             timeout=10000)
    tablet.wait_for_timeout(600)
    # the region picker works by tap: 景宁畲族自治县
    sidebar.locator('[data-testid="stSelectbox"]').first.tap()
    tablet.get_by_role("option", name="景宁畲族自治县").tap()
    wait_region(tablet, COUNTY)
    assert "景宁畲族自治县" in tablet.locator("h1").first.inner_text()


def test_a_tap_on_a_table_row_drills_and_the_breadcrumb_goes_back(tablet):
    go(tablet, "", region=COUNTY)
    grid = tablet.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    tablet.wait_for_timeout(500)
    box = grid.bounding_box()
    first_row_y = box["y"] + 35 + 17  # below the 35 px header, the middle of the first row
    tablet.touchscreen.tap(box["x"] + 18, first_row_y)  # the row's selection cell
    tablet.wait_for_function(
        f"() => {{ const r = new URLSearchParams(location.search).get('region'); return r && r !== '{COUNTY}' "
        f"&& r.startsWith('{COUNTY[:6]}'); }}", timeout=30000)
    wait_ready(tablet)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(tablet.url).query)["region"][0]
    assert len(code) == 12 and code[:6] == COUNTY[:6] and code != COUNTY
    tablet.get_by_role("button", name=re.compile("景宁畲族自治县")).first.tap()
    wait_region(tablet, COUNTY)


def _map_pixel(page, engine, view_code: str, target: str, px: int) -> tuple[float, float]:
    with engine.connect() as conn:
        bounds = view_shapes(conn, view_code).bounds
        where = queries.region(conn, target)
    view = fit_view(bounds, px, px)
    box = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.bounding_box()
    x, y = to_pixel(where["label_lon"], where["label_lat"], view, box["width"], box["height"])
    return box["x"] + x, box["y"] + y


@pytest.mark.parametrize("viewport", [SIZES["1024x768"]], ids=["1024x768"])
def test_a_tap_on_the_map_drills(tablet, small_sqlite, viewport):
    go(tablet, "map", region=CITY)
    canvas = tablet.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(state="visible", timeout=30000)
    canvas.scroll_into_view_if_needed()
    tablet.wait_for_timeout(1500)
    x, y = _map_pixel(tablet, small_sqlite, CITY, LIANDU, MAP_PX)
    tablet.touchscreen.tap(x, y)
    wait_region(tablet, LIANDU)
    assert "莲都区" in tablet.locator("h1").first.inner_text()


def test_a_help_icon_opens_its_tooltip_on_tap(tablet):
    go(tablet, "data", region=COUNTY)
    helps = tablet.locator('[data-testid="stMain"] button[aria-label^="Help"]')
    if helps.count() == 0:
        pytest.skip("the data page has no help icon")
    helps.first.scroll_into_view_if_needed()
    helps.first.tap()
    tip = tablet.locator('[data-testid="stTooltipContent"]').first
    tip.wait_for(state="visible", timeout=5000)
    assert tip.inner_text().strip()
