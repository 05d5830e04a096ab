"""Open311 GeoReport v2: cases → JSON (python -m data_access export --format open311) → a new database gives
the same indicators; an Open311 file from elsewhere maps service codes through config/open311.toml."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import text

from data_access import queries, rollup
from data_access.engine import get_engine
from data_access.imports import runlog
from data_access.imports.open311 import import_open311
from data_access.view import View

from .conftest import AS_OF

COUNTY = "331102000000"


def test_round_trip_through_open311_keeps_every_indicator(small_sqlite, tmp_path, capsys):
    from data_access.__main__ import main
    out = tmp_path / "requests.json"
    assert main(["export", "--region", COUNTY, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "open311",
                 "-o", str(out), "--as-of", "2026-11-01 00:00", "--database-url", str(small_sqlite.url)]) == 0
    reqs = json.loads(out.read_text(encoding="utf-8"))
    assert len(reqs) > 50 and {"service_request_id", "status", "requested_datetime", "lat", "long"} <= set(reqs[0])
    assert all(r["status"] in ("open", "closed") for r in reqs)
    # a new database: a copy of the city without any cases, then the Open311 file imported
    copy = tmp_path / "new.db"
    with small_sqlite.connect() as conn:
        conn.exec_driver_sql(f"VACUUM INTO '{copy}'")
    new = get_engine(f"sqlite:///{copy}")
    with new.begin() as conn:
        conn.execute(text("DELETE FROM cases"))
        rollup.refresh(conn)
    rep = import_open311(new, out, user="交换")
    assert (rep.read, rep.inserted, rep.rejected) == (len(reqs), len(reqs), 0)
    view = View(COUNTY, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    with small_sqlite.connect() as a, new.connect() as b:
        before = queries.indicator_table(a, view, AS_OF)
        after = queries.indicator_table(b, view, AS_OF)
    pd.testing.assert_frame_equal(before, after)
    # and again: nothing changes
    again = import_open311(new, out)
    assert (again.unchanged, again.inserted, again.updated) == (len(reqs), 0, 0)


def test_foreign_open311_csv_maps_service_codes(small_sqlite, tmp_path):
    with small_sqlite.connect() as conn:
        lon, lat = conn.execute(text("SELECT label_lon, label_lat FROM grids ORDER BY code LIMIT 1")).one()
    path = tmp_path / "311.csv"
    pd.DataFrame([
        {"service_request_id": "O311-1", "status": "open", "service_code": "noise", "service_name": "Noise complaint",
         "requested_datetime": "2026-03-05T01:00:00Z", "lat": lat, "long": lon, "description": "loud music"},
        {"service_request_id": "O311-2", "status": "closed", "service_code": "x-unknown", "service_name": "Graffiti",
         "requested_datetime": "2026-03-05T09:00:00+08:00", "updated_datetime": "2026-03-06T09:00:00+08:00",
         "expected_datetime": "2026-03-08T09:00:00+08:00", "lat": lat, "long": lon},
        {"service_request_id": "O311-3", "status": "pending", "service_code": "noise",
         "requested_datetime": "2026-03-05T09:00:00+08:00", "lat": lat, "long": lon},
    ]).to_csv(path, index=False)
    try:
        rep = import_open311(small_sqlite, path)
        assert (rep.read, rep.inserted, rep.rejected) == (3, 2, 1)
        with small_sqlite.connect() as conn:
            got = {r[0]: r[1:] for r in conn.execute(text(
                "SELECT id, category, source, status, reported_at, deadline, closed_at FROM cases WHERE id LIKE 'O311-%'"))}
            why = runlog.rejects(conn, rep.run_id)["错误原因"].tolist()
        assert got["O311-1"][:3] == ("治安", "Open311", "dispatched")
        assert str(got["O311-1"][3]).startswith("2026-03-05 09:00") and str(got["O311-1"][4]).startswith("2026-03-20 09:00")
        assert got["O311-2"][:3] == ("环境卫生", "Open311", "closed") and str(got["O311-2"][5]).startswith("2026-03-06 09:00")
        assert why == ["status「pending」无法识别"]
    finally:
        with small_sqlite.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE id LIKE 'O311-%'"))
            rollup.refresh(conn, [202603])
