"""An import killed half-way (SIGKILL, no clean-up of any kind) leaves the database exactly as before, on
SQLite and PostgreSQL: no cases, no rollup change, no run record, no data-version bump, no quarantine file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys, time, pathlib
sys.path.insert(0, {root!r})
from data_access.engine import get_engine
from data_access.imports import import_cases
calls = []
def stall(good):
    calls.append(1)
    if len(calls) == 2:  # the first chunk is written: say so, then wait to be killed
        pathlib.Path({flag!r}).write_text("written")
        time.sleep(120)
    return good["id"].map(lambda _: "")
import_cases(get_engine({url!r}), {path!r}, row_filter=stall)
"""


def _state(engine):
    with engine.connect() as conn:
        return (conn.execute(text("SELECT COUNT(*), MAX(id) FROM cases")).one(),
                conn.execute(text("SELECT COUNT(*), SUM(received), SUM(closed) FROM case_rollup")).one(),
                conn.execute(text("SELECT COUNT(*) FROM import_runs")).scalar(),
                conn.execute(text("SELECT value FROM meta WHERE key = 'data_version'")).scalar())


@pytest.mark.slow
def test_killed_import_leaves_the_database_as_before(small_db, tmp_path):
    engine, _ = small_db
    with engine.connect() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
    n = 45_000  # three chunks of 20,000: killed after the first was written
    pd.DataFrame({"事件编号": [f"KILL-{i}" for i in range(n)], "事件类别": "治安", "事件来源": "12345热线",
                  "网格编码": grid, "上报时间": "2026-03-05 09:00", "办理时限": "2026-03-10", "状态": "处置中"}
                 ).to_csv(tmp_path / "big.csv", index=False)
    before = _state(engine)
    flag = tmp_path / "flag"
    url = engine.url.render_as_string(hide_password=False)
    code = SCRIPT.format(root=str(ROOT), flag=str(flag), url=url, path=str(tmp_path / "big.csv"))
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        for _ in range(1200):
            if flag.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists(), "the import never reached its second chunk"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert _state(engine) == before
    assert not list(tmp_path.glob("*.rejected*"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cases WHERE id LIKE 'KILL-%'")).scalar() == 0
