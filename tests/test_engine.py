"""The engine follows DATABASE_URL, and an unreachable database is one Chinese sentence."""
import pytest

from data_access.engine import DatabaseUnavailable, check, get_engine


def test_default_engine_follows_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    first = get_engine()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    second = get_engine()
    assert first.url.database.endswith("a.db") and second.url.database.endswith("b.db")
    assert get_engine() is second  # still shared per URL


def test_unreachable_database_is_a_chinese_message():
    eng = get_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable, match="无法连接数据库.*DATABASE_URL"):
        check(eng)


def test_malformed_url_names_the_setting():
    with pytest.raises(DatabaseUnavailable, match="DATABASE_URL 格式不正确"):
        get_engine("not a url at all")


def test_postgresql_plans_every_query_for_its_own_parameters(pg_url):
    """psycopg would prepare a statement run 5 times, and PostgreSQL would then reuse a generic plan that ignores
    the code range and period (2-3x slower views, benchmarks/RESULTS.md): nothing may be prepared."""
    from sqlalchemy import text
    with get_engine(pg_url).connect() as conn:
        for lo in range(8):
            conn.execute(text("SELECT COUNT(*) FROM pg_class WHERE oid > :lo"), {"lo": lo}).scalar()
        prepared = conn.execute(text("SELECT COUNT(*) FROM pg_prepared_statements")).scalar()
    assert prepared == 0


def test_migrate_head_is_alembics_head_and_a_fresh_database_reaches_it(tmp_path):
    """migrate.HEAD (the no-Alembic fast path on start) cannot drift from the newest migration script."""
    from alembic.script import ScriptDirectory

    from data_access import migrate
    assert ScriptDirectory.from_config(migrate.config()).get_current_head() == migrate.HEAD
    engine = get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.HEAD
    from sqlalchemy import inspect

    from data_access.schema import EARLY_COLUMNS, OPEN_COLUMNS
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("cases")}
    assert tuple(indexes["ix_cases_open"]) == OPEN_COLUMNS  # what the migrations build is what a fresh build has
    assert tuple(indexes["ix_cases_deadline"]) == EARLY_COLUMNS
    with engine.connect() as conn:  # partial on the closed cases, as schema.py says (revision 0008)
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'ix_cases_deadline'").scalar()
    assert "WHERE closed_at IS NOT NULL" in sql
    engine.dispose()
