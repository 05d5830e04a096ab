"""Bringing your own map: a city with county outlines only, then township, village and grid files in the
forms counties hand over (GeoJSON, GBK Shapefile without .cpg/.prj, zipped Gauss-Krüger Shapefile,
GeoPackage, GCJ-02), with the hostile features they contain; each check's reason names the feature's code."""
from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text

from data_access.engine import get_engine
from data_access.imports import ImportFailed, import_cases, runlog
from data_access.imports.boundaries import import_boundaries
from data_access.imports.coords import wgs84_to_gcj02
from sample_data.empty import build_empty

COUNTY = "331102000000"  # 莲都区
TOWN = "331102001000"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('own') / 'own.db'}")
    build_empty(engine, "丽水市")
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT geometry FROM regions WHERE code = :c"), {"c": COUNTY}).scalar()
    centre = shapely.from_wkb(bytes(wkb)).representative_point()
    return engine, centre.x, centre.y


def _town_box(x, y):
    return box(x - 0.02, y - 0.02, x + 0.02, y + 0.02)


def _quarters(b):
    x0, y0, x1, y1 = b.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]


def _why(rep):
    return [w for _, w in rep.rejects]


def test_own_map_from_empty_city_to_grids(city, tmp_path):
    engine, x, y = city
    # 1. townships: GeoJSON with Chinese field names; one point feature and one empty geometry
    town = _town_box(x, y)
    t = gpd.GeoDataFrame({"编码": [TOWN, "331102002000", "331102003000"], "名称": ["白云街道", "点", "空"],
                          "常住人口": [12000, 1, 1]},
                         geometry=[town, Point(x, y), Polygon()], crs="EPSG:4326")
    t.to_file(tmp_path / "towns.geojson", driver="GeoJSON")
    rep = import_boundaries(engine, tmp_path / "towns.geojson", "township", user="测试")
    assert (rep.read, rep.inserted, rep.rejected) == (3, 1, 2)
    assert _why(rep) == ["331102002000：几何是点，不是面", "331102003000：几何为空"]
    # 2. villages: Shapefile, GBK attributes without .cpg, no .prj; a bow-tie, a village half outside its
    #    township, a duplicate code, a code under another township
    q = _quarters(town)
    x0, y0, x1, y1 = q[3].bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    v = gpd.GeoDataFrame({"村编码": [f"{TOWN[:9]}{i:03d}" for i in (1, 2, 3, 4, 5, 3, 6)],
                          "村名称": ["张村", "李村", "王家社区", "赵村", "外村", "重复村", "错村"],
                          "上级编码": [TOWN] * 6 + ["331102009000"]},
                         geometry=[q[0], q[1], q[2], bowtie, shapely.affinity.translate(q[0], -0.03, 0), q[2], q[1]])
    (tmp_path / "v").mkdir()
    v.to_file(tmp_path / "v" / "villages.shp", encoding="gbk", engine="pyogrio")
    for suffix in (".cpg", ".prj"):
        (tmp_path / "v" / f"villages{suffix}").unlink(missing_ok=True)
    rep = import_boundaries(engine, tmp_path / "v" / "villages.shp", "village")
    assert (rep.read, rep.inserted, rep.rejected) == (7, 3, 4)
    why = _why(rep)
    assert why[0].startswith("331102001004：几何无效（自相交") and "超过 1%" in why[0]
    assert why[1] == "331102001005：只有 0.0% 的面积在上级 331102001000 内（要求至少 95%）"
    assert why[2] == "331102001003：编码与第 3 个要素重复"
    assert why[3] == "331102001006：编码不在上级 331102009000 之下"
    assert any("按 GBK" in n for n in rep.notes) and any("EPSG:4490" in n for n in rep.notes)
    assert any("未被本次导入的村（社区）覆盖" in n for n in rep.notes)  # the bow-tie's quarter is a gap
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM regions WHERE code = '331102001001'")).scalar() == "张村"
    # 3. grids: zipped Shapefile in Gauss-Krüger metres (CGCS2000 3° zone 40, zone number in the easting),
    #    no .prj; CJ/T 349 20-digit codes mapped by their parent field; an overlapping and an outside grid
    vill = q[0]
    g = _quarters(vill)
    grids = g + [g[0].buffer(-0.0005), shapely.affinity.translate(g[0], 0, -0.5)]
    codes = [f"33110200100100{i:06d}" for i in range(1, 7)]
    gk = gpd.GeoDataFrame({"网格编码": codes, "网格名称": [f"第{i}网格" for i in range(1, 7)],
                           "所属村编码": ["331102001001"] * 6}, geometry=grids, crs="EPSG:4326").to_crs("EPSG:4528")
    (tmp_path / "g").mkdir()
    gk.to_file(tmp_path / "g" / "grids.shp", encoding="gbk", engine="pyogrio")  # .cpg says GBK
    (tmp_path / "g" / "grids.prj").unlink()
    with zipfile.ZipFile(tmp_path / "grids.zip", "w") as z:
        for f in (tmp_path / "g").iterdir():
            z.write(f, f.name)
    rep = import_boundaries(engine, tmp_path / "grids.zip", "grid")
    assert (rep.read, rep.inserted, rep.rejected) == (6, 4, 2), rep.rejects
    assert _why(rep)[0].startswith(f"{codes[4]}：与 {codes[0]} 重叠")
    assert _why(rep)[1].startswith(f"{codes[5]}：只有 0.0% 的面积在上级 331102001001 内")
    assert any("EPSG:4528" in n for n in rep.notes) and any("20 位" in n for n in rep.notes)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT code, source_code, geometry FROM grids ORDER BY code")).all()
        run = runlog.run(conn, rep.run_id)
    assert [r[0] for r in got] == [f"331102001001{i:03d}" for i in (1, 2, 3, 4)]
    assert [r[1] for r in got] == codes[:4]
    back = shapely.from_wkb(bytes(got[0][2]))
    assert back.symmetric_difference(g[0]).area / g[0].area < 1e-6  # reprojected back to within a few cm
    assert (run["kind"], run["rows_read"], run["rejected"]) == ("boundary-grid", 6, 2)
    # 4. cases by the county's own grid codes and by point; then re-importing the grids without one of them
    cases = pd.DataFrame([
        {"事件编号": "OWN-1", "事件类别": "治安", "事件来源": "12345热线", "网格编码": codes[0], "上报时间": "2026-03-05",
         "办理时限": "2026-03-10"},
        {"事件编号": "OWN-2", "事件类别": "治安", "事件来源": "12345热线", "网格编码": "",
         "经度": g[3].representative_point().x, "纬度": g[3].representative_point().y,
         "上报时间": "2026-03-05", "办理时限": "2026-03-10"}])
    cases.to_csv(tmp_path / "c.csv", index=False)
    rc = import_cases(engine, tmp_path / "c.csv")
    assert (rc.inserted, rc.rejected) == (2, 0)
    with engine.connect() as conn:
        placed = dict(conn.execute(text("SELECT id, grid_code FROM cases")).all())
    assert placed == {"OWN-1": "331102001001001", "OWN-2": "331102001001004"}
    # GeoPackage, GCJ-02 coordinates, 15-digit codes: grid 004 is gone
    gcj = gpd.GeoDataFrame({"code": [f"331102001001{i:03d}" for i in (1, 2, 3)], "name": ["一", "二", "三"]},
                           geometry=[shapely.transform(p, lambda xy: pd.DataFrame(wgs84_to_gcj02(xy[:, 0], xy[:, 1])).T.to_numpy())
                                     for p in g[:3]], crs="EPSG:4326")
    gcj.to_file(tmp_path / "grids.gpkg", driver="GPKG")
    rep = import_boundaries(engine, tmp_path / "grids.gpkg", "grid", coords="gcj02")
    assert (rep.read, rep.inserted, rep.updated, rep.unchanged, rep.rejected) == (3, 0, 3, 0, 0)
    assert rep.removed == ["331102001001004"] and rep.orphaned_cases == 1 and rep.orphaned_sample == ["OWN-2"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() == 2  # listed, never deleted
        back = shapely.from_wkb(bytes(conn.execute(text("SELECT geometry FROM grids WHERE code = '331102001001001'")).scalar()))
    assert back.symmetric_difference(g[0]).area / g[0].area < 1e-4


def test_boundary_files_that_cannot_be_read(city, tmp_path):
    engine, x, y = city
    empty = tmp_path / "e.geojson"
    empty.write_bytes(b"")
    with pytest.raises(ImportFailed, match="空文件"):
        import_boundaries(engine, empty, "township")
    gk = gpd.GeoDataFrame({"code": [TOWN]}, geometry=[box(500000, 3000000, 501000, 3001000)])
    gk.to_file(tmp_path / "noprj.shp", engine="pyogrio")
    (tmp_path / "noprj.prj").unlink(missing_ok=True)
    with pytest.raises(ImportFailed, match="请用 --crs 指定"):
        import_boundaries(engine, tmp_path / "noprj.shp", "township")
    nozip = tmp_path / "x.zip"
    with zipfile.ZipFile(nozip, "w") as z:
        z.writestr("readme.txt", "no shapes")
    with pytest.raises(ImportFailed, match="没有 Shapefile"):
        import_boundaries(engine, nozip, "grid")
    with engine.connect() as conn:
        assert runlog.runs(conn, 1).iloc[0]["status"] == "failed"


def test_cli_boundaries(city, tmp_path, capsys):
    from data_access.__main__ import main
    engine, _, _ = city
    with engine.connect() as conn:  # another county: a township file replaces its county's townships
        wkb = conn.execute(text("SELECT geometry FROM regions WHERE code = '331121000000'")).scalar()
    c = shapely.from_wkb(bytes(wkb)).representative_point()
    t = gpd.GeoDataFrame({"DM": ["331121005000"], "MC": ["新镇"]}, geometry=[_town_box(c.x, c.y)], crs="EPSG:4490")
    t.to_file(tmp_path / "t.geojson", driver="GeoJSON")
    url = str(engine.url)
    assert main(["boundaries", str(tmp_path / "t.geojson"), "--level", "township", "--code-field", "DM",
                 "--name-field", "MC", "--database-url", url]) == 0
    assert "读取 1 个要素，新增 1 个" in capsys.readouterr().out
    assert main(["boundaries", str(tmp_path / "t.geojson"), "--level", "township", "--code-field", "无此字段",
                 "--database-url", url]) == 2
    assert "文件中没有字段 无此字段" in capsys.readouterr().err


def test_an_own_map_city_gives_a_working_dashboard(city, tmp_path, monkeypatch):
    """County outlines from --empty, then a township, its villages and grids, and two cases: the pages draw."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT
    engine, x, y = city
    with engine.connect() as conn:
        if not conn.execute(text("SELECT COUNT(*) FROM grids")).scalar():
            test_own_map_from_empty_city_to_grids(city, tmp_path)
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        for page, region, title in (("overview", COUNTY, "一屏统管 · 莲都区"), ("map", TOWN, "地图钻取 · 白云街道"),
                                    ("cases", "331102001001", "事件办结 · 张村")):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
            at.query_params.update({"region": region, "from": "2026-01-01", "to": "2026-10-31"})
            at.run()
            if page != "overview":
                at.switch_page(f"pages/{page}.py")
                at.run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
            assert [x.value for x in at.title] == [title], page
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_a_small_self_intersection_is_repaired(city, tmp_path):
    engine, _, _ = city
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT geometry FROM regions WHERE code = '331122000000'")).scalar()
    c = shapely.from_wkb(bytes(wkb)).representative_point()
    s = 0.01  # a 0.01° square whose right edge crosses itself in a tiny loop (a bow-tie of 0.5 % of its side)
    ring = [(0, 0), (1, 0), (1, 0.5), (1.005, 0.505), (1.005, 0.5), (1, 0.505), (1, 1), (0, 1), (0, 0)]
    twisted = Polygon([(c.x + x * s, c.y + y * s) for x, y in ring])
    assert not twisted.is_valid
    gpd.GeoDataFrame({"code": ["331122001000"], "name": ["扭结镇"]}, geometry=[twisted], crs="EPSG:4326"
                     ).to_file(tmp_path / "t.geojson", driver="GeoJSON")
    rep = import_boundaries(engine, tmp_path / "t.geojson", "township")
    assert (rep.inserted, rep.rejected) == (1, 0)
    assert any("已自动修复" in n for n in rep.notes)
    with engine.connect() as conn:
        stored = shapely.from_wkb(bytes(conn.execute(text("SELECT geometry FROM regions WHERE code = '331122001000'")).scalar()))
    assert stored.is_valid and abs(stored.area - s * s) / (s * s) < 0.01


def test_row_filter_narrows_which_units_land(city, tmp_path):
    engine, _, _ = city
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT geometry FROM regions WHERE code = '331123000000'")).scalar()
    c = shapely.from_wkb(bytes(wkb)).representative_point()
    gpd.GeoDataFrame({"code": ["331123001000", "331123002000"]},
                     geometry=[_town_box(c.x, c.y), _town_box(c.x + 0.05, c.y)], crs="EPSG:4326"
                     ).to_file(tmp_path / "t.geojson", driver="GeoJSON")
    rep = import_boundaries(engine, tmp_path / "t.geojson", "township",
                            row_filter=lambda f: f["code"].map(lambda k: "不在本人管辖范围" if k.endswith("2000") else ""))
    assert (rep.inserted, rep.rejected) == (1, 1) and _why(rep) == ["331123002000：不在本人管辖范围"]
