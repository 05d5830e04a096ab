"""Apply the Alembic migrations in data_access/migrations (run automatically on start).

A database already at the newest revision is recognised with one query, without importing Alembic or
reading the migration scripts: that cost 0.2 s of the first page a freshly started server draws.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest revision in migrations/versions (tests/test_engine.py checks it against Alembic's own head).
HEAD = "0008"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    if current(engine) == HEAD:
        return
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(config(conn), "head")


def config(conn=None):
    """Alembic's configuration for our migrations (on ``conn`` when given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def current(engine: Engine) -> str | None:
    """The database's revision, or None (no Alembic table yet, or unreadable: then Alembic decides)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
