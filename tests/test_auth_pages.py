"""Sign-in through the pages (AppTest, YIPING_AUTH=local), on SQLite and PostgreSQL.

A township viewer opens every page they may open with the URL naming their own township, a sibling
township, their county, another county's township and the city, and with a session View (a map or bar
click) naming another region: no page shows the name of any region outside their township (in text,
tables, charts or map payloads). Roles gate the export, import and admin pages (navigation and the pages'
own check), a user without a region or with an unknown role sees nothing, a revoked wall token stops the
wall, and the sign-in form counts failures and writes them to the audit log.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
import streamlit as st
from google.protobuf import text_format
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access import audit, tokens, users
from data_access.codes import code_range
from data_access.view import View

from .conftest import ROOT

VIEWER_PAGES = ["overview", "map", "cases", "warnings", "wall"]
PASSWORD = "page-test-password"


@pytest.fixture(scope="module")
def site(small_db):
    """The small city with a few accounts, served by AppTest in local sign-in mode."""
    engine, _ = small_db
    before = {k: os.environ.get(k) for k in ("DATABASE_URL", "YIPING_AUTH")}
    os.environ["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    os.environ["YIPING_AUTH"] = "local"
    st.cache_data.clear()
    st.cache_resource.clear()
    with engine.begin() as conn:
        county = conn.execute(text("SELECT MIN(code) FROM regions WHERE level='county'")).scalar()
        towns = conn.execute(text("SELECT code FROM regions WHERE parent_code=:c ORDER BY code"), {"c": county}).scalars().all()
        other_county = conn.execute(text("SELECT MAX(code) FROM regions WHERE level='county'")).scalar()
        other_town = conn.execute(text("SELECT MIN(code) FROM regions WHERE parent_code=:c"), {"c": other_county}).scalar()
        city = conn.execute(text("SELECT code FROM regions WHERE level='city'")).scalar()
        names = dict(conn.execute(text("SELECT code, name FROM regions")).all())
        town = towns[0]
        conn.execute(text("DELETE FROM users WHERE name LIKE 'pg-%'"))
        for name, role, region in (("pg-town", "viewer", town), ("pg-exporter", "exporter", town),
                                   ("pg-importer", "importer", county), ("pg-admin", "admin", city),
                                   ("pg-noregion", "viewer", None)):
            users.add(conn, name, PASSWORD, role, region)
        users.add(conn, "pg-oddrole", PASSWORD, "viewer", town)
        conn.execute(text("UPDATE users SET role = 'boss' WHERE name = 'pg-oddrole'"))
    lo, hi = code_range(town)
    inside = {n for c, n in names.items() if lo <= c < hi}
    outside = {n for c, n in names.items() if not lo <= c < hi} - inside
    yield {"engine": engine, "town": town, "sibling": towns[1], "county": county, "other_town": other_town,
           "city": city, "outside": outside, "town_name": names[town]}
    for k, v in before.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    st.cache_data.clear()
    st.cache_resource.clear()


def page_text(at: AppTest) -> str:
    """Every string the run sent to the browser: element protos (JSON payloads decoded) and table cells."""
    out: list[str] = []

    def strings(msg) -> None:
        for field, value in msg.ListFields():
            values = value if isinstance(value, (list, tuple)) or hasattr(value, "extend") else [value]
            for v in values:
                if isinstance(v, str):
                    out.append(v)
                    if v[:1] in "{[":
                        try:
                            out.append(json.dumps(json.loads(v), ensure_ascii=False))
                        except ValueError:
                            pass
                elif hasattr(v, "ListFields"):
                    strings(v)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            strings(proto)
            out.append(text_format.MessageToString(proto, as_utf8=True))
        if type(node).__name__ == "Dataframe":
            out.append(node.value.to_string())
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    return "\n".join(out)


def signed_in(user: str, page: str = "overview", **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["auth"] = {"user": user, "via": "local", "last": time.time()}
    at.query_params.update({"from": "2026-01-01", "to": "2026-10-31", **params})
    at.run()
    at.first_warnings = [w.value for w in at.warning]  # the URL is resolved (and refused) on the first run
    if page != "overview":
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


def leaks(at: AppTest, site) -> set[str]:
    body = page_text(at)
    return {name for name in site["outside"] if name in body}


@pytest.mark.slow
@pytest.mark.parametrize("page", VIEWER_PAGES)
def test_township_viewer_sees_no_other_region_on_any_page(site, page):
    for target in ("town", "sibling", "county", "other_town", "city"):
        at = signed_in("pg-town", page, region=site[target])
        assert not at.exception, [e.value for e in at.exception]
        assert not leaks(at, site), (page, target, leaks(at, site))
        body = page_text(at)
        assert site["town_name"] in body, (page, target)
        if target != "town":
            assert any(site[target] in w and "无权" in w for w in at.first_warnings), (page, target)


def test_a_map_or_bar_selection_naming_another_region_shows_nothing_of_it(site):
    """A session View (what a map click or a crafted selection payload sets) outside the scope falls back."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["auth"] = {"user": "pg-town", "via": "local", "last": time.time()}
    at.session_state["view"] = View(site["sibling"], dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    at.run()
    assert not at.exception
    assert not leaks(at, site)
    assert any(site["sibling"] in w.value for w in at.warning)
    at.switch_page("pages/map.py")
    at.session_state["view"] = View(site["other_town"], dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    at.query_params.clear()
    at.run()
    assert not at.exception and not leaks(at, site)
    assert any(site["other_town"] in e.value for e in at.error) or any(site["other_town"] in w.value for w in at.warning)


def test_township_exporter_data_page_stays_in_the_township(site):
    at = signed_in("pg-exporter", "data", region=site["county"])
    assert not at.exception
    assert not leaks(at, site)
    assert any("无权" in w for w in at.first_warnings)


@pytest.mark.parametrize("user,allowed,refused", [
    ("pg-town", ["overview", "wall"], ["data", "import", "admin"]),
    ("pg-exporter", ["data"], ["import", "admin"]),
    ("pg-importer", ["data", "import"], ["admin"]),
    ("pg-admin", ["data", "import", "admin"], []),
])
def test_roles_gate_pages(site, user, allowed, refused):
    for page in allowed:
        at = signed_in(user, page)
        assert not at.exception and not at.error, (user, page, [e.value for e in at.error])
    for page in refused:
        at = signed_in(user)
        with pytest.raises(ValueError):  # not in this role's navigation: no link, and no direct way in
            at.switch_page(f"pages/{page}.py")


def test_pages_refuse_a_role_below_theirs_even_if_reached(site, monkeypatch):
    """The pages' own check (defence in depth): reached with too small a role, they stop with a message."""
    from ui import auth
    monkeypatch.setattr(auth, "may_open", lambda scope, url_path: True)
    for page, needed in (("data", "exporter"), ("import", "importer"), ("admin", "admin")):
        at = signed_in("pg-town", page)
        assert any("不能使用此页面" in e.value for e in at.error), page
        assert not leaks(at, site)


@pytest.mark.parametrize("user", ["pg-noregion", "pg-oddrole"])
def test_no_region_or_unknown_role_sees_nothing(site, user):
    at = signed_in(user)
    assert any("不显示任何数据" in e.value for e in at.error)
    assert not at.metric and not at.dataframe
    assert not leaks(at, site) and site["town_name"] not in page_text(at)


def test_sign_in_form_failure_lock_and_success_are_on_record(site):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert [t.label for t in at.text_input] == ["用户名", "密码"] and not at.metric
    at.text_input(key="auth_name").input("pg-exporter")
    at.text_input(key="auth_password").input("wrong-password")
    at.button[0].click()
    at.run()
    assert any("用户名或密码不正确" in e.value for e in at.error)
    at.text_input(key="auth_name").input("pg-exporter")
    at.text_input(key="auth_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception and at.metric, [e.value for e in at.error]
    assert any("pg-exporter" in c.value for c in at.sidebar.caption)
    with site["engine"].connect() as conn:
        log = audit.read(conn, actor="pg-exporter")
    assert {"login", "login_failed"} <= set(log["action"])
    assert PASSWORD not in " ".join(log["details"]) and "wrong-password" not in " ".join(log["details"])
    at.sidebar.button(key="auth_sign_out").click()
    at.run()
    assert [t.label for t in at.text_input] == ["用户名", "密码"] and not at.metric


def test_idle_session_expires(site):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["auth"] = {"user": "pg-town", "via": "local", "last": time.time() - 24 * 3600}
    at.run()
    assert any("无操作" in i.value for i in at.info) and not at.metric


def test_wall_token_shows_its_region_and_stops_when_revoked(site):
    with site["engine"].begin() as conn:
        token_id, token = tokens.add(conn, site["town"], "测试大屏", "test")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"token": token})
    at.run()
    assert not at.exception and not at.error
    body = page_text(at)
    assert site["town_name"] in body and not leaks(at, site)
    with pytest.raises(ValueError):  # only the wall is reachable with a token
        at.switch_page("pages/data.py")
    with site["engine"].begin() as conn:
        tokens.revoke(conn, token_id)
    at.run()  # the next refresh
    assert any("令牌无效或已被吊销" in e.value for e in at.error)
    assert site["town_name"] not in page_text(at)
    with site["engine"].connect() as conn:
        assert "token_use" in set(audit.read(conn, actor=f"token:{token_id}")["action"])


def test_the_leak_detector_sees_names_a_wider_scope_may_see(site):
    """The control for the tests above: the city's admin on the county view does see other townships."""
    at = signed_in("pg-admin", region=site["county"])
    assert not at.exception and leaks(at, site)


def test_page_exports_are_on_record_with_their_row_count(site):
    """The 数据查询导出 page's download callables (ui.data) write who, filters, format and rows to the audit log,
    and export only the signed-in user's region (the callable keeps the Scope it was made with)."""
    from data_access.scope import Scope
    from ui import auth, data
    who = Scope("pg-exporter", "exporter", site["town"])
    st.session_state[auth.SCOPE] = who
    try:
        view = View(site["town"], dt.date(2026, 1, 1), dt.date(2026, 10, 31))
        q = data.case_query(view, dt.datetime(2026, 11, 1), 0, text="")
        n = data.case_count(q, 0)
        body = data.case_export(q, "csv", False, "测试")()
        st.session_state[auth.SCOPE] = Scope("pg-exporter", "exporter", site["sibling"])  # later runs change nothing
        report = data.report_export(View(site["town"], dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
                                    dt.datetime(2026, 11, 1), "测试")
    finally:
        del st.session_state[auth.SCOPE]
    assert body.decode("utf-8-sig").count("\n") == n + 1 and n > 0
    with site["engine"].connect() as conn:
        last = audit.read(conn, actor="pg-exporter", action="export").iloc[0]
    details = json.loads(last["details"])
    assert details["rows"] == n and details["format"] == "csv" and details["what"] == "cases"
    assert last["region"] == site["town"]
    with pytest.raises(Exception, match="不在您的权限范围内"):
        report()  # made while the scope named the sibling township: refused
