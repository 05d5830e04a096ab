"""Any filtered case list as Open311 GeoReport v2 service requests (JSON array or CSV).

Why: Open311 is the one open format for citizen service requests, so cases can travel to and from other
systems. What Open311 has no field for (grid code, source, resolution level, satisfaction, major flag,
dispatch and close times) goes under ``extended_attributes``; data_access.imports.open311 reads it back.
Like every export, personal data is masked (the description) and formulas are defused unless ``unmask``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from data_access import case_list
from data_access.imports.open311 import load_config
from .safety import sanitize_frame

TZ = "+08:00"


def _iso(v) -> str | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%dT%H:%M:%S") + TZ


def _points(conn: Connection, ids: list[str]) -> dict[str, tuple]:
    stmt = text("SELECT id, lon, lat FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    out = {}
    for i in range(0, len(ids), 900):
        out.update({r[0]: (r[1], r[2]) for r in conn.execute(stmt, {"ids": ids[i:i + 900]})})
    return out


def requests(conn: Connection, chunk: pd.DataFrame, unmask: bool = False) -> list[dict]:
    """One case-list chunk (data_access.case_list.frame) as Open311 request objects."""
    cfg = load_config()
    df = sanitize_frame(chunk, {"description": "text", "citizen_name": "name", "citizen_phone": "phone"}, unmask=unmask)
    pts = _points(conn, chunk["id"].tolist())
    out = []
    for r in df.itertuples(index=False):
        lon, lat = pts.get(r.id, (None, None))
        closed = r.status == "closed"
        names = [n for n in (r.county_name, r.township_name, r.village_name, r.grid_name) if isinstance(n, str)]
        out.append({
            "service_request_id": r.id,
            "status": "closed" if closed else "open",
            "status_notes": {"reported": "已受理", "dispatched": "处置中", "closed": "已办结", "reopened": "重新打开"}.get(r.status, r.status),
            "service_name": r.category,
            "service_code": cfg.code_for(r.category),
            "description": None if pd.isna(r.description) else r.description,
            "agency_responsible": None if pd.isna(r.handling_unit) else r.handling_unit,
            "requested_datetime": _iso(r.reported_at),
            "updated_datetime": _iso(r.closed_at if closed else (r.dispatched_at if pd.notna(r.dispatched_at) else r.reported_at)),
            "expected_datetime": _iso(r.deadline),
            "address": "".join(names) or None,
            "lat": None if lat is None or pd.isna(lat) else float(lat),
            "long": None if lon is None or pd.isna(lon) else float(lon),
            "media_url": None,
            "extended_attributes": {
                "grid_code": r.grid_code, "source": r.source, "category": r.category,
                "dispatched_datetime": _iso(r.dispatched_at), "closed_datetime": _iso(r.closed_at),
                "resolution_level": None if pd.isna(r.resolution_level) else r.resolution_level,
                "satisfaction": None if pd.isna(r.satisfaction) else int(r.satisfaction),
                "is_major": bool(r.is_major),
            },
        })
    return out


def export_open311(conn: Connection, q: case_list.CaseQuery, target: str | Path, *, unmask: bool = False,
                   as_csv: bool = False) -> int:
    """Write the cases of ``q`` to ``target`` (JSON array, or CSV with flattened extended_attributes.*)."""
    n = 0
    with open(target, "w", encoding="utf-8-sig" if as_csv else "utf-8", newline="") as f:
        if not as_csv:
            f.write("[")
        for chunk in case_list.iter_chunks(conn, q):
            reqs = requests(conn, chunk, unmask)
            if as_csv:
                pd.json_normalize(reqs).to_csv(f, index=False, header=n == 0)
            else:
                for r in reqs:
                    f.write(("," if n else "") + "\n" + json.dumps(r, ensure_ascii=False))
                    n += 1
                continue
            n += len(reqs)
        if not as_csv:
            f.write("\n]\n")
    return n
