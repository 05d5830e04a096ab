"""Shared fixtures: a small sample city in SQLite and in the local PostgreSQL.

PostgreSQL: TEST_DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test. Each test
session works in its own schema (dropped afterwards), so runs never see each other's rows. When no
server answers, the PostgreSQL variants skip with the reason; .ci/run makes sure one is up.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data_access.engine import get_engine  # noqa: E402
from data_access.scope import EVERYWHERE, Scope, trust_process  # noqa: E402
from sample_data.build import build  # noqa: E402

# Tests call data_access directly as the operator of the whole database (like the CLI); the pages always pass the
# signed-in user's own scope, and tests/test_auth*.py check that a user sees only their region.
trust_process(Scope("pytest", "admin", EVERYWHERE, via="cli"))
# The app under test (AppTest, the e2e server) runs without sign-in unless a test asks for it: a non-default
# database would otherwise show the sign-in form (tests/test_auth_pages.py and tests/e2e/test_auth.py sign in).
os.environ.setdefault("YIPING_AUTH", "off")

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: The small city every database test shares: one year of a real city, fixed end date.
SMALL = dict(city="丽水市", years=1, cases=20_000, seed=3, end=dt.date(2026, 10, 31))
AS_OF = dt.datetime(2026, 11, 1)


def _pg_schema_url() -> tuple[str, str]:
    schema = f"yp_test_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL URL bound to a fresh schema, or skip with the reason."""
    try:
        admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        if os.environ.get("CI") and os.environ.get("REQUIRE_POSTGRES", "1") == "1":
            pytest.fail(f"CI needs PostgreSQL at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); set TEST_DATABASE_URL")
    schema, url = _pg_schema_url()
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'small.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def small_db(request):
    """(engine, BuildResult) of the small sample city, once per database kind."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine = get_engine(url)
    result = build(engine, **SMALL)
    return engine, result


@pytest.fixture(scope="session")
def small_sqlite(sqlite_url):
    """The small city in SQLite only (for tests that need one database, e.g. AppTest)."""
    engine = get_engine(sqlite_url)
    from sample_data.build import is_built
    if not is_built(engine):
        build(engine, **SMALL)
    return engine


@pytest.fixture(scope="session")
def default_sqlite(tmp_path_factory):
    """The app's default sample (what first run builds), with a fixed end date; ~30 s, for slow tests."""
    from sample_data.build import DEFAULTS
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('default') / 'default.db'}")
    build(engine, **DEFAULTS, end=DEFAULT_END)
    return engine


#: End date of the default-sample fixture: its last full month is October 2026.
DEFAULT_END = dt.date(2026, 11, 20)


@pytest.fixture
def across_scopes(small_sqlite, monkeypatch):
    """For tests of the process-wide memos (ui.data): the small city's first county's October 2026 View, an as-of
    time and data version, and ``as_user(which)`` to make the session a city ("city") or a township ("town") user.
    Streamlit's caches are cleared before and after."""
    import types

    import streamlit as st

    from data_access.view import View
    from ui import data

    monkeypatch.setenv("DATABASE_URL", str(small_sqlite.url))
    st.cache_data.clear()
    st.cache_resource.clear()
    with small_sqlite.connect() as conn:
        city = conn.execute(text("SELECT code FROM regions WHERE level = 'city'")).scalar()
        county, town = conn.execute(text(
            "SELECT parent_code, code FROM regions WHERE level = 'township' ORDER BY code LIMIT 1")).one()
    regions = {"city": ("leader", city), "town": ("town", town)}

    def as_user(which: str) -> None:
        name, code = regions[which]
        monkeypatch.setattr(data, "session_scope", lambda: Scope(name, "viewer", code, via="local"))

    yield types.SimpleNamespace(view=View(county, dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
                                at=dt.datetime(2026, 11, 1), version=data.data_version(), as_user=as_user)
    st.cache_data.clear()
    st.cache_resource.clear()
