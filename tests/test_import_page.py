"""数据导入's column-mapping step (AppTest): a file whose headers no synonym knows is shown as it is; staff map
each column, save the mapping by name, and import with it; the run and its rejected row are in the log."""
from __future__ import annotations

import os

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access import rollup
from data_access.imports import runlog
from data_access.scope import Scope
from ui.auth import SCOPE

from .conftest import ROOT


@pytest.fixture
def app_db(small_sqlite, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", str(small_sqlite.url))
    monkeypatch.setenv("YIPING_IMPORT_DIR", str(tmp_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield small_sqlite
    with small_sqlite.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id LIKE 'MAP-%'"))
        conn.execute(text("DELETE FROM column_mappings"))
        rollup.refresh(conn, [202603])
    st.cache_data.clear()
    st.cache_resource.clear()


def test_mapping_step_saves_and_imports(app_db, tmp_path):
    with app_db.connect() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
    path = tmp_path / "odd.csv"
    pd.DataFrame([{"单号": "MAP-1", "问题分类": "治安", "渠道来源": "12345热线", "所属网格": grid, "发生时间": "2026-03-05 09:00",
                   "要求办结": "2026-03-10"},
                  {"单号": "MAP-2", "问题分类": "治安", "渠道来源": "12345热线", "所属网格": "1", "发生时间": "2026-03-05 09:00",
                   "要求办结": "2026-03-10"}]).to_csv(path, index=False)
    at = AppTest.from_file(str(ROOT / "pages" / "import.py"), default_timeout=90)
    with app_db.connect() as conn:
        city = conn.execute(text("SELECT code FROM regions WHERE level = 'city'")).scalar()
    at.session_state[SCOPE] = Scope("staff-importer", "importer", city, via="local")  # signed in as an importer
    at.session_state["imp_pending"] = str(path)
    at.run()
    assert not at.exception
    fields = {"单号": "id", "问题分类": "category", "渠道来源": "source", "所属网格": "grid_code", "发生时间": "reported_at",
              "要求办结": "deadline"}
    for col, field in fields.items():
        at.selectbox(key=f"map-{col}").set_value(field)
    at.text_input[0].input("某平台导出")  # the first text input on the page is the mapping's name
    at.button[[b.label for b in at.button].index("保存对应关系")].click()
    at.run()
    with app_db.connect() as conn:
        assert runlog.mappings(conn)["某平台导出"] == fields
    at.button[[b.label for b in at.button].index("按此对应关系导入")].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("新增 1 条" in s.value and "隔离 1 条" in s.value for s in at.success)
    with app_db.connect() as conn:
        assert conn.execute(text("SELECT grid_code FROM cases WHERE id = 'MAP-1'")).scalar() == grid
        last = runlog.runs(conn, 1).iloc[0]
    assert (last["file_name"], last["rejected"], last["actor"]) == ("odd.csv", 1, "staff-importer")
