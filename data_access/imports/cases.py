"""Cases as a table kind: synonyms, row validation with reasons naming the file's columns, versioned upsert.

Why these rules: a case is written only if every stored value fits its column on BOTH databases (lengths,
no NUL: PostgreSQL refuses what SQLite silently keeps), its times are plausible, its grid is known (by
code, by the county's own code, or by its point), and it is not older than what is stored: a later
``更新时间`` wins, an earlier one does not overwrite, and a row equal to the stored one is ``unchanged``
(so re-importing a file changes nothing). A row whose grid code and point disagree is accepted by its code
and listed in the run's details.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, DateTime, Float, Integer, String, bindparam, select, text
from sqlalchemy.engine import Connection

from analytics.indicators import BASICALLY_SATISFIED, SATISFIED, UNSATISFIED
from .. import meta, rollup
from ..schema import cases as cases_t, grids as grids_t
from ..writes import derive_columns, insert_frame
from . import coords as coords_mod
from . import values as v
from .columns import Mapping, coalesce, fail

SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("事件编号", "工单编号", "编号", "service_request_id"),
    "category": ("事件类别", "类别", "事件类型"),
    "source": ("事件来源", "来源", "渠道"),
    "grid_code": ("网格编码", "网格代码", "网格编号"),
    "lon": ("经度", "longitude", "long", "lng", "x坐标"),
    "lat": ("纬度", "latitude", "y坐标"),
    "reported_at": ("上报时间", "受理时间", "requested_datetime"),
    "dispatched_at": ("派遣时间",),
    "closed_at": ("办结时间",),
    "deadline": ("办理时限", "截止时间", "expected_datetime"),
    "status": ("状态", "事件状态"),
    "resolution_level": ("化解层级", "办结层级"),
    "satisfaction": ("满意度",),
    "is_major": ("重大事件",),
    "handling_unit": ("承办单位", "agency_responsible"),
    "description": ("事件描述", "描述"),
    "citizen_name": ("群众姓名", "姓名"),
    "citizen_phone": ("联系电话", "电话"),
    "updated_at": ("更新时间", "最后更新时间", "updated_datetime"),
}
#: What a reason calls a field the file does not have.
NAMES = {f: s[0] for f, s in SYNONYMS.items()}
STATUS = {"已受理": "reported", "处置中": "dispatched", "已派遣": "dispatched", "已办结": "closed",
          "重新打开": "reopened", "reported": "reported", "dispatched": "dispatched", "closed": "closed",
          "reopened": "reopened", "open": "dispatched"}
SATISFACTION = {"满意": SATISFIED, "基本满意": BASICALLY_SATISFIED, "不满意": UNSATISFIED,
                "3": SATISFIED, "2": BASICALLY_SATISFIED, "1": UNSATISFIED}
LEVELS = {"村": "村", "社区": "村", "村（社区）": "村", "镇": "镇", "乡镇": "镇", "街道": "镇", "县": "县", "区": "县", "市": "市"}
TRUE = {"是", "1", "true", "True", "TRUE", "Y", "y"}
TIMES = ("reported_at", "dispatched_at", "closed_at", "deadline", "updated_at")
TEXTS = ("id", "category", "source", "handling_unit", "description", "citizen_name", "citizen_phone")
#: China's extent (lon, lat): points outside are typing errors or swapped columns.
CHINA = (73.0, 136.0, 3.0, 54.0)
#: Stored columns compared to decide 'unchanged' (the derived ones follow from these).
COMPARED = ("category", "source", "grid_code", "lon", "lat", "reported_at", "dispatched_at", "closed_at", "deadline",
            "status", "resolution_level", "satisfaction", "is_major", "handling_unit", "description",
            "citizen_name", "citizen_phone", "updated_at")
ID_BATCH = 900


def max_length(col: str) -> int | None:
    t = cases_t.c[col].type
    return t.length if isinstance(t, String) else None


@dataclass
class Context:
    grids: dict[str, str]
    coords: str | None
    conn: Connection | None = None
    shapes: object = None  # GeoDataFrame of grid polygons, loaded on the first row with a point
    seen: dict[str, str] = field(default_factory=dict)
    months: set[int] = field(default_factory=set)
    mismatches: list[dict] = field(default_factory=list)
    mismatch_count: int = 0
    cleaned: dict[str, int] = field(default_factory=dict)


class CaseKind:
    name = "cases"
    synonyms = SYNONYMS
    personal = {"citizen_name": "name", "citizen_phone": "phone", "description": "text", "handling_unit": "text"}

    def missing(self, m: Mapping) -> list[str]:
        need = ["id", "category", "source", "reported_at", "deadline"]
        out = [NAMES[f] for f in need if f not in m.sources]
        if "grid_code" not in m.sources and not ("lon" in m.sources and "lat" in m.sources):
            out.append("网格编码（或 经度/纬度）")
        return out

    def begin(self, conn: Connection, options: dict) -> Context:
        known: dict[str, str] = {}
        for code, src in conn.execute(select(grids_t.c.code, grids_t.c.source_code)):
            known[code] = code
            if src:
                known.setdefault(src, code)
                known.setdefault(src.lstrip("0"), code)  # a local code that lost its leading zeros
        coords = options.get("coords")
        if coords not in coords_mod.KINDS + (None,):
            raise ValueError(f"未知的坐标类型 {coords!r}")
        return Context(known, coords, conn)

    # ---- validation ----
    def validate(self, rows: pd.DataFrame, m: Mapping, reasons: pd.Series, ctx: Context) -> pd.DataFrame:
        def h(f: str) -> str:
            return m.header(f) if f in m.sources else NAMES[f]

        raw = {f: coalesce(rows, m, f, reasons) for f in SYNONYMS}
        for f, heads in m.sources.items():
            for head in heads:
                fail(reasons, rows[head].str.contains("\x00", regex=False), f"{head} 含空字符（NUL），该行可能已损坏")
        out = pd.DataFrame(index=rows.index)
        out["id"] = v.nfkc(v.text(raw["id"]))
        fail(reasons, out["id"].eq(""), f"{h('id')} 为空")
        for f in ("category", "source"):
            cleaned, n = v.strip_zero_width(raw[f].astype(str))
            if n:
                ctx.cleaned[h(f)] = ctx.cleaned.get(h(f), 0) + n
            out[f] = cleaned.str.strip()
            fail(reasons, out[f].eq(""), f"{h(f)} 为空")
        for f in ("handling_unit", "description", "citizen_name", "citizen_phone"):
            out[f] = v.text(raw[f]).replace({"": None})
        for f in TEXTS:
            n = max_length(f)
            if n:
                lengths = out[f].fillna("").str.len()
                fail(reasons, lengths > n, lambda i, f=f, n=n: f"{h(f)} 长度 {lengths[i]} 超过 {n} 个字符")
        max_year = v.this_year() + 1
        for f in TIMES:
            out[f], problem = v.times(raw[f], max_year if f != "deadline" else max_year + 10)
            fail(reasons, problem.eq("bad"), lambda i, f=f: f"{h(f)}「{raw[f][i]}」不是有效时间")
            fail(reasons, problem.eq("range"),
                 lambda i, f=f: f"{h(f)}「{raw[f][i]}」超出合理范围（{v.MIN_YEAR}–{max_year if f != 'deadline' else max_year + 10} 年）")
        fail(reasons, out["reported_at"].isna(), f"{h('reported_at')} 为空")
        fail(reasons, out["deadline"].isna(), f"{h('deadline')} 为空")
        fail(reasons, out["closed_at"].notna() & (out["closed_at"] < out["reported_at"]),
             f"{h('closed_at')}早于{h('reported_at')}")
        fail(reasons, out["deadline"].notna() & (out["deadline"] < out["reported_at"]),
             f"{h('deadline')}早于{h('reported_at')}")
        status = v.text(raw["status"])
        out["status"] = status.map(STATUS)
        derived = out["closed_at"].notna().map({True: "closed", False: "dispatched"})
        out["status"] = out["status"].fillna(derived.where(status.eq(""), None))
        fail(reasons, out["status"].isna(), lambda i: f"{h('status')}「{status[i]}」无法识别")
        fail(reasons, out["status"].eq("closed") & out["closed_at"].isna(), f"{h('status')}为已办结但没有{h('closed_at')}")
        out.loc[out["status"].isin(["reported", "dispatched", "reopened"]), "closed_at"] = pd.NaT
        level = v.text(raw["resolution_level"])
        out["resolution_level"] = level.map(LEVELS)
        fail(reasons, level.ne("") & out["resolution_level"].isna(), lambda i: f"{h('resolution_level')}「{level[i]}」无法识别")
        sat = v.nfkc(v.text(raw["satisfaction"]))
        out["satisfaction"] = sat.map(SATISFACTION)
        fail(reasons, sat.ne("") & out["satisfaction"].isna(), lambda i: f"{h('satisfaction')}「{sat[i]}」无法识别")
        out["is_major"] = v.text(raw["is_major"]).isin(TRUE)
        self._place(raw, out, reasons, ctx, h)
        self._duplicates(out, rows, reasons, ctx, h)
        return out

    def _place(self, raw, out, reasons, ctx: Context, h) -> None:
        """Coordinates checked and converted; the grid from its code, or from the point."""
        lon, lp = v.numbers(raw["lon"])
        lat, tp = v.numbers(raw["lat"])
        for f, p in (("lon", lp), ("lat", tp)):
            fail(reasons, p.eq("bad"), lambda i, f=f: f"{h(f)}「{raw[f][i]}」不是数字")
            fail(reasons, p.eq("inf"), lambda i, f=f: f"{h(f)}「{raw[f][i]}」不是有限数值")
        fail(reasons, lon.notna() ^ lat.notna(), f"{h('lon')}与{h('lat')}须同时填写")
        has = lon.notna() & lat.notna()
        if has.any() and ctx.coords not in (None, "wgs84"):
            x, y = coords_mod.to_wgs84(lon[has].to_numpy(), lat[has].to_numpy(), ctx.coords)
            lon[has], lat[has] = x, y
        x0, x1, y0, y1 = CHINA
        outside = has & ~(lon.between(x0, x1) & lat.between(y0, y1))
        fail(reasons, outside, lambda i: f"{h('lon')}/{h('lat')}（{raw['lon'][i]}, {raw['lat'][i]}）不在中国范围内")
        out["lon"], out["lat"] = lon.where(~outside), lat.where(~outside)
        given = v.code(raw["grid_code"])
        sci = given.str.fullmatch(r"\d(\.\d+)?[eE]\+?\d+")
        fail(reasons, sci, lambda i: f"{h('grid_code')}「{raw['grid_code'][i]}」被写成了科学计数法，位数已丢失")
        grid = given.map(ctx.grids)
        lost = grid.isna() & given.str.fullmatch(r"\d{1,14}")
        if lost.any():  # a 15-digit code that lost leading zeros in a spreadsheet
            grid[lost] = given[lost].str.zfill(15).map(ctx.grids)
        fail(reasons, given.ne("") & grid.isna(), lambda i: f"{h('grid_code')}「{given[i]}」不存在")
        fail(reasons, given.eq("") & ~has, f"{h('grid_code')}为空，也没有{h('lon')}/{h('lat')}")
        check = has & reasons.eq("")
        if check.any():
            at = self._locate(out.loc[check, "lon"], out.loc[check, "lat"], ctx)
            if at is None:
                fail(reasons, check & given.eq(""), "库中网格没有边界，无法按经纬度确定网格")
            else:
                nowhere = at.isna()
                fail(reasons, check & nowhere.reindex(out.index, fill_value=False),
                     lambda i: f"{h('lon')}/{h('lat')}（{raw['lon'][i]}, {raw['lat'][i]}）不在本市任何网格内")
                fill = check & given.eq("") & at.notna().reindex(out.index, fill_value=False)
                grid[fill] = at[fill[fill].index]
                differ = check & given.ne("") & at.notna().reindex(out.index, fill_value=False)
                differ &= grid.ne(at.reindex(out.index))
                if differ.any():
                    ctx.mismatch_count += int(differ.sum())
                    for i in differ[differ].index[: max(0, 200 - len(ctx.mismatches))]:
                        ctx.mismatches.append({"id": out.at[i, "id"], "grid_code": grid[i], "point_grid": at[i]})
        out["grid_code"] = grid.fillna("")

    def _locate(self, lon: pd.Series, lat: pd.Series, ctx: Context) -> pd.Series | None:
        """The grid holding each point (NaN outside every grid); None when the grids have no shapes."""
        import geopandas as gpd
        import shapely
        if ctx.shapes is None:
            ctx.shapes = False
            rows = ctx.conn.execute(select(grids_t.c.code, grids_t.c.geometry).where(
                grids_t.c.geometry.is_not(None))).all()
            if rows:
                ctx.shapes = gpd.GeoDataFrame({"code": [r[0] for r in rows]},
                                              geometry=shapely.from_wkb([bytes(r[1]) for r in rows]), crs="EPSG:4326")
        if ctx.shapes is False:
            return None
        pts = gpd.GeoDataFrame(index=lon.index, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        hit = gpd.sjoin(pts, ctx.shapes, how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        return hit["code"].reindex(lon.index)

    def _duplicates(self, out, rows, reasons, ctx: Context, h) -> None:
        ok = reasons.eq("")
        ids = out.loc[ok, "id"]
        refs = rows.loc[ok, "__ref__"]
        first = ~ids.duplicated(keep="first")
        seen = ctx.seen  # a dict of every id so far: look up per row (Series.map(dict) would copy it per chunk)
        earlier = pd.Series([seen.get(i) for i in ids], index=ids.index, dtype=object)
        within = dict(zip(ids[first], refs[first]))
        dup_in = ~first
        prev = earlier.where(earlier.notna(), ids.map(within).where(dup_in))
        bad = prev.notna()
        fail(reasons, bad.reindex(reasons.index, fill_value=False),
             lambda i: f"{h('id')}「{out.at[i, 'id']}」与第 {prev[i]} 行重复（保留先出现的一行）")
        keep = ~bad
        ctx.seen.update(zip(ids[keep], refs[keep]))

    # ---- writing ----
    def write(self, conn: Connection, good: pd.DataFrame, ctx: Context):
        good = derive_columns(good)
        ids = good["id"].tolist()
        cols = ", ".join(("id", "month") + COMPARED)
        found = []
        stmt = text(f"SELECT {cols} FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
        for i in range(0, len(ids), ID_BATCH):
            found += conn.execute(stmt, {"ids": ids[i:i + ID_BATCH]}).all()
        late = pd.Series(dtype=object)
        if not found:
            insert_frame(conn, cases_t, good)
            ctx.months.update(good["month"].astype(int).unique().tolist())
            return len(good), 0, 0, late
        old = pd.DataFrame(found, columns=["id", "month", *COMPARED]).set_index("id")
        is_old = good["id"].isin(old.index)
        mine = good[is_old].set_index("id")
        theirs = old.loc[mine.index]
        newer_there = mine["updated_at"].notna() & theirs["updated_at"].notna() & (
            pd.to_datetime(mine["updated_at"]) < pd.to_datetime(theirs["updated_at"]))
        same = pd.Series(True, index=mine.index)
        for c in COMPARED:
            same &= _norm(mine[c], c).eq(_norm(theirs[c], c))
        label = pd.Series(good.index[is_old], index=mine.index)
        late = pd.Series([f"库中已有更新的版本（更新时间 {theirs.at[i, 'updated_at']}，本行 {mine.at[i, 'updated_at']}）"
                          for i in newer_there[newer_there].index], index=label[newer_there].values, dtype=object)
        change = ~same & ~newer_there
        changed_ids = list(change[change].index)
        for i in range(0, len(changed_ids), ID_BATCH):
            conn.execute(text("DELETE FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                         {"ids": changed_ids[i:i + ID_BATCH]})
        ctx.months.update(int(m) for m in theirs.loc[changed_ids, "month"])
        write = good[~is_old | good["id"].isin(changed_ids)]
        insert_frame(conn, cases_t, write)
        ctx.months.update(write["month"].astype(int).unique().tolist())
        unchanged = int((same & ~newer_there).sum())
        return int((~is_old).sum()), len(changed_ids), unchanged, late

    def finish(self, conn: Connection, ctx: Context) -> dict:
        months = sorted(ctx.months)
        if months:
            rollup.refresh(conn, months)
        meta.bump_version(conn)
        notes = [f"{head} 中 {n} 个值含零宽字符，已清除" for head, n in ctx.cleaned.items()]
        if ctx.mismatch_count:
            notes.append(f"{ctx.mismatch_count} 条事件的网格编码与经纬度所在网格不一致，已按网格编码导入（见明细）")
        return {"months": months, "mismatches": ctx.mismatches, "mismatch_count": ctx.mismatch_count, "notes": notes}


def _norm(s: pd.Series, col: str) -> pd.Series:
    """Values as comparable text, by the column's type: times to the second, numbers to 7 decimals,
    booleans as 0/1, missing as '' (SQLite hands back text and integers where pandas holds datetimes and bools)."""
    kind = cases_t.c[col].type
    if isinstance(kind, Boolean):
        return s.map(lambda x: "" if _missing(x) else str(int(bool(int(x)) if isinstance(x, str) else bool(x))))
    if isinstance(kind, DateTime):
        return pd.to_datetime(s.astype(object).where(s.notna(), None), errors="coerce", format="mixed") \
            .dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    if isinstance(kind, (Integer, Float)):
        return pd.to_numeric(s, errors="coerce").round(7).map(lambda x: "" if pd.isna(x) else repr(float(x)))
    return s.map(lambda x: "" if _missing(x) else str(x))


def _missing(x) -> bool:
    return x is None or x is pd.NaT or x is pd.NA or (isinstance(x, float) and np.isnan(x))
