"""The audit log: one appended row for every sign-in, export, import, unmasking, token use and user change.

``record`` writes inside the caller's transaction, so a write and its record commit (or fail) together.
The table is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE (migration 0004), on SQLite
the same trigger in SQLite's dialect. Details are JSON text; never put a password or a token in them.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .schema import audit_log

#: Actions written today (other branches may add their own names).
ACTIONS = ("login", "login_failed", "logout", "export", "import", "unmask", "token_use", "token_add",
           "token_revoke", "user_add", "user_disable", "user_password", "user_enable")
COLUMNS = ["id", "at", "actor", "action", "region", "details"]


def record(conn: Connection, actor: str, action: str, *, region: str | None = None,
           details: dict | None = None) -> None:
    """Append one row to ``audit_log`` (inside the caller's transaction)."""
    conn.execute(audit_log.insert().values(
        at=dt.datetime.now().replace(microsecond=0), actor=str(actor or "")[:64], action=str(action)[:32],
        region=region, details=json.dumps(details or {}, ensure_ascii=False, default=str, sort_keys=True)))


def read(conn: Connection, *, since: dt.datetime | dt.date | None = None, until: dt.datetime | dt.date | None = None,
         actor: str | None = None, action: str | None = None, limit: int | None = 10_000) -> pd.DataFrame:
    """Rows of the log, newest first, filtered by time (``until`` exclusive), actor and action."""
    t = audit_log.c
    stmt = select(t.id, t.at, t.actor, t.action, t.region, t.details).order_by(t.id.desc())
    if since is not None:
        stmt = stmt.where(t.at >= _start(since))
    if until is not None:
        stmt = stmt.where(t.at < _start(until))
    if actor:
        stmt = stmt.where(t.actor == actor)
    if action:
        stmt = stmt.where(t.action == action)
    if limit:
        stmt = stmt.limit(limit)
    return pd.DataFrame([tuple(r) for r in conn.execute(stmt)], columns=COLUMNS)


def _start(d: dt.datetime | dt.date) -> dt.datetime:
    return d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time())


def view_details(view, **extra) -> dict:
    """The filters of a View (and any page filters) as audit details."""
    out = {"region": view.region, "from": str(view.date_from), "to": str(view.date_to)}
    for name in ("categories", "sources", "statuses"):
        if getattr(view, name):
            out[name] = list(getattr(view, name))
    out.update({k: v for k, v in extra.items() if v not in (None, "", False, ())})
    return out
