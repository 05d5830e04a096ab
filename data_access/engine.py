"""The database connection: one engine per DATABASE_URL, SQLite by default.

Default: ``sqlite:///<project>/data/yiping.db`` (git-ignored, built on first run).
Production: ``DATABASE_URL=postgresql+psycopg://user@host:5432/db``.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{PROJECT_DIR / 'data' / 'yiping.db'}"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message is for people (Chinese)."""


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def get_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: DATABASE_URL), shared per process.

    The URL is resolved before the cache, so a changed DATABASE_URL gets its own engine."""
    return _engine(url or database_url())


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"数据库地址 DATABASE_URL 格式不正确：{url}（{exc}）") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # psycopg 3 prepares a statement on the server after 5 runs, and PostgreSQL then switches to a generic
        # plan that ignores the code-range and day parameters: the same township view got 2-3x slower after a
        # few minutes of use (benchmarks/RESULTS.md). Plan every query for its own parameters instead.
        args = {"prepare_threshold": None} if parsed.get_driver_name() == "psycopg" else {}
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=args)
    return engine


get_engine.cache_clear = _engine.cache_clear  # type: ignore[attr-defined]


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def check(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a Chinese message if the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnavailable(
            f"无法连接数据库 {safe_url(str(engine.url))}：{reason}。请检查 DATABASE_URL 与数据库服务是否已启动。"
        ) from exc
