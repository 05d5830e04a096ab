"""OIDC sign-in in a real browser against a local provider (oidc-provider-mock, started here; never an
outside service): the user's region and role come from the ID token's claims, the page shows that
township only, and the sign-in is on record."""
from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import text

from data_access import audit
from .conftest import _free_port, need_chromium, serve, wait_ready


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    pytest.importorskip("oidc_provider_mock")
    port = _free_port()
    claims = {"sub": "oidc-town", "preferred_username": "oidc-town", "yiping_region": "331102001000",
              "yiping_role": "viewer"}
    log = open(tmp_path_factory.mktemp("oidc") / "provider.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--user-claims",
                             json.dumps(claims)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2).read()
            break
        except OSError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def oidc_url(small_sqlite, provider, tmp_path_factory):
    need_chromium()
    port = _free_port()
    folder = tmp_path_factory.mktemp("oidc-app")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(f'''[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "yiping-test"
client_secret = "not-a-real-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
''', encoding="utf-8")
    with serve(str(small_sqlite.url), folder / "streamlit.log", port=port, args=("--secrets.files", str(secrets_file)),
               YIPING_AUTH="oidc") as url:
        yield url


def test_oidc_user_gets_the_region_of_their_claims(oidc_url, provider, small_sqlite, chromium):
    with small_sqlite.connect() as conn:
        names = dict(conn.execute(text("SELECT code, name FROM regions WHERE level IN ('county', 'township')")).all())
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1600, "height": 1000})
    try:
        page = context.new_page()
        page.goto(oidc_url)
        wait_ready(page)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        page.get_by_role("button", name="使用单位统一身份认证登录").click()
        page.wait_for_url(f"{provider}/**", timeout=60_000)
        page.locator('input[name="sub"]').fill("oidc-town")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_selector('[data-testid="stMetric"]', timeout=90_000)
        wait_ready(page, 90_000)
        body = page.locator("body").inner_text()
    finally:
        context.close()
    assert names["331102001000"] in body
    assert [n for c, n in names.items() if c != "331102001000" and n in body] == []
    with small_sqlite.connect() as conn:
        log = audit.read(conn, actor="oidc-town", action="login")
    assert len(log) >= 1 and json.loads(log.iloc[0]["details"])["via"] == "oidc"
