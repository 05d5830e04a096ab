"""Key/value facts about the database (what was built, and a data version for cache invalidation)."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .schema import meta

VERSION_KEY = "data_version"


def write(conn: Connection, values: dict[str, str]) -> None:
    conn.execute(delete(meta).where(meta.c.key.in_(list(values))))
    conn.execute(meta.insert(), [{"key": k, "value": v} for k, v in values.items()])


def read(conn: Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute(select(meta.c.key, meta.c.value))}


def bump_version(conn: Connection) -> int:
    """Increase the data version; every cached query result is keyed by it, so writes invalidate."""
    current = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar()
    new = int(current or 0) + 1
    if current is None:
        conn.execute(meta.insert().values(key=VERSION_KEY, value=str(new)))
    else:
        conn.execute(update(meta).where(meta.c.key == VERSION_KEY).values(value=str(new)))
    return new


def version(conn: Connection) -> int:
    return int(conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar() or 0)
