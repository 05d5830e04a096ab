"""The import log: one ``import_runs`` row per import and its rejected rows in ``import_rejects``.

Why in the database: a quarantine file beside an uploaded file is easy to lose and hard to find again;
the log says who imported which file (SHA-256) when, with every count, and keeps each rejected row with
its reason, so the 数据导入 page can show and hand them back long after.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from pathlib import Path

import pandas as pd
from sqlalchemy import desc, select, update
from sqlalchemy.engine import Connection, Engine

from ..schema import column_mappings, import_rejects, import_runs
from ..writes import insert_frame


def cli_user() -> str:
    try:
        return getpass.getuser() or "cli"
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def start(conn: Connection, kind: str, actor: str, path: Path, digest: str | None) -> int:
    res = conn.execute(import_runs.insert().values(
        kind=kind, actor=(actor or "cli")[:64], started_at=dt.datetime.now().replace(microsecond=0),
        file_name=Path(path).name[:255], sha256=digest, status="running"))
    return int(res.inserted_primary_key[0])


def finish(conn: Connection, run_id: int, *, status: str, read: int = 0, inserted: int = 0, updated: int = 0,
           rejected: int = 0, unchanged: int = 0, seconds: float = 0.0, message: str = "",
           details: dict | None = None) -> None:
    conn.execute(update(import_runs).where(import_runs.c.id == run_id).values(
        status=status, rows_read=read, inserted=inserted, updated=updated, rejected=rejected,
        unchanged=unchanged, seconds=round(seconds, 3), message=message,
        details=json.dumps(details or {}, ensure_ascii=False, default=str)))


def on_record(conn: Connection, actor: str, action: str, details: dict) -> None:
    """Also in the audit log when there is one (issue 15's data_access.audit), inside the same transaction."""
    try:
        from .. import audit
    except ImportError:
        return
    audit.record(conn, actor, action, details=details)


def failed(engine: Engine, kind: str, actor: str, path: Path, message: str, seconds: float) -> int:
    """Record a file that could not be read at all (its own transaction: nothing else was written)."""
    digest = sha256(path) if Path(path).exists() else None
    with engine.begin() as conn:
        run_id = start(conn, kind, actor, path, digest)
        finish(conn, run_id, status="failed", seconds=seconds, message=message)
        on_record(conn, actor, f"import:{kind}", {"run": run_id, "file": Path(path).name, "status": "failed",
                                                  "error": message})
    return run_id


def add_rejects(conn: Connection, run_id: int, first_seq: int, refs: list[str], raws: list[dict],
                reasons: list[str]) -> int:
    """Append rejected rows; returns the next sequence number."""
    if not refs:
        return first_seq
    df = pd.DataFrame({
        "run_id": run_id, "seq": range(first_seq, first_seq + len(refs)), "row_ref": [r[:64] for r in refs],
        "raw": [json.dumps(r, ensure_ascii=False) for r in raws], "reason": reasons,
    })
    insert_frame(conn, import_rejects, df)
    return first_seq + len(refs)


def runs(conn: Connection, limit: int = 50) -> pd.DataFrame:
    cols = [c for c in import_runs.c if c.name != "details"]
    rows = conn.execute(select(*cols).order_by(desc(import_runs.c.id)).limit(limit)).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in cols])


def run(conn: Connection, run_id: int) -> dict:
    row = conn.execute(select(import_runs).where(import_runs.c.id == run_id)).mappings().one()
    out = dict(row)
    out["details"] = json.loads(out["details"] or "{}")
    return out


def rejects(conn: Connection, run_id: int, limit: int | None = None) -> pd.DataFrame:
    """The run's rejected rows: 行号, 错误原因, then the file's own columns as they were."""
    q = select(import_rejects.c.row_ref, import_rejects.c.reason, import_rejects.c.raw).where(
        import_rejects.c.run_id == run_id).order_by(import_rejects.c.seq)
    if limit:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    raw = pd.DataFrame([json.loads(r[2] or "{}") for r in rows])
    head = pd.DataFrame({"行号": [r[0] for r in rows], "错误原因": [r[1] for r in rows]})
    return pd.concat([head, raw], axis=1) if len(raw.columns) else head


# ---- saved column mappings ----

def save_mapping(engine: Engine, name: str, kind: str, mapping: dict[str, str], user: str) -> None:
    with engine.begin() as conn:
        conn.execute(column_mappings.delete().where(column_mappings.c.name == name))
        conn.execute(column_mappings.insert().values(
            name=name[:64], kind=kind, mapping=json.dumps(mapping, ensure_ascii=False), saved_by=user[:64],
            saved_at=dt.datetime.now().replace(microsecond=0)))


def mappings(conn: Connection, kind: str = "cases") -> dict[str, dict[str, str]]:
    rows = conn.execute(select(column_mappings.c.name, column_mappings.c.mapping).where(
        column_mappings.c.kind == kind).order_by(column_mappings.c.name)).all()
    return {n: json.loads(m) for n, m in rows}
