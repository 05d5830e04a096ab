"""数据导入 in the browser: upload a CSV with a good and a bad row; the good one lands, the bad one is
shown with its reason and in the import log; a township's village and grid boundaries uploaded on the page
appear on the map and drill down; the page requests nothing from other hosts."""
import re

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text

from data_access import meta, rollup
from data_access.schema import grids, regions

from .conftest import open_app, shoot, wait_ready
from .test_map import canvas_ready, main_text, map_pixel, open_map, wait_region


def test_upload_imports_and_quarantines(page, small_sqlite, tmp_path):
    with small_sqlite.connect() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
    csv = tmp_path / "上报事件.csv"
    pd.DataFrame([
        {"事件编号": "E2E-IMP-1", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid,
         "上报时间": "2026-05-05 09:00", "办理时限": "2026-05-10", "状态": "处置中"},
        {"事件编号": "E2E-IMP-2", "事件类别": "治安", "事件来源": "12345热线", "网格编码": "000000000000000",
         "上报时间": "2026-05-05 09:00", "办理时限": "2026-05-10", "状态": "处置中"},
    ]).to_csv(csv, index=False, encoding="gb18030")
    try:
        open_app(page, "import")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
        page.get_by_role("button", name="开始导入").click()
        page.get_by_text("导入完成").wait_for(timeout=60000)
        wait_ready(page)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "新增 1 条" in body and "隔离 1 条" in body and "网格编码不存在：1 行" in body
        page.get_by_role("tab", name="导入日志").click()
        page.get_by_text(re.compile(r"第 #\d+ 次导入的隔离行（个人信息已脱敏；前 1 行）")).wait_for(timeout=20000)
        with small_sqlite.connect() as conn:
            assert conn.execute(text("SELECT status FROM cases WHERE id = 'E2E-IMP-1'")).scalar() == "dispatched"
        shoot(page, "import_1920x1080")
    finally:
        with small_sqlite.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE id LIKE 'E2E-IMP-%'"))
            rollup.refresh(conn, [202605])


def _upload_boundaries(page, path, level: str, expect: str) -> None:
    page.get_by_role("tab", name="边界导入").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(1).set_input_files(str(path))
    page.locator('[data-testid="stSelectbox"]').filter(has_text="层级").click()
    page.get_by_role("option", name=level).click()
    page.get_by_role("button", name="导入边界").click()
    page.get_by_text(expect).wait_for(timeout=60000)
    wait_ready(page)


def test_upload_a_townships_villages_and_grids_then_drill_on_the_map(page, small_sqlite, tmp_path):
    with small_sqlite.connect() as conn:
        town = conn.execute(text("SELECT MIN(code) FROM regions WHERE level = 'township'")).scalar()
        old_v = conn.execute(regions.select().where(regions.c.parent_code == town)).mappings().all()
        village = min(r["code"] for r in old_v)
        old_g = conn.execute(grids.select().where(grids.c.village_code == village)).mappings().all()
    shapes = lambda rows: [shapely.from_wkb(bytes(r["geometry"])) for r in rows]  # noqa: E731
    gpd.GeoDataFrame({"编码": [r["code"] for r in old_v], "名称": [f"导入村{i}" for i in range(len(old_v))],
                      "人口": [r["population"] for r in old_v]}, geometry=shapes(old_v), crs="EPSG:4326"
                     ).to_file(tmp_path / "villages.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"网格编码": [r["code"] for r in old_g], "网格名称": [f"导入网格{i}" for i in range(len(old_g))]},
                     geometry=shapes(old_g), crs="EPSG:4326").to_file(tmp_path / "grids.geojson", driver="GeoJSON")
    try:
        open_app(page, "import")
        _upload_boundaries(page, tmp_path / "villages.geojson", "村（社区）",
                           f"边界导入完成：读取 {len(old_v)} 个要素，新增 0 个，更新 {len(old_v)} 个")
        _upload_boundaries(page, tmp_path / "grids.geojson", "网格",
                           f"边界导入完成：读取 {len(old_g)} 个要素，新增 0 个，更新 {len(old_g)} 个")
        assert "拒绝 0 个" in main_text(page)
        shoot(page, "import_boundaries_1920x1080")
        open_map(page, town)
        assert "导入村0" in main_text(page)
        x, y = map_pixel(page, small_sqlite, town, village)
        page.mouse.move(x, y)  # the tooltip first: deck.gl has picked the shape under the pointer
        page.locator(".deck-tooltip").first.wait_for(state="visible", timeout=10000)
        page.mouse.click(x, y)
        wait_region(page, village)
        canvas_ready(page)
        assert "导入网格0" in main_text(page)
        shoot(page, "import_boundaries_drilled_1920x1080")
    finally:
        with small_sqlite.begin() as conn:
            conn.execute(regions.delete().where(regions.c.parent_code == town))
            conn.execute(regions.insert(), [dict(r) for r in old_v])
            conn.execute(grids.delete().where(grids.c.village_code == village))
            conn.execute(grids.insert(), [dict(r) for r in old_g])
            meta.bump_version(conn)
