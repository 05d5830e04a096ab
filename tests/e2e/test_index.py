"""指数评价 in a real browser at city, county and township level: no exception, console error or outside request
(the ``page`` fixture); the index card equals the analytics layer's figure; map, ranking, stars and sensitivity
are drawn; the XLSX export downloads; screenshots in artifacts/screenshots/."""
import pytest

from analytics import village_index as av
from analytics.index_config import load_config
from data_access import queries
from data_access import village_index as vi

from .conftest import metric, open_app, shoot, wait_ready

CITY, COUNTY = "331100000000", "331127000000"
YEAR = 2026


def expected(engine, region: str, level: str) -> str:
    cfg = load_config()
    with engine.connect() as conn:
        root = vi.group_root(region, cfg.group)
        ev = av.evaluate(vi.villages(conn, root), vi.village_table(conn, root, YEAR), vi.case_counts(conn, root, YEAR), cfg)
    return f"{av.scores_at(ev, cfg, level).loc[region, 'index']:.1f}"


@pytest.mark.slow
def test_index_page_at_city_county_and_township(page, small_sqlite):
    with small_sqlite.connect() as conn:
        town = queries.children(conn, COUNTY)["code"].iloc[0]
    open_app(page, "", region=CITY)  # the app first: a deep link as the very first request reruns through app.py
    for level, region in (("city", CITY), ("county", COUNTY), ("township", town)):
        open_app(page, "score", region=region)
        assert metric(page, "强基善治指数") == expected(small_sqlite, region, level), level
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 1
        assert page.get_by_text("星级平安村社").count() >= 1
        assert page.get_by_text("稳健性：每个权重上下浮动 20% 时的名次变化").count() == 1
        assert page.get_by_text("专家权重（AHP）").count() >= 1
        shoot(page, f"index_{level}")
    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet: map and ranking stack
    wait_ready(page)
    assert metric(page, "强基善治指数") == expected(small_sqlite, town, "township")
    shoot(page, "index_township_1024x768")
    with page.expect_download() as dl:
        page.get_by_role("button", name="导出指数排名（XLSX）").click()
    assert dl.value.suggested_filename.endswith("强基善治指数.xlsx")
    import io

    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    ws = wb["指数排名"]
    assert [c.value for c in ws[1]][:4] == ["名次", "名称", "区划代码", "强基善治指数"]
    assert ws.max_row == 1 + len(queries.children(small_sqlite.connect(), town))


def test_map_playback_advances_the_month_by_itself(page):
    """地图钻取 → 时间回放 → 播放: the month shown changes without any click, and the page is not reloaded."""
    open_app(page, "", region=COUNTY)
    open_app(page, "map", region=COUNTY)
    page.get_by_text("时间回放").first.click()
    month = page.locator('[data-testid="playback-month"]')
    month.wait_for(timeout=30000)
    first = month.get_attribute("data-month")
    page.evaluate("() => { window.__same_document = true; }")
    page.get_by_role("button", name="▶ 播放").click()
    page.wait_for_function(
        "m => { const e = document.querySelector('[data-testid=\"playback-month\"]'); return e && e.dataset.month !== m; }",
        arg=first, timeout=30000)
    seen = {page.locator('[data-testid="playback-month"]').get_attribute("data-month")}
    page.wait_for_function(
        "m => { const e = document.querySelector('[data-testid=\"playback-month\"]'); return e && e.dataset.month !== m; }",
        arg=next(iter(seen)), timeout=30000)
    assert page.evaluate("() => window.__same_document === true")  # stepped in place: no reload
    shoot(page, "map_playback")
    page.get_by_role("button", name="⏸ 暂停").click()


def test_wall_playback_advances_the_month_by_itself(page):
    """大屏 with ?playback=12: the map panel steps through the months on its own; the wall is not reloaded."""
    open_app(page, "", region=COUNTY)
    open_app(page, "wall", region=COUNTY, playback=12)
    month = page.locator('[data-testid="playback-month"]')
    month.wait_for(timeout=30000)
    page.evaluate("() => { window.__same_document = true; }")
    seen = {month.get_attribute("data-month")}
    for _ in range(2):
        page.wait_for_function(
            "ms => { const e = document.querySelector('[data-testid=\"playback-month\"]');"
            " return e && !ms.includes(e.dataset.month); }", arg=sorted(seen), timeout=30000)
        seen.add(page.locator('[data-testid="playback-month"]').get_attribute("data-month"))
    assert len(seen) == 3 and page.evaluate("() => window.__same_document === true")
    assert page.locator('.st-key-wall_map [data-testid="stDeckGlJsonChart"]').count() == 1
    shoot(page, "wall_playback")
