"""The children's indicator table carries 综合预警 and per-indicator levels for any period (issue 13, point 5):
the export function and ``python -m data_access export --what indicators``, on SQLite and PostgreSQL; and the
wall's today / this-month figures follow the 应办结 rule."""
import datetime as dt

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from analytics.warnings import level_color, level_name
from data_access import queries
from data_access.judged import warning_table
from data_access.view import View
from exports import tables

from .conftest import AS_OF
from .test_case_list import COUNTY
from .test_export_db import cli

YTD = (dt.date(2026, 1, 1), dt.date(2026, 10, 31))     # not one month: levels for any period


def _fill(cell) -> str:
    return "#" + cell.fill.fgColor.rgb[-6:].lower()


def test_indicator_export_has_overall_and_per_indicator_levels(small_db, tmp_path):
    engine, _ = small_db
    rules = tables.load_default_rules()
    view = View(COUNTY, *YTD)
    with engine.connect() as conn:
        ev = warning_table(conn, view, AS_OF, rules)
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "i.xlsx"
    r = cli(url, "--region", COUNTY, "--from", "2026-01-01", "--to", "2026-10-31", "--as-of", "2026-11-01 00:00",
            "--what", "indicators", "--format", "xlsx", "-o", str(out))
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(out)["下级区域指标"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["名称", "区划代码", "综合预警"]
    assert [r_[1] for r_ in rows[1:]] == list(ev["code"])
    col = header.index("综合预警")
    assert [r_[col] for r_ in rows[1:]] == [level_name(rules, i) for i in ev["overall"]]
    assert [_fill(ws.cell(i + 2, col + 1)) for i in range(len(ev))] == list(ev["overall_color"])
    for rule in rules.indicators:
        c = header.index(f"{rule.name}预警")
        assert [r_[c] for r_ in rows[1:]] == [level_name(rules, i) for i in ev[f"level_{rule.key}"]], rule.key
        assert _fill(ws.cell(3, c + 1)) == level_color(rules, ev[f"level_{rule.key}"].iloc[1])
    # at least two colours among the county's townships over ten months (the shipped rules inform)
    assert ev.loc[~ev["is_total"], "overall"].nunique() >= 2


def test_plain_indicator_export_still_works_without_rules(small_db, tmp_path):
    engine, _ = small_db
    view = View(COUNTY, *YTD)
    with engine.connect() as conn:
        table = queries.indicator_table(conn, view, AS_OF)
    tables.export_indicators(table, view, "xlsx", tmp_path / "p.xlsx", region_name="县", as_of=AS_OF)
    header = next(openpyxl.load_workbook(tmp_path / "p.xlsx")["下级区域指标"].iter_rows(values_only=True))
    assert "综合预警" not in header and header[:3] == ("名称", "区划代码", "受理量")


def test_running_period_rates_count_only_cases_already_due(small_db):
    """A view of the last 12 days before the as-of time: many cases are still inside their deadline. 应办结 is the
    cases whose deadline has passed, closed or not; a case still inside its deadline counts in neither part of the
    closure and on-time rates, whether open or already closed (hand-computed from the raw cases)."""
    engine, _ = small_db
    view = View(COUNTY, dt.date(2026, 10, 20), dt.date(2026, 10, 31))
    with engine.connect() as conn:
        row = queries.indicator_table(conn, view, AS_OF).iloc[0]
        raw = pd.read_sql(text("SELECT closed_at, deadline FROM cases WHERE grid_code LIKE :p AND day >= 20261020 "
                               "AND day <= 20261031"), conn, params={"p": COUNTY[:6] + "%"})
    closed, deadline = pd.to_datetime(raw["closed_at"]).notna(), pd.to_datetime(raw["deadline"])
    closed_on_time = closed & (pd.to_datetime(raw["closed_at"]) <= deadline)
    due = (closed & (deadline <= AS_OF)) | (~closed & (deadline < AS_OF))
    assert row["received"] == len(raw) > row["due"] == due.sum() > 0
    assert 0 < (closed & (deadline > AS_OF)).sum() == row["early"]      # closed early, not due yet: left out
    assert row["closure_rate"] == pytest.approx((closed & due).sum() / due.sum())
    assert row["on_time_rate"] == pytest.approx((closed_on_time & due).sum() / due.sum())
    assert row["due"] == row["closed"] - row["early"] + row["overdue"] < row["closed"] + row["overdue"]
