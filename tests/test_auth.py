"""Region scope, accounts, tokens and the audit log in data_access, on SQLite and PostgreSQL.

A township viewer asks every data_access entry point for their own township, a sibling township, their
county and the city (the paths a URL parameter, a map selection or a crafted table row would take): only
their own subtree answers, everything else raises OutsideScope before any SQL runs. Scopes without a
region or with an unknown role, and calls without any scope in an untrusted process, get nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from data_access import audit, breakdowns, case_list, points, queries, scope as scope_mod, tokens, users, wall
from data_access.case_list import CaseQuery
from data_access.codes import code_range
from data_access.scope import NOBODY, OutsideScope, Scope
from data_access.view import View
from geo.boundaries import level_boundaries, view_shapes

from .conftest import AS_OF, ROOT

D0, D1 = dt.date(2026, 1, 1), dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def places(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        counties = conn.execute(text("SELECT code FROM regions WHERE level='county' ORDER BY code")).scalars().all()
        county = counties[0]
        towns = conn.execute(text("SELECT code FROM regions WHERE parent_code=:c ORDER BY code"), {"c": county}).scalars().all()
        other_county_town = conn.execute(text("SELECT MIN(code) FROM regions WHERE parent_code=:c"),
                                         {"c": counties[1]}).scalar()
        names = dict(conn.execute(text("SELECT code, name FROM regions")).all())
    return {"engine": engine, "city": queries.root_code(engine.connect()), "county": county, "town": towns[0],
            "sibling": towns[1], "other_county": counties[1], "other_county_town": other_county_town, "names": names}


def town_viewer(places) -> Scope:
    return Scope("town-viewer", "viewer", places["town"])


# --- the Scope value itself ---

def test_scope_allows_its_subtree_only():
    s = Scope("u", "viewer", "331102001000")
    assert s.allows("331102001000") and s.allows("331102001007") and s.allows("331102001007003")
    assert not s.allows("331102002000") and not s.allows("331102000000") and not s.allows("331100000000")
    assert not s.allows("33110200100") and not s.allows("") and not s.allows(None)
    assert s.narrow("331102001007") == "331102001007"
    with pytest.raises(OutsideScope, match="331102002000"):
        s.narrow("331102002000")


@pytest.mark.parametrize("bad", [NOBODY, Scope("u", "viewer", None), Scope("u", "superuser", "331100000000"),
                                 Scope("u", "viewer", "3311"), Scope("u", "", "331100000000")])
def test_no_region_or_unknown_role_allows_nothing(bad):
    assert not bad.valid
    assert not bad.allows("331100000000") and not bad.allows("331102001000")
    assert not bad.may("viewer")
    with pytest.raises(OutsideScope, match="不显示任何数据"):
        bad.narrow("331100000000")


def test_roles_include_the_ones_below():
    assert Scope("u", "admin", "331100000000").may("importer")
    assert Scope("u", "exporter", "331100000000").may("viewer")
    assert not Scope("u", "exporter", "331100000000").may("importer")
    assert not Scope("u", "viewer", "331100000000").may("exporter")


# --- every data_access entry point, for a township viewer ---

def entry_points(view: View, code: str, s: Scope):
    """(name, call) for every way into the data: each either answers for ``code`` or raises."""
    q = CaseQuery(view, AS_OF)
    return [
        ("indicator_table", lambda c: queries.indicator_table(c, view, AS_OF)),
        ("child_measures", lambda c: queries.child_measures(c, view, AS_OF)),
        ("open_overdue", lambda c: queries.open_overdue(c, view, AS_OF)),
        ("monthly", lambda c: queries.monthly(c, view, AS_OF)),
        ("region", lambda c: queries.region(c, code, s)),
        ("children", lambda c: queries.children(c, code, s)),
        ("by_dimensions", lambda c: breakdowns.by_dimensions(c, view, AS_OF)),
        ("by_dimension", lambda c: breakdowns.by_dimension(c, view, AS_OF, "category")),
        ("daily", lambda c: breakdowns.daily(c, view, AS_OF)),
        ("weekly", lambda c: breakdowns.weekly(c, view, AS_OF)),
        ("resolution_levels", lambda c: breakdowns.resolution_levels(c, view)),
        ("ageing", lambda c: breakdowns.ageing(c, view, AS_OF)),
        ("overdue_list", lambda c: breakdowns.overdue_list(c, view, AS_OF)),
        ("child_month_measures", lambda c: breakdowns.child_month_measures(c, view, AS_OF)),
        ("warning_history", lambda c: breakdowns.warning_history(c, code, 202610, AS_OF, scope=s)),
        ("duty_list", lambda c: breakdowns.duty_list(c, code, s)),
        ("case_count", lambda c: case_list.count(c, q)),
        ("case_page", lambda c: case_list.page(c, q, 0, 50)),
        ("case_chunks", lambda c: pd.concat(list(case_list.iter_chunks(c, q)))),
        ("case_points", lambda c: points.case_points(c, view, AS_OF)),
        ("shape_rows", lambda c: points.shape_rows(c, code, s)),
        ("level_rows", lambda c: points.level_rows(c, "village", code, s)),
        ("view_shapes", lambda c: view_shapes(c, code, s)),
        ("level_boundaries", lambda c: level_boundaries(c, "village", code, s)),
        ("latest_cases", lambda c: wall.latest_cases(c, code, D1, 12, 31, s)),
    ]


@pytest.mark.parametrize("target", ["sibling", "county", "city", "other_county", "other_county_town"])
def test_township_viewer_gets_nothing_outside(places, target):
    s = town_viewer(places)
    code = places[target]
    view = View(code, D0, D1, scope=s)
    with places["engine"].connect() as conn:
        for name, call in entry_points(view, code, s):
            with pytest.raises(OutsideScope, match=code):
                call(conn)
            assert name


def test_township_viewer_gets_their_own_township(places):
    """Every entry point answers for the own township, and nothing in the answer lies outside it."""
    s = town_viewer(places)
    town = places["town"]
    lo, hi = code_range(town)
    view = View(town, D0, D1, scope=s)
    with places["engine"].connect() as conn:
        results = {name: call(conn) for name, call in entry_points(view, town, s)}
        unscoped = queries.indicator_table(conn, View(town, D0, D1), AS_OF)  # the operator's view of the township
    table = results["indicator_table"]
    assert table["code"].map(lambda c: lo <= c < hi).all()
    # The top numbers of the township user's page are exactly the township's.
    assert int(table.iloc[0]["received"]) == int(unscoped.iloc[0]["received"]) > 0
    assert results["case_count"] > 0 and results["case_page"]["grid_code"].map(lambda c: lo <= c < hi).all()
    assert len(results["case_chunks"]) == results["case_count"]
    assert results["children"]["code"].map(lambda c: lo <= c < hi).all()
    shapes = results["shape_rows"]
    assert shapes["siblings"].empty  # no neighbouring township on the map
    assert results["view_shapes"].siblings.empty
    assert results["level_rows"]["code"].map(lambda c: lo <= c < hi).all()
    names = set(places["names"][c] for c in places["names"] if lo <= c < hi)
    assert set(results["latest_cases"]["township"]) <= names


def test_village_view_keeps_sibling_villages_inside_the_township(places):
    """Below the own region the map's faded neighbours stay (they are inside the scope)."""
    s = town_viewer(places)
    with places["engine"].connect() as conn:
        village = queries.children(conn, places["town"], s)["code"].iloc[0]
        rows = points.shape_rows(conn, village, s)
    lo, hi = code_range(places["town"])
    assert not rows["siblings"].empty and rows["siblings"]["code"].map(lambda c: lo <= c < hi).all()


def test_case_query_regions_naming_another_township_select_nothing(places):
    """A crafted ``regions`` list (the warning-colour filter) cannot widen the View's own subtree."""
    s = town_viewer(places)
    q = CaseQuery(View(places["town"], D0, D1, scope=s), AS_OF, regions=(places["sibling"], places["other_county"]))
    with places["engine"].connect() as conn:
        assert case_list.count(conn, q) == 0


@pytest.mark.parametrize("bad", [NOBODY, Scope("u", "viewer", None), Scope("u", "boss", "331100000000")])
def test_invalid_scopes_see_nothing_anywhere(places, bad):
    code = places["city"]
    view = View(code, D0, D1, scope=bad)
    with places["engine"].connect() as conn:
        for _name, call in entry_points(view, code, bad):
            with pytest.raises(OutsideScope, match="不显示任何数据"):
                call(conn)


def test_an_untrusted_process_without_scope_gets_nothing(places, monkeypatch):
    """Fail closed: a View without a Scope in a process that declared none (the Streamlit server) reads nothing."""
    monkeypatch.setattr(scope_mod, "_trusted", None)
    with places["engine"].connect() as conn:
        with pytest.raises(OutsideScope):
            queries.indicator_table(conn, View(places["city"], D0, D1), AS_OF)
        with pytest.raises(OutsideScope):
            queries.region(conn, places["city"])
        with pytest.raises(OutsideScope):
            case_list.count(conn, CaseQuery(View(places["town"], D0, D1), AS_OF))


# --- imports: a county importer's other counties are quarantined ---

def test_filter_rows_quarantines_rows_outside_with_the_reason():
    s = Scope("county-importer", "importer", "331102000000")
    df = pd.DataFrame({"grid_code": ["331102001001001", "331121001001001", "331102009001002"], "x": [1, 2, 3]})
    kept, why = scope_mod.filter_rows(df, "grid_code", s)
    assert kept["x"].tolist() == [1, 3]
    assert why.index.tolist() == [1] and "331102000000" in why.iloc[0] and "county-importer" in why.iloc[0]


# --- accounts ---

def test_passwords_are_stored_as_argon2_hashes_only(places):
    engine = places["engine"]
    password = "correct-horse-42"
    with engine.begin() as conn:
        users.add(conn, "hash-check", password, "viewer", places["town"])
        row = users.get(conn, "hash-check")
        dump = " ".join(str(v) for table in ("users", "audit_log", "tokens")
                        for r in conn.execute(text(f"SELECT * FROM {table}")) for v in r)
    assert row["password_hash"].startswith("$argon2id$")
    assert password not in dump


def test_sign_in_counts_failures_and_locks(places):
    engine = places["engine"]
    with engine.begin() as conn:
        users.add(conn, "lock-check", "right-password", "exporter", places["county"])
    for _ in range(2):
        with engine.begin() as conn:
            assert users.authenticate(conn, "lock-check", "wrong", max_failures=3).scope is None
    with engine.begin() as conn:
        ok = users.authenticate(conn, "lock-check", "right-password", max_failures=3)
    assert ok.scope == Scope("lock-check", "exporter", places["county"])
    for _ in range(3):  # the count restarted after the success: three more in a row lock it
        with engine.begin() as conn:
            result = users.authenticate(conn, "lock-check", "wrong", max_failures=3, lock_minutes=5)
    assert "锁定" in result.reason
    with engine.begin() as conn:
        locked = users.authenticate(conn, "lock-check", "right-password", max_failures=3)
    assert locked.scope is None and "锁定" in locked.reason
    with engine.begin() as conn:
        users.set_password(conn, "lock-check", "another-password")  # an admin's reset unlocks
        users.set_disabled(conn, "lock-check", True)
        assert users.authenticate(conn, "lock-check", "another-password").scope is None
        assert users.authenticate(conn, "nobody-here", "x").reason == "用户名或密码不正确。"


def test_bad_account_fields_are_refused(places):
    with places["engine"].begin() as conn:
        for name, pw, role, region in (("a b", "long-enough", "viewer", places["town"]),
                                       ("ok", "short", "viewer", places["town"]),
                                       ("ok", "long-enough", "root", places["town"]),
                                       ("ok", "long-enough", "viewer", "3311")):
            with pytest.raises(users.UserError):
                users.add(conn, name, pw, role, region)


# --- wall tokens ---

def test_tokens_store_only_a_hash_and_stop_when_revoked(places):
    with places["engine"].begin() as conn:
        token_id, token = tokens.add(conn, places["county"], "指挥中心大屏", "test")
        stored = conn.execute(text("SELECT token_hash FROM tokens WHERE id = :i"), {"i": token_id}).scalar()
        assert len(token) >= 40 and token not in stored and stored == tokens.digest(token)
        s, got = tokens.scope_for(conn, token)
        assert got == token_id and s.region == places["county"] and s.role == "viewer" and s.via == "token"
        assert tokens.scope_for(conn, token + "x") == (None, None)
        tokens.revoke(conn, token_id)
        assert tokens.scope_for(conn, token) == (None, None)


# --- the audit log ---

def test_audit_log_appends_and_refuses_changes(places):
    engine = places["engine"]
    with engine.begin() as conn:
        audit.record(conn, "tester", "export", region=places["town"], details={"rows": 7, "format": "csv"})
    with engine.connect() as conn:
        last = audit.read(conn, actor="tester", action="export").iloc[0]
    assert json.loads(last["details"]) == {"format": "csv", "rows": 7} and last["region"] == places["town"]
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(SQLAlchemyError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with engine.connect() as conn:
        assert audit.read(conn, actor="tester").iloc[0]["actor"] == "tester"


# --- the command line: export and import as a user, on record ---

def cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"}
    return subprocess.run([sys.executable, "-m", "data_access", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_users_export_and_import_are_scoped_and_on_record(places, tmp_path):
    engine = places["engine"]
    url = engine.url.render_as_string(hide_password=False)
    password = "cli-secret-pass"
    r = cli(url, "users", "add", "cli-town", "--region", places["town"], "--role", "exporter", stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    assert password not in r.stdout + r.stderr
    # Another township, the county and the city: refused, nothing written.
    for target in ("sibling", "county", "city"):
        out = tmp_path / f"{target}.csv"
        r = cli(url, "export", "--user", "cli-town", "--region", places[target], "--from", str(D0), "--to", str(D1),
                "--format", "csv", "-o", str(out))
        assert r.returncode == 2 and "不在您的权限范围内" in r.stderr and not out.exists(), r.stderr
    out = tmp_path / "own.csv"
    r = cli(url, "export", "--user", "cli-town", "--region", places["town"], "--from", str(D0), "--to", str(D1),
            "--format", "csv", "--as-of", "2026-11-01 00:00", "-o", str(out))
    assert r.returncode == 0, r.stderr
    exported = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    with engine.connect() as conn:
        n = case_list.count(conn, CaseQuery(View(places["town"], D0, D1), AS_OF))
        record = audit.read(conn, actor="cli-town", action="export").iloc[0]
    assert len(exported) == n
    details = json.loads(record["details"])
    assert details["rows"] == n and details["format"] == "csv" and details["region"] == places["town"]
    # A viewer may not export; an importer of one township: rows of the sibling township are quarantined.
    assert cli(url, "users", "add", "cli-viewer", "--region", places["town"], "--role", "viewer",
               stdin=password + "\n").returncode == 0
    r = cli(url, "export", "--user", "cli-viewer", "--region", places["town"], "--from", str(D0), "--to", str(D1),
            "--format", "csv", "-o", str(tmp_path / "v.csv"))
    assert r.returncode == 2 and "exporter" in r.stderr
    with engine.connect() as conn:
        grids = {code: conn.execute(text("SELECT MIN(code) FROM grids WHERE code >= :lo AND code < :hi"),
                                    dict(zip(("lo", "hi"), code_range(places[code])))).scalar()
                 for code in ("town", "sibling")}
    csv = tmp_path / "cases.csv"
    pd.DataFrame({"事件编号": ["AUTH-1", "AUTH-2"], "事件类别": ["矛盾纠纷", "矛盾纠纷"], "事件来源": ["网格员上报", "网格员上报"],
                  "网格编码": [grids["town"], grids["sibling"]], "上报时间": ["2026-10-02 09:00", "2026-10-02 10:00"],
                  "办理时限": ["2026-10-09 09:00", "2026-10-09 10:00"]}).to_csv(csv, index=False, encoding="utf-8-sig")
    assert cli(url, "users", "add", "cli-importer", "--region", places["town"], "--role", "importer",
               stdin=password + "\n").returncode == 0
    r = cli(url, "import", "--user", "cli-importer", str(csv))
    assert r.returncode == 0, r.stderr
    with engine.connect() as conn:
        ids = set(conn.execute(text("SELECT id FROM cases WHERE id IN ('AUTH-1', 'AUTH-2')")).scalars())
        record = json.loads(audit.read(conn, actor="cli-importer", action="import:cases").iloc[0]["details"])
        everything = " ".join(str(v) for table in ("users", "audit_log")
                              for row in conn.execute(text(f"SELECT * FROM {table}")) for v in row)
    assert ids == {"AUTH-1"}
    assert record["inserted"] == 1 and record["rejected"] == 1 and record["file"] == csv.name
    rejected = pd.read_csv(next(tmp_path.glob("cases.rejected.*.csv")), dtype=str, encoding="utf-8-sig")
    assert rejected["错误原因"].str.contains("不属于导入人 cli-importer 的区域").tolist() == [True]
    assert password not in everything
    with engine.begin() as conn:  # keep the shared small city as it was
        conn.execute(text("DELETE FROM cases WHERE id = 'AUTH-1'"))
        from data_access import meta, rollup
        rollup.refresh(conn, (202610,))
        meta.bump_version(conn)


def test_oidc_claims_give_the_scope_or_fall_back_to_the_local_account():
    from ui.oidc import scope_from_claims
    cfg = {"user_claim": "preferred_username", "region_claim": "region", "role_claim": "role"}
    both = {"sub": "x1", "preferred_username": "王五", "region": "331102001000", "role": "exporter"}
    assert scope_from_claims(both, cfg, None) == Scope("王五", "exporter", "331102001000", via="oidc")
    row = {"name": "王五", "region": "331102000000", "role": "viewer", "disabled": False}
    # claims win; a missing claim comes from the local account; neither: no region (sees nothing)
    assert scope_from_claims({"preferred_username": "王五", "role": "admin"}, cfg, row).region == "331102000000"
    assert scope_from_claims({"preferred_username": "王五", "role": "admin"}, cfg, row).role == "admin"
    assert not scope_from_claims({"preferred_username": "王五"}, cfg, None).valid
    assert not scope_from_claims(both, cfg, {**row, "disabled": True}).valid
    assert scope_from_claims({"sub": "only-sub"}, cfg, None).user == "only-sub"
    assert scope_from_claims({}, cfg, None) is None
