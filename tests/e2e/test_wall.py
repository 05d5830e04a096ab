"""大屏 in a real browser: one 16:9 screen without scrolling at 1920×1080 and 3840×2160 (the same picture, the
map filling its panel), refreshes and rotates by itself without reloading the page, and the kiosk link works as
the very first request after a server start. Offline: the ``page`` fixture fails on any request to another host."""
from __future__ import annotations

import io
import urllib.parse

import pytest

from .conftest import READY, need_chromium, open_app, recorded_page, serve, shoot, wait_ready

CITY, LIANDU, QINGTIAN = "331100000000", "331102000000", "331121000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
HEADER = '[data-testid="wall-header"]'
CANVAS = ".st-key-wall_map canvas"
SCREENS = {"1920x1080": {"width": 1920, "height": 1080}, "3840x2160": {"width": 3840, "height": 2160}}

LAYOUT_JS = """() => {
  const s = document.scrollingElement, m = document.querySelector('[data-testid="stMain"]');
  const W = innerWidth, H = innerHeight;
  const boxes = [...document.querySelectorAll('.wall-box, .st-key-wall_map')].map(e => {
    const r = e.getBoundingClientRect();
    return {cls: e.className.toString().slice(0, 60), l: r.left, t: r.top, r: r.right, b: r.bottom};
  });
  const visible = sel => { const e = document.querySelector(sel); return !!e && e.getBoundingClientRect().width > 0
                           && getComputedStyle(e).display !== 'none'; };
  const kpi = document.querySelector('.wall-kpi .tile .value');
  const canvas = document.querySelector('.st-key-wall_map canvas').getBoundingClientRect();
  return {W, H, doc: [s.scrollHeight, s.clientHeight, s.scrollWidth, s.clientWidth],
          main: [m.scrollHeight, m.clientHeight, m.scrollWidth, m.clientWidth], boxes,
          chrome: ['[data-testid="stSidebar"]', '[data-testid="stHeader"]', '[data-testid="stToolbar"]',
                   '[data-testid="stExpandSidebarButton"]'].filter(visible),
          kpiFont: parseFloat(getComputedStyle(kpi).fontSize), canvas: [canvas.width, canvas.height]};
}"""


def open_wall(page, **params) -> None:
    open_app(page, "wall", **{"region": CITY, **PERIOD, **params})
    page.wait_for_selector(HEADER, timeout=30000)
    page.locator(CANVAS).first.wait_for(state="visible", timeout=30000)
    page.wait_for_timeout(1500)  # the browser reports its size, the map refits, deck.gl draws


def header(page) -> dict:
    return page.locator(HEADER).first.evaluate(
        "e => ({tick: +e.dataset.tick, region: e.dataset.region, stale: e.dataset.stale, text: e.innerText})")


def map_coverage(page) -> float:
    """Share of the map canvas that shows a region (pixels brighter than the dark panel)."""
    from PIL import Image
    box = page.locator(CANVAS).first.bounding_box()
    png = page.screenshot(clip=box)
    hist = Image.open(io.BytesIO(png)).convert("L").resize((200, 130)).histogram()
    return sum(hist[61:]) / sum(hist)


@pytest.mark.parametrize("viewport", list(SCREENS.values()), ids=list(SCREENS))
def test_wall_fits_one_screen_at_1080p_and_4k(page, viewport):
    open_wall(page)
    m = page.evaluate(LAYOUT_JS)
    W, H = m["W"], m["H"]
    assert m["doc"][0] <= m["doc"][1] and m["main"][0] <= m["main"][1], f"vertical scroll: {m['doc']} {m['main']}"
    assert m["doc"][2] <= m["doc"][3] and m["main"][2] <= m["main"][3], f"horizontal scroll: {m['doc']} {m['main']}"
    assert len(m["boxes"]) >= 8
    for b in m["boxes"]:
        assert b["l"] >= 0 and b["t"] >= 0 and b["r"] <= W + 1 and b["b"] <= H + 1, b
    assert m["chrome"] == [], f"Streamlit chrome visible on the wall: {m['chrome']}"
    # everything scales with the screen: type in vh, the map canvas in vw/vh
    assert m["kpiFont"] / H == pytest.approx(0.043, abs=0.002)
    assert m["canvas"][1] / H == pytest.approx(0.558, abs=0.01) and m["canvas"][0] / W == pytest.approx(0.48, abs=0.01)
    text = page.locator('[data-testid="stMain"]').inner_text()
    for words in ("丽水市 · 社会治理一屏统管", "数据更新于", "受理量", "办结率", "红色预警", "事件类别构成", "近12个月受理与办结",
                  "预警排行", "最新事件", "景宁畲族自治县", "应办结口径"):
        assert words in text, words
    # the region fills its panel (not a small island on a 4K wall): about the same share of the canvas
    assert 0.25 < map_coverage(page) < 0.8
    shoot(page, f"wall_city_{W}x{H}")


def test_wall_4k_shows_the_same_map_as_1080p(browser, app_url):
    shares = {}
    for name, size in SCREENS.items():
        context = browser.new_context(viewport=size, locale="zh-CN")
        pg = context.new_page()
        pg.app_url = app_url
        open_wall(pg, region=LIANDU)
        shares[name] = map_coverage(pg)
        if name == "3840x2160":
            shoot(pg, f"wall_county_{name}")
        context.close()
    assert shares["3840x2160"] == pytest.approx(shares["1920x1080"], rel=0.1), shares


def test_wall_refreshes_itself_without_reloading(page):
    open_wall(page, refresh="3")
    page.evaluate("() => { window.__wallMarker = 'kept'; }")
    first = header(page)
    stamp = page.locator('[data-testid="wall-stamp"]').inner_text()
    page.wait_for_function(f"() => +document.querySelector('{HEADER}').dataset.tick >= {first['tick'] + 2}",
                           timeout=30000)
    assert page.evaluate("() => window.__wallMarker") == "kept", "the page was reloaded"
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert page.locator('[data-testid="wall-stamp"]').inner_text() != stamp
    assert header(page)["stale"] == "false"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_wall_rotates_through_the_configured_regions(page):
    open_wall(page, rotate="3", refresh="3", regions=f"{LIANDU},{QINGTIAN}")
    page.evaluate("() => { window.__wallMarker = 'kept'; }")
    names = {LIANDU: ("莲都区", "轮播 1/2"), QINGTIAN: ("青田县", "轮播 2/2")}
    seen = []
    for _ in range(3):  # e.g. 莲都区 -> 青田县 -> 莲都区: every change is the next region of the list
        now = header(page)
        assert now["region"] in names and all(words in now["text"] for words in names[now["region"]]), now
        seen.append(now["region"])
        page.wait_for_function(f"() => document.querySelector('{HEADER}').dataset.region !== '{now['region']}'",
                               timeout=30000)
        page.wait_for_timeout(300)
    assert seen[0] != seen[1] and seen[2] == seen[0]
    assert page.evaluate("() => window.__wallMarker") == "kept", "rotation reloaded the page"
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1


def test_wall_rotates_through_the_children_by_default(page):
    open_wall(page, rotate="4", refresh="60")
    first = header(page)
    assert "/10" in first["text"]  # the city and its nine counties
    page.wait_for_function(f"() => document.querySelector('{HEADER}').dataset.region !== '{first['region']}'",
                           timeout=30000)
    assert header(page)["region"][:4] == "3311"


@pytest.fixture
def fresh_server(small_sqlite, tmp_path):
    """A server nobody has visited yet (the kiosk after a restart); its log must hold no traceback."""
    need_chromium()
    log = tmp_path / "streamlit.log"
    with serve(str(small_sqlite.url), log) as url:
        yield url
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


def test_kiosk_link_is_the_first_request_after_a_start(browser, fresh_server):
    with recorded_page(browser, fresh_server, viewport={"width": 1920, "height": 1080}) as pg:
        _kiosk_first_request(pg, fresh_server)


def test_deep_link_to_a_page_is_the_first_request_after_a_start(browser, fresh_server):
    """/map?region=… opened before anyone visited the app runs through app.py (title, filter bar, no error)."""
    with recorded_page(browser, fresh_server, viewport={"width": 1366, "height": 1024}) as pg:
        pg.goto(f"{fresh_server}/map?{urllib.parse.urlencode({'region': LIANDU, **PERIOD})}")
        pg.wait_for_selector(READY, timeout=60000)
        wait_ready(pg)
        assert "地图钻取 · 莲都区" in pg.locator('[data-testid="stMain"]').inner_text()
        assert pg.locator('[data-testid="stSidebar"]').get_by_text("筛选", exact=True).count() >= 1


def _kiosk_first_request(pg, fresh_server):
    query = urllib.parse.urlencode({"region": CITY, "rotate": 30, "refresh": 60, "regions": f"{CITY},{LIANDU}", **PERIOD})
    pg.goto(f"{fresh_server}/wall?{query}")
    pg.wait_for_selector(READY, timeout=60000)
    pg.wait_for_selector(HEADER, timeout=30000)
    wait_ready(pg)
    assert "丽水市 · 社会治理一屏统管" in pg.locator(HEADER).inner_text()
    assert "轮播 1/2" in pg.locator(HEADER).inner_text()
    assert pg.locator('[data-testid="stSidebar"]').is_hidden()
