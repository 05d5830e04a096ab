"""Build a whole sample city into a database: regions, grids, cases, rollups.

``build(engine, city="丽水市", years=3, cases=..., seed=7)`` is what both the CLI
(``python -m sample_data``) and the app's first run call. Same arguments, same data.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from data_access import meta as meta_store
from data_access import migrate, rollup
from data_access.schema import (case_rollup, case_rollup_all, case_rollup_day, case_rollup_res, cases as cases_t,
                                grids as grids_t, regions, village_year)
from data_access.writes import derive_columns, insert_frame
from .cases import generate_cases
from .counties import load_city
from .geography import Unit, build_hierarchy, sample_points
from .names import mobile_numbers, person_names
from .performance import paces
from .village_year import village_year_rows

#: What the app builds on first run (about 40 s on a 2-core machine; see README).
DEFAULTS = {"city": "丽水市", "years": 3, "cases": 300_000, "seed": 7}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class BuildResult:
    city: str
    regions: int
    grids: int
    cases: int
    seconds: float


def _noop(_f: float, _m: str) -> None:
    pass


def pick_struggling(rng: np.random.Generator, units: dict[str, list[Unit]]) -> tuple[set[str], set[str]]:
    """A few chronically struggling townships (up to three in one rural county, never more than a quarter of a
    county's townships) and villages."""
    rural = [c for c in units["county"] if not c.urban] or units["county"]
    county = rural[int(rng.integers(len(rural)))]
    towns = [t for t in units["township"] if t.parent_code == county.code]
    others = [t for t in units["township"] if t.parent_code != county.code]
    bad_t = {t.code for t in rng.choice(towns, max(1, min(3, len(towns) // 4)), replace=False)}
    if others:
        # Two more, in two other counties (one each), where a county has four townships or more.
        for code in rng.permutation(sorted({t.parent_code for t in others})):
            theirs = [t for t in others if t.parent_code == code]
            if len(theirs) >= 4 and len(bad_t) < 5:
                bad_t.add(theirs[int(rng.integers(len(theirs)))].code)
    # Struggling villages elsewhere: one per township at most, only in townships with eight villages or more and
    # outside the struggling townships (whose own villages sample_data.performance picks), so that a township's
    # red villages stay below a quarter.
    per_town: dict[str, list[Unit]] = {}
    for v in units["village"]:
        per_town.setdefault(v.parent_code, []).append(v)
    towns_ok = sorted(t for t, vs in per_town.items() if len(vs) >= 8 and t not in bad_t)
    n = min(len(towns_ok), max(1, len(units["village"]) // 150))
    picked = rng.choice(len(towns_ok), n, replace=False) if n else []
    bad_v = {per_town[towns_ok[i]][int(rng.integers(len(per_town[towns_ok[i]])))].code for i in picked}
    return bad_t, bad_v


def _region_frame(units: list[Unit], rng: np.random.Generator, duty_suffix: str) -> pd.DataFrame:
    labels = [u.geometry.representative_point() for u in units]
    n = len(units)
    return pd.DataFrame({
        "code": [u.code for u in units],
        "name": [u.name for u in units],
        "level": [u.level for u in units],
        "parent_code": [u.parent_code for u in units],
        "population": [int(u.population) for u in units],
        "geometry": [shapely.to_wkb(u.geometry) for u in units],
        "label_lon": [p.x for p in labels],
        "label_lat": [p.y for p in labels],
        "duty_unit": [u.name + (duty_suffix if u.level != "village" else ("居委会" if u.urban else "村委会")) for u in units],
        "duty_person": person_names(rng, n),
        "duty_phone": mobile_numbers(rng, n),
    })


def village_table(seed: int, villages: list[Unit], struggling: set[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    """The yearly village table (村社年度表) for every year the cases cover (sample_data.village_year)."""
    frame = pd.DataFrame({"code": [v.code for v in villages], "population": [v.population for v in villages],
                          "urban": [v.urban for v in villages], "struggling": [v.code in struggling for v in villages]})
    return village_year_rows(seed, frame, list(range(start.year, end.year + 1)))


def build(engine: Engine, city: str = DEFAULTS["city"], years: int = DEFAULTS["years"],
          cases: int = DEFAULTS["cases"], seed: int = DEFAULTS["seed"], end: dt.date | None = None,
          progress: Progress = _noop) -> BuildResult:
    """Replace the database's contents with a generated sample city. Raises UnknownCity."""
    t0 = time.perf_counter()
    now = dt.datetime.now().replace(microsecond=0)
    end = end or now.date()
    start = dt.date(end.year - years, end.month, 1) if years > 0 else end.replace(day=1)
    rng = np.random.default_rng(seed)
    progress(0.02, f"读取{city}真实县级边界")
    the_city = load_city(city)
    progress(0.05, "生成乡镇（街道）、村（社区）与网格")
    units = build_hierarchy(the_city, rng)
    bad_t, bad_v = pick_struggling(rng, units)
    pace, bad_v = paces(seed, units, bad_t, bad_v)
    city_unit = Unit(the_city.code, the_city.name, "city", the_city.code[:2] + "0" * 10, the_city.geometry,
                     sum(c.population for c in units["county"]), True)
    region_rows = pd.concat([
        _region_frame([city_unit], rng, "委政法委"),
        _region_frame(units["county"], rng, "委政法委"),
        _region_frame(units["township"], rng, "综治中心"),
        _region_frame(units["village"], rng, ""),
    ], ignore_index=True)
    town_names = {t.code: t.name for t in units["township"]}
    village_names = {v.code: v.name for v in units["village"]}
    grid_units = units["grid"]
    grid_rows = pd.DataFrame({
        "code": [g.code for g in grid_units],
        "name": [g.name for g in grid_units],
        "village_code": [g.parent_code for g in grid_units],
        "population": [g.population for g in grid_units],
        "geometry": [shapely.to_wkb(g.geometry) for g in grid_units],
        "label_lon": [g.geometry.representative_point().x for g in grid_units],
        "label_lat": [g.geometry.representative_point().y for g in grid_units],
        "worker_name": [g.extra["worker_name"] for g in grid_units],
        "worker_phone": [g.extra["worker_phone"] for g in grid_units],
    })
    progress(0.12, f"生成 {cases:,} 条事件")
    gen = grid_rows[["code", "village_code", "population"]].copy()
    gen["township_code"] = gen["village_code"].str[:9] + "000"
    gen["county_code"] = gen["village_code"].str[:6] + "000000"
    gen["urban"] = [g.urban for g in grid_units]
    gen["pace"] = gen["village_code"].map(pace).fillna(1.0)
    gen["struggling"] = gen["village_code"].isin(bad_v)
    gen["township_name"] = gen["township_code"].map(town_names)
    gen["village_name"] = gen["village_code"].map(village_names)
    gen["points"] = [sample_points(rng, g.geometry, 24) for g in grid_units]
    # Built today: nothing later than this moment (issue 13: the ticker showed 23:51 at 20:21).
    case_rows = derive_columns(generate_cases(rng, gen, cases, start, end, bad_t, bad_v,
                                              until=now if end == now.date() else None))

    migrate.upgrade(engine)
    with engine.begin() as conn:
        progress(0.30, "写入区划与网格")
        for table in (case_rollup_res, case_rollup_all, case_rollup_day, case_rollup, cases_t, grids_t, regions,
                      village_year):
            conn.execute(delete(table))
        insert_frame(conn, regions, region_rows)
        insert_frame(conn, grids_t, grid_rows)
        insert_frame(conn, village_year, village_table(seed, units["village"], bad_v, start, end))
        # Bulk load: indexes are built once at the end, which is several times faster than row by row.
        for index in cases_t.indexes:
            index.drop(conn, checkfirst=True)
        chunk = 50_000
        for i in range(0, len(case_rows), chunk):
            insert_frame(conn, cases_t, case_rows.iloc[i:i + chunk])
            progress(0.30 + 0.45 * min(1.0, (i + chunk) / max(1, len(case_rows))),
                     f"写入事件 {min(i + chunk, len(case_rows)):,} / {len(case_rows):,}")
        progress(0.77, "建立索引")
        for index in cases_t.indexes:
            index.create(conn)
        progress(0.90, "计算汇总表")
        rollup.refresh(conn)
        meta_store.write(conn, {
            "city": the_city.name, "city_code": the_city.code, "seed": str(seed), "years": str(years),
            "cases": str(len(case_rows)), "start": start.isoformat(), "end": end.isoformat(),
            "built_at": dt.datetime.now().isoformat(timespec="seconds"),
            "struggling_townships": ",".join(sorted(bad_t)),
        })
        meta_store.bump_version(conn)
        from .demo_users import create as create_demo_users
        first_county = min(c.code for c in units["county"])
        first_town = min(t.code for t in units["township"] if t.code.startswith(first_county[:6]))
        create_demo_users(conn, the_city.code, first_county, first_town)
    if engine.dialect.name == "postgresql":
        # VACUUM sets the visibility map, without which PostgreSQL cannot use index-only scans.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cases")
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    progress(1.0, "完成")
    return BuildResult(the_city.name, len(region_rows), len(grid_rows), len(case_rows), time.perf_counter() - t0)


def is_built(engine: Engine) -> bool:
    """True when the database holds regions (the app then skips the first-run build)."""
    from sqlalchemy import inspect
    if "regions" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(regions)).scalar())
