"""An empty city: the real city and county outlines only, no townships, villages, grids or cases.

Why: a county that brings its own map starts here (``python -m sample_data --city 丽水市 --empty``), then
imports its township, village and grid boundaries (``python -m data_access boundaries``) and its cases.
"""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from data_access import meta as meta_store
from data_access import migrate
from data_access.schema import (case_rollup, case_rollup_all, case_rollup_day, case_rollup_res, cases as cases_t,
                                grids as grids_t, regions)
from data_access.writes import insert_frame
from .build import BuildResult, _region_frame
from .counties import load_city
from .geography import Unit


def build_empty(engine: Engine, city: str) -> BuildResult:
    """Replace the database's contents with ``city`` and its counties (real outlines, population 0)."""
    t0 = time.perf_counter()
    the_city = load_city(city)
    rng = np.random.default_rng(0)
    counties = [Unit(c.code, c.name, "county", the_city.code, c.geometry) for c in the_city.counties]
    city_unit = Unit(the_city.code, the_city.name, "city", the_city.code[:2] + "0" * 10, the_city.geometry)
    rows = _region_frame([city_unit, *counties], rng, "委政法委")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        for table in (case_rollup_res, case_rollup_all, case_rollup_day, case_rollup, cases_t, grids_t, regions):
            conn.execute(delete(table))
        insert_frame(conn, regions, rows)
        today = dt.date.today()
        meta_store.write(conn, {
            "city": the_city.name, "city_code": the_city.code, "seed": "", "years": "0", "cases": "0",
            "start": today.replace(day=1).isoformat(), "end": today.isoformat(),
            "built_at": dt.datetime.now().isoformat(timespec="seconds"), "struggling_townships": "", "empty": "1",
        })
        meta_store.bump_version(conn)
    return BuildResult(the_city.name, len(rows), 0, 0, time.perf_counter() - t0)
