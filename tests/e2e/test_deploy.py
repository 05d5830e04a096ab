"""deploy/run in a real browser: nginx in front of two replicas on PostgreSQL (the small sample city).

Two users land on different replicas (cookie affinity, not ip_hash: both come from 127.0.0.1), each drills,
imports a file and exports a CSV without error; then one replica is killed: it is taken out, its user's page
reconnects to the other replica and keeps working, and the other user never notices."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest
from sqlalchemy import text

from data_access import rollup
from data_access.engine import get_engine

from ..conftest import ROOT, SMALL
from .conftest import _free_port, need_chromium, open_app, recorded_page, wait_ready

pytestmark = pytest.mark.slow
CITY, COUNTY = "331100000000", "331127000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
#: What the browser logs while its replica dies and it reconnects to the other one (nothing else is allowed).
RECONNECT = re.compile(r"websocket|connection|ERR_CONNECTION|Failed to load resource|502|503", re.I)


@pytest.fixture(scope="module")
def small_pg(pg_url):
    from sample_data.build import build, is_built
    engine = get_engine(pg_url)
    if not is_built(engine):
        build(engine, **SMALL)
    return engine


@pytest.fixture(scope="module")
def deployment(small_pg, pg_url, tmp_path_factory):
    """`deploy/run --replicas 2 --port P --no-restart` on the small PostgreSQL city; yields (url, {name: pid})."""
    need_chromium()
    port = _free_port()
    log = tmp_path_factory.mktemp("deploy") / "run.log"
    env = {**os.environ, "DATABASE_URL": pg_url, "PYTHONUNBUFFERED": "1",
           "YIPING_IMPORT_DIR": str(tmp_path_factory.mktemp("imports"))}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "run"), "--replicas", "2", "--port", str(port),
                                 "--host", "127.0.0.1", "--no-restart"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 150
        while "serving on" not in log.read_text() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.3)
        assert "serving on" in log.read_text(), log.read_text()[-3000:]
        time.sleep(0.3)
        pids = {m[0]: int(m[1]) for m in re.findall(r"replica (r\d) pid (\d+)", log.read_text())}
        assert set(pids) == {"r1", "r2"}
        yield f"http://127.0.0.1:{port}", pids, proc, log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert "deploy/run: stopped" in log.read_text()
        for pid in pids.values():  # every replica is gone with the runner
            assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()


@pytest.fixture(scope="module")
def browser(deployment, chromium):
    return chromium


def replica_of(page) -> str:
    return {c["name"]: c["value"] for c in page.context.cookies()}.get("yp_replica", "")


def drill(page) -> None:
    """From 景宁畲族自治县 up to the city by the breadcrumb (a tap that changes the view)."""
    open_app(page, "", region=COUNTY, **PERIOD)
    assert "景宁畲族自治县" in page.locator("h1").first.inner_text()
    page.get_by_role("button", name=re.compile("丽水市")).first.click()
    page.wait_for_function(f"() => location.search.includes('{CITY}')", timeout=30000)
    wait_ready(page)
    assert "丽水市" in page.locator("h1").first.inner_text()


def import_one(page, engine, tmp_path, case_id: str) -> None:
    with engine.connect() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
    csv = tmp_path / f"{case_id}.csv"
    pd.DataFrame([{"事件编号": case_id, "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid,
                   "上报时间": "2026-05-06 09:00", "办理时限": "2026-05-10", "状态": "处置中"}]).to_csv(csv, index=False)
    open_app(page, "import")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))  # the cases tab's
    page.get_by_role("button", name="开始导入").click()
    page.get_by_text("导入完成").wait_for(timeout=60000)
    wait_ready(page)
    assert "新增 1 条" in page.locator('[data-testid="stMain"]').inner_text()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM cases WHERE id = :i"), {"i": case_id}).scalar() == "dispatched"


def export_csv(page) -> pd.DataFrame:
    open_app(page, "data", region=COUNTY, **PERIOD)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="导出 CSV（UTF-8）").click()
    body = open(info.value.path(), "rb").read()
    return pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str)


def served_by(url: str, cookie: str) -> str:
    req = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"yp_replica={cookie}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.read().strip() == b"ok"
        return r.headers["X-Yiping-Replica"]


def test_two_replicas_behind_nginx(deployment, browser, small_pg, tmp_path):
    url, pids, _proc, log = deployment
    try:
        with recorded_page(browser, url, viewport={"width": 1366, "height": 900}) as a, \
                recorded_page(browser, url, viewport={"width": 1366, "height": 900}) as b:
            open_app(a, "", region=CITY, **PERIOD)
            open_app(b, "", region=CITY, **PERIOD)
            assert {replica_of(a), replica_of(b)} == {"r1", "r2"}  # two users, two replicas

            for user, page in (("A", a), ("B", b)):
                home = replica_of(page)
                drill(page)
                import_one(page, small_pg, tmp_path, f"E2E-DEPLOY-{user}")
                df = export_csv(page)
                assert len(df) > 0 and not df["联系电话"].str.fullmatch(r"1\d{10}").any()
                assert replica_of(page) == home  # every request of the session stayed on its replica

            # one replica dies: nginx takes it out, its user's page reconnects to the other one
            dead = replica_of(a)
            alive = replica_of(b)
            os.kill(pids[dead], signal.SIGKILL)
            assert served_by(url, dead) == alive
            a.wait_for_timeout(1500)
            drill(a)
            assert replica_of(a) == alive
            drill(b)
            assert replica_of(b) == alive
            # the browser's own messages about the lost connection are expected; nothing else
            a.recorder.console_errors = [m for m in a.recorder.console_errors if not RECONNECT.search(m)]
        assert f"replica {dead}" in log.read_text() and "exited" in log.read_text()
    finally:
        with small_pg.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE id LIKE 'E2E-DEPLOY-%'"))
            rollup.refresh(conn, [202605])
