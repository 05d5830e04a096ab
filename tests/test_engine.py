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
