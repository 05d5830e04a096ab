"""Boundaries in: a county's own townships, villages and grids from GeoJSON, Shapefile (zipped or not) or
GeoPackage, reprojected to WGS84, checked, and written in one transaction.

Why these checks (each reported in Chinese with the feature's code): boundary files from surveying units
and grid systems routinely hold self-intersecting rings (bow-ties), duplicate codes, grids drawn across a
village line, and gaps. A unit is written only if its geometry is a valid polygon (``make_valid`` repairs
that change the area by < 1 % are kept), its code is new in the file and lies under its parent's code, its
parent exists, and ≥ 95 % of its area lies inside that parent; a unit overlapping an earlier sibling by
more than 1 % of the smaller one is rejected; how much of each parent its children leave uncovered (the gap
share) is reported. Re-importing a level replaces that level under the parents the file covers; cases whose
grid disappears are listed, never deleted. Grid codes of other forms (CJ/T 349's 20 digits, local codes)
are kept in ``grids.source_code`` and given internal codes (village code + 3 digits) by their parent field.

CRS: the file's own (.prj / GeoPackage / GeoJSON), else ``--crs``, else guessed: longitudes/latitudes are
read as CGCS2000 (EPSG:4490, within a metre of WGS84); Gauss-Krüger metres with the zone number in front of
the easting (e.g. 40 500 000) as the CGCS2000 3° (EPSG:4513–4533) or 6° (EPSG:4491–4501) zone they name.
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine

from .. import meta
from ..codes import level_of
from ..schema import grids as grids_t, regions as regions_t
from ..writes import insert_frame
from . import coords as coords_mod
from . import runlog
from .readers import ImportFailed

LEVELS = ("county", "township", "village", "grid")
LEVEL_NAMES = {"county": "县（市、区）", "township": "乡镇（街道）", "village": "村（社区）", "grid": "网格"}
PARENT = {"county": "city", "township": "county", "village": "township", "grid": "village"}
FIELDS = {
    "code": ("code", "编码", "代码", "区划代码", "行政区划代码", "统计用区划代码", "网格编码", "网格代码", "网格编号",
             "村编码", "社区编码", "乡镇编码", "街道编码", "dm", "xzqdm", "grid_code", "gridcode", "adcode"),
    "name": ("name", "名称", "网格名称", "村名称", "社区名称", "乡镇名称", "街道名称", "村名", "mc", "xzqmc", "grid_name"),
    "parent": ("parent", "parent_code", "上级编码", "上级代码", "所属村编码", "所属社区编码", "所属村社编码",
               "所属乡镇编码", "所属街道编码", "所属县编码", "pcode", "sjdm"),
    "population": ("population", "人口", "常住人口", "户籍人口", "人口数", "pop"),
}
#: Tolerances of the checks (shares of an area).
REPAIR_MAX = 0.01
INSIDE_MIN = 0.95
OVERLAP_MAX = 0.01
CODE_LEN = {"county": 12, "township": 12, "village": 12, "grid": 15}
SIG = {"county": 6, "township": 9, "village": 12, "grid": 15}


@dataclass
class BoundaryReport:
    level: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    removed: list[str]
    orphaned_cases: int
    orphaned_sample: list[str]
    notes: list[str] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)  # (code or 第 n 个要素, reason)
    run_id: int | None = None
    seconds: float = 0.0
    raws: list[dict] = field(default_factory=list)  # the rejected features' attributes, as in the file


# ---- reading ----

def _find_layer(folder: Path) -> Path:
    for pattern in ("*.shp", "*.gpkg", "*.geojson", "*.json"):
        found = sorted(folder.rglob(pattern))
        if found:
            return found[0]
    raise ImportFailed("压缩包中没有 Shapefile（.shp）、GeoPackage 或 GeoJSON 文件。")


def read_layer(path: Path, notes: list[str]) -> gpd.GeoDataFrame:
    """Any supported file as a GeoDataFrame (attributes decoded: .cpg, else UTF-8, else GBK)."""
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"文件 {path} 不存在。")
    if path.stat().st_size == 0:
        raise ImportFailed(f"文件 {path.name} 是空文件（0 字节）。")
    if zipfile.is_zipfile(path) and path.suffix.lower() != ".gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    name = info.filename
                    if info.flag_bits & 0x800 == 0:  # not marked UTF-8: Chinese Windows zips names in GBK
                        try:
                            name = name.encode("cp437").decode("gbk")
                        except (UnicodeEncodeError, UnicodeDecodeError):
                            pass
                    target = Path(tmp) / Path(name).name
                    if not info.is_dir():
                        target.write_bytes(z.read(info))
            try:
                inner = _find_layer(Path(tmp))
            except ImportFailed as exc:
                raise ImportFailed(f"文件 {path.name}：{exc}") from None
            notes.append(f"从压缩包中读取 {inner.name}")
            return read_layer(inner, notes)
    if path.suffix.lower() == ".shp":
        if not path.with_suffix(".dbf").exists() and not path.with_suffix(".DBF").exists():
            raise ImportFailed(f"Shapefile {path.name} 缺少同名的 .dbf 属性表文件。")
        if not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
            try:
                return gpd.read_file(path, encoding="utf-8", engine="pyogrio")
            except UnicodeDecodeError:
                notes.append(f"{path.name} 没有 .cpg 编码文件且属性表不是 UTF-8，已按 GBK（GB18030）读取")
                return _read(path, encoding="gb18030")
    return _read(path)


def _read(path: Path, **kw) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, engine="pyogrio", **kw)
    except Exception as exc:  # noqa: BLE001 - the reader's own words, in one sentence
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailed(f"文件 {path.name} 无法读取为 GeoJSON、Shapefile 或 GeoPackage：{first}") from None


def guess_crs(gdf: gpd.GeoDataFrame, notes: list[str]) -> str:
    """The CRS of coordinates without one: degrees → EPSG:4490; Gauss-Krüger with a zone prefix → its zone."""
    x0, y0, x1, y1 = gdf.total_bounds
    if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
        notes.append("文件没有坐标系信息（.prj），坐标为经纬度，按 CGCS2000（EPSG:4490）读取")
        return "EPSG:4490"
    zone = int(x0 // 1_000_000)
    if zone == int(x1 // 1_000_000) and 0 < y0 < 6_500_000:
        if 25 <= zone <= 45:
            code = 4513 + zone - 25
        elif 13 <= zone <= 23:
            code = 4491 + zone - 13
        else:
            code = None
        if code:
            notes.append(f"文件没有坐标系信息（.prj），坐标为带号 {zone} 的高斯-克吕格投影，按 EPSG:{code} 读取")
            return f"EPSG:{code}"
    raise ImportFailed(f"文件没有坐标系信息（.prj），坐标范围 ({x0:.0f}, {y0:.0f})–({x1:.0f}, {y1:.0f}) 无法判断坐标系；"
                       "请用 --crs 指定，如 --crs EPSG:4527（CGCS2000 3° 带 39 带号）或 --crs EPSG:4549（3° 带中央经线 120°E）。")


def to_wgs84(gdf: gpd.GeoDataFrame, crs: str | None, coords: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs(crs or guess_crs(gdf, notes), allow_override=True)
    elif crs:
        notes.append(f"文件自带坐标系 {gdf.crs.to_string()}，--crs {crs} 未使用")
    try:
        gdf = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(f"坐标无法从 {gdf.crs} 转换为 WGS84：{exc}") from None
    if coords not in (None, "", "wgs84"):
        def conv(xy):
            x, y = coords_mod.to_wgs84(xy[:, 0], xy[:, 1], coords)
            return np.column_stack([x, y])
        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.values, conv))
        notes.append(f"坐标按 {coords.upper()} 偏移坐标转换为 WGS84")
    return gdf


def _pick(columns: list[str], wanted: str, given: str | None) -> str | None:
    if given:
        if given not in columns:
            raise ImportFailed(f"文件中没有字段 {given}（现有字段：{'、'.join(columns)}）。")
        return given
    norm = {unicodedata.normalize("NFKC", c).strip().lower(): c for c in columns}
    for name in FIELDS[wanted]:
        if name.lower() in norm:
            return norm[name.lower()]
    return None


def _code(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip().removesuffix(".0")


def _polygonal(g):
    """The polygon parts of ``g`` (a GeometryCollection from make_valid may hold lines)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else None
    return None


_INVALID = {"Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Too few points": "点数不足",
            "Interior is disconnected": "内部不连通", "Hole lies outside shell": "内环在外环之外",
            "Nested shells": "外环嵌套", "Duplicate Rings": "环重复", "Invalid Coordinate": "坐标无效",
            "Ring is not closed": "环未闭合", "Nested holes": "内环嵌套"}


def _why_invalid(g) -> str:
    reason = shapely.is_valid_reason(g)
    what, _, where = reason.partition("[")
    return f"{_INVALID.get(what.strip(), what.strip())}，位置 {where.rstrip(']')}" if where else _INVALID.get(what.strip(), reason)


# ---- the import ----

def import_boundaries(engine: Engine, path: str | Path, level: str, *, code_field: str | None = None,
                      name_field: str | None = None, parent_field: str | None = None,
                      population_field: str | None = None, crs: str | None = None, coords: str | None = None,
                      user: str | None = None, row_filter=None) -> BoundaryReport:
    """Import one boundary file of ``level``. ``row_filter(frame of code, parent_code, name) -> reasons`` ('' =
    keep) is the one place where a caller narrows which units may be written (e.g. a county's own)."""
    if level not in LEVELS:
        raise ImportFailed(f"未知的层级 {level!r}，可选：{'、'.join(LEVELS)}。")
    path = Path(path)
    actor = user or runlog.cli_user()
    t0 = time.perf_counter()
    notes: list[str] = []
    kind = f"boundary-{level}"
    try:
        gdf = to_wgs84(read_layer(path, notes), crs, coords, notes)
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        fcode = _pick(cols, "code", code_field)
        fname = _pick(cols, "name", name_field)
        fparent = _pick(cols, "parent", parent_field)
        fpop = _pick(cols, "population", population_field)
        if fcode is None:
            raise ImportFailed(f"文件 {path.name} 中找不到编码字段（现有字段：{'、'.join(cols)}）；请用 --code-field 指定。")
        with engine.begin() as conn:
            run_id = runlog.start(conn, kind, actor, path, runlog.sha256(path))
            report = _write(conn, gdf, level, fcode, fname, fparent, fpop, notes, row_filter)
            report.run_id = run_id
            runlog.add_rejects(conn, run_id, 0, [r[0] for r in report.rejects], report.raws,
                               [r[1] for r in report.rejects])
            report.seconds = time.perf_counter() - t0
            runlog.finish(conn, run_id, status="ok", read=report.read, inserted=report.inserted,
                          updated=report.updated, rejected=report.rejected, unchanged=report.unchanged,
                          seconds=report.seconds, message="；".join(report.notes)[:2000],
                          details={"notes": report.notes, "removed": report.removed,
                                   "orphaned_cases": report.orphaned_cases, "orphaned_sample": report.orphaned_sample,
                                   "level": level})
            runlog.on_record(conn, actor, f"import:{kind}", {
                "run_id": run_id, "file": path.name, "read": report.read, "inserted": report.inserted,
                "updated": report.updated, "rejected": report.rejected, "removed": len(report.removed)})
            meta.bump_version(conn)
    except ImportFailed as exc:
        runlog.failed(engine, kind, actor, path, str(exc), time.perf_counter() - t0)
        raise
    return report


def _parents(conn, level: str) -> dict[str, object]:
    """Existing parents of ``level``: code -> geometry (None when it has none)."""
    plevel = PARENT[level]
    rows = conn.execute(select(regions_t.c.code, regions_t.c.geometry).where(regions_t.c.level == plevel)).all()
    return {c: (shapely.from_wkb(bytes(g)) if g is not None else None) for c, g in rows}


def _write(conn, gdf, level, fcode, fname, fparent, fpop, notes, row_filter=None) -> BoundaryReport:
    n = len(gdf)
    reasons = [""] * n
    codes = [_code(v) for v in gdf[fcode]]
    names = [str(v).strip() if fname and v is not None and str(v) != "nan" else "" for v in (gdf[fname] if fname else [None] * n)]
    parents_given = [_code(v) for v in gdf[fparent]] if fparent else [""] * n
    pops = pd.to_numeric(gdf[fpop], errors="coerce") if fpop else pd.Series(np.nan, index=gdf.index)
    label = [c or f"第 {i + 1} 个要素" for i, c in enumerate(codes)]
    geoms = list(gdf.geometry.values)
    repaired = 0
    for i, g in enumerate(geoms):
        if not codes[i]:
            reasons[i] = f"{label[i]}：编码为空"
            continue
        if g is None or g.is_empty:
            reasons[i] = f"{label[i]}：几何为空"
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            reasons[i] = f"{label[i]}：几何是{ {'Point': '点', 'MultiPoint': '点', 'LineString': '线', 'MultiLineString': '线'}.get(g.geom_type, g.geom_type)}，不是面"
            continue
        if not g.is_valid:
            why = _why_invalid(g)
            fixed = _polygonal(shapely.make_valid(g))
            before = shapely.Polygon(g.exterior).area if g.geom_type == "Polygon" else sum(shapely.Polygon(p.exterior).area for p in g.geoms)
            change = abs((fixed.area if fixed is not None else 0) - before) / before if before else 1.0
            if fixed is None or change >= REPAIR_MAX:
                reasons[i] = f"{label[i]}：几何无效（{why}），自动修复后面积变化 {change:.1%}，超过 1%，未导入"
                continue
            geoms[i] = fixed
            repaired += 1
    if repaired:
        notes.append(f"{repaired} 个要素几何无效（如自相交），已自动修复（面积变化均小于 1%）")
    # codes and parents
    parents = _parents(conn, level)
    seen: dict[str, int] = {}
    parent_of = [""] * n
    internal = [""] * n
    source = [None] * n
    for i in range(n):
        if reasons[i]:
            continue
        c = codes[i]
        if c in seen:
            reasons[i] = f"{label[i]}：编码与第 {seen[c] + 1} 个要素重复"
            continue
        seen[c] = i
        digits = c.isdigit()
        if level != "grid":
            if digits and len(c) in (6, 9) and SIG[level] == len(c):
                c = c.ljust(12, "0")
            if not (digits and len(c) == 12 and level_of(c) == level):
                reasons[i] = f"{label[i]}：编码不是{LEVEL_NAMES[level]}的 12 位统计用区划代码"
                continue
            p = parents_given[i].ljust(12, "0") if parents_given[i] and len(parents_given[i]) < 12 else parents_given[i]
            implied = c[:SIG[PARENT[level]]].ljust(12, "0") if PARENT[level] != "city" else c[:4].ljust(12, "0")
            if p and p != implied:
                reasons[i] = f"{label[i]}：编码不在上级 {p} 之下"
                continue
            parent_of[i], internal[i] = implied, c
        else:
            p = parents_given[i]
            if digits and len(c) == 15:
                if p and p != c[:12]:
                    reasons[i] = f"{label[i]}：编码不在上级 {p} 之下"
                    continue
                parent_of[i], internal[i] = c[:12], c
            elif p:
                parent_of[i], source[i] = p, c  # internal code given below, per village
            else:
                reasons[i] = f"{label[i]}：编码不是 15 位网格编码，且没有上级（村/社区）编码字段，无法归入区划（用 --parent-field 指定）"
                continue
        if parent_of[i] not in parents:
            reasons[i] = f"{label[i]}：上级 {parent_of[i]} 不存在（请先导入上一级{LEVEL_NAMES[PARENT[level]]}边界）"
    # grids with other code forms: village code + 3 digits, after the 15-digit codes already in that village
    if level == "grid":
        existing = dict(conn.execute(select(grids_t.c.source_code, grids_t.c.code).where(grids_t.c.source_code.is_not(None))).all())
        used = {x for x in internal if x}
        used |= set(conn.execute(select(grids_t.c.code)).scalars())
        nxt: dict[str, int] = {}
        for i in sorted((i for i in range(n) if source[i] and not reasons[i]), key=lambda i: codes[i]):
            if source[i] in existing and existing[source[i]][:12] == parent_of[i]:
                internal[i] = existing[source[i]]
                continue
            k = nxt.get(parent_of[i], 1)
            while f"{parent_of[i]}{k:03d}" in used:
                k += 1
            if k > 999:
                reasons[i] = f"{label[i]}：村 {parent_of[i]} 下网格超过 999 个，无法分配内部编码"
                continue
            internal[i] = f"{parent_of[i]}{k:03d}"
            used.add(internal[i])
            nxt[parent_of[i]] = k + 1
        mapped = sum(1 for i in range(n) if source[i] and internal[i] and not reasons[i])
        if mapped:
            notes.append(f"{mapped} 个网格的编码不是 15 位（如 CJ/T 349 的 20 位编码或地方编码），已按上级村（社区）分配内部编码，原编码保留")
    if row_filter is not None:
        live = [i for i in range(n) if not reasons[i]]
        why = row_filter(pd.DataFrame({"code": [internal[i] for i in live], "parent_code": [parent_of[i] for i in live],
                                       "name": [names[i] for i in live]}, index=live))
        for i, r in why.items():
            if r:
                reasons[i] = f"{label[i]}：{r}"
    # inside the parent
    for i in range(n):
        if reasons[i]:
            continue
        pg = parents.get(parent_of[i])
        if pg is not None and not pg.is_empty:
            share = geoms[i].intersection(pg).area / geoms[i].area if geoms[i].area else 0.0
            if share < INSIDE_MIN:
                reasons[i] = f"{label[i]}：只有 {share:.1%} 的面积在上级 {parent_of[i]} 内（要求至少 95%）"
    # siblings overlapping
    ok = [i for i in range(n) if not reasons[i]]
    tree = shapely.STRtree([geoms[i] for i in ok])
    kept: set[int] = set()
    for pos, i in enumerate(ok):
        for other in tree.query(geoms[i], predicate="intersects"):
            j = ok[int(other)]
            if j >= i or j not in kept or parent_of[j] != parent_of[i]:
                continue
            inter = geoms[i].intersection(geoms[j]).area
            smaller = min(geoms[i].area, geoms[j].area)
            if smaller and inter / smaller > OVERLAP_MAX:
                reasons[i] = f"{label[i]}：与 {label[j]} 重叠 {inter / smaller:.1%}（超过较小者面积的 1%）"
                break
        if not reasons[i]:
            kept.add(i)
    good = [i for i in range(n) if not reasons[i]]
    # gap share per parent
    by_parent: dict[str, list[int]] = {}
    for i in good:
        by_parent.setdefault(parent_of[i], []).append(i)
    for p, members in sorted(by_parent.items()):
        pg = parents.get(p)
        if pg is None or pg.is_empty or not pg.area:
            continue
        covered = shapely.union_all([geoms[i] for i in members]).intersection(pg).area / pg.area
        if covered < 0.99:
            notes.append(f"上级 {p} 有 {1 - covered:.1%} 的面积未被本次导入的{LEVEL_NAMES[level]}覆盖")
    # write: replace the level under the parents the file covers
    scope = sorted(by_parent)
    frame = pd.DataFrame({
        "code": [internal[i] for i in good],
        "name": [(names[i] or codes[i])[:64] for i in good],
        "parent": [parent_of[i] for i in good],
        "population": [int(pops.iloc[i]) if pd.notna(pops.iloc[i]) and np.isfinite(pops.iloc[i]) else 0 for i in good],
        "geometry": [shapely.to_wkb(geoms[i]) for i in good],
        "label_lon": [geoms[i].representative_point().x for i in good],
        "label_lat": [geoms[i].representative_point().y for i in good],
        "source_code": [source[i] for i in good],
    })
    inserted = updated = unchanged = 0
    removed: list[str] = []
    orphan_ids: list[str] = []
    orphan_n = 0
    if level == "grid":
        old = pd.DataFrame(conn.execute(select(grids_t.c.code, grids_t.c.name, grids_t.c.village_code, grids_t.c.population,
                                               grids_t.c.geometry, grids_t.c.worker_name, grids_t.c.worker_phone)
                                        .where(grids_t.c.village_code.in_(scope))).all() if scope else [],
                           columns=["code", "name", "parent", "population", "geometry", "worker_name", "worker_phone"])
    else:
        old = pd.DataFrame(conn.execute(select(regions_t.c.code, regions_t.c.name, regions_t.c.parent_code, regions_t.c.population,
                                               regions_t.c.geometry, regions_t.c.duty_unit, regions_t.c.duty_person, regions_t.c.duty_phone)
                                        .where(regions_t.c.level == level, regions_t.c.parent_code.in_(scope))).all() if scope else [],
                           columns=["code", "name", "parent", "population", "geometry", "duty_unit", "duty_person", "duty_phone"])
    old_by = old.set_index("code") if len(old) else None
    for _, r in frame.iterrows():
        if old_by is None or r["code"] not in old_by.index:
            inserted += 1
            continue
        o = old_by.loc[r["code"]]
        same = (o["name"] == r["name"] and int(o["population"]) == r["population"]
                and o["geometry"] is not None and shapely.from_wkb(bytes(o["geometry"])).equals_exact(shapely.from_wkb(r["geometry"]), 1e-9))
        unchanged += same
        updated += not same
    removed = sorted(set(old["code"]) - set(frame["code"])) if len(old) else []
    if level == "grid":
        if removed:
            for k in range(0, len(removed), 500):
                part = removed[k:k + 500]
                q = text("SELECT id FROM cases WHERE grid_code IN (" + ",".join(f":c{j}" for j in range(len(part))) + ")")
                ids = conn.execute(q, {f"c{j}": c for j, c in enumerate(part)}).scalars().all()
                orphan_n += len(ids)
                orphan_ids += ids[: max(0, 200 - len(orphan_ids))]
        keep = {c: old_by.loc[c, ["worker_name", "worker_phone"]].tolist() for c in frame["code"] if old_by is not None and c in old_by.index}
        if scope:
            conn.execute(delete(grids_t).where(grids_t.c.village_code.in_(scope)))
        out = frame.rename(columns={"parent": "village_code"})
        out["worker_name"] = [keep.get(c, [None, None])[0] for c in out["code"]]
        out["worker_phone"] = [keep.get(c, [None, None])[1] for c in out["code"]]
        insert_frame(conn, grids_t, out)
        if orphan_n:
            notes.append(f"{orphan_n} 条事件所在的网格已不在新边界中（事件保留，未删除；见明细中的事件编号）")
    else:
        keep = {c: old_by.loc[c, ["duty_unit", "duty_person", "duty_phone"]].tolist() for c in frame["code"] if old_by is not None and c in old_by.index}
        if scope:
            conn.execute(delete(regions_t).where(regions_t.c.level == level, regions_t.c.parent_code.in_(scope)))
        out = frame.drop(columns=["source_code"]).rename(columns={"parent": "parent_code"})
        out["level"] = level
        for k, col in enumerate(["duty_unit", "duty_person", "duty_phone"]):
            out[col] = [keep.get(c, [None] * 3)[k] for c in out["code"]]
        insert_frame(conn, regions_t, out)
        if removed:
            below = conn.execute(select(regions_t.c.code).where(regions_t.c.parent_code.in_(removed))).scalars().all() if level != "village" \
                else conn.execute(select(grids_t.c.code).where(grids_t.c.village_code.in_(removed))).scalars().all()
            if below:
                notes.append(f"{len(below)} 个下级单位的上级已不在新边界中（未删除，请重新导入下一级边界）")
    if removed:
        notes.append(f"重新导入替换了 {len(scope)} 个上级下的{LEVEL_NAMES[level]}：{len(removed)} 个旧单位不在新文件中，已移除")
    rejects = [(label[i], reasons[i]) for i in range(n) if reasons[i]]
    rep = BoundaryReport(level, n, inserted, updated, unchanged, len(rejects), removed, orphan_n, orphan_ids, notes, rejects)
    attrs = gdf.drop(columns=gdf.geometry.name)
    rep.raws = [{k: (None if pd.isna(v) else str(v)) for k, v in attrs.iloc[i].items()} for i in range(n) if reasons[i]]
    assert rep.read == rep.inserted + rep.updated + rep.unchanged + rep.rejected
    return rep
