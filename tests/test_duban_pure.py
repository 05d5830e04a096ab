"""督办 without a database: the rules file (strict, names the line, shares the 平安报表's levels), the XLSX
export (states in Chinese, overdue marked, phone numbers in free text masked, formulas defused), and that the
tables in schema.py are what migration 0007 creates."""
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from analytics import duban as loop
from analytics.warnings import DEFAULT_RULES, Level, RulesError
from exports.duban import export_listing


def test_shipped_rules_use_the_report_levels_and_every_loop_indicator():
    rules = loop.load_rules(DEFAULT_RULES)
    assert rules.levels == DEFAULT_RULES.levels and rules.min_cases == 1
    assert [i.key for i in rules.indicators] == list(loop.INDICATORS)


@pytest.mark.parametrize("text,line,words", [
    ('[indicators.closure_rate]\nname = "办结率"\ndirection = "higher_better"\nthresholds = [0.9, 0.8]\n', 1,
     "未知的督办指标 closure_rate"),
    ('min_issued = 1\n\n[indicators.duban_overdue]\nname = "逾期督办"\ndirection = "lower_better"\n'
     'thresholds = [3, 1]\n', 6, "阈值应从低到高"),
    ('[indicators.avg_close_days]\nname = "平均办结天数"\ndirection = "lower_better"\nthresholds = [7]\n', 4,
     "应有 2 个"),
    ('min_issued = -1\n[indicators.avg_close_days]\nname = "x"\ndirection = "lower_better"\nthresholds = [7, 9]\n', 1,
     "min_issued"),
])
def test_a_broken_rules_file_names_its_line(text, line, words):
    with pytest.raises(RulesError) as err:
        loop.parse_rules(text, DEFAULT_RULES, "duban_rules.toml")
    assert f"第 {line} 行" in str(err.value) and words in str(err.value)


def test_five_levels_need_four_thresholds():
    five = DEFAULT_RULES.__class__(levels=tuple(Level(str(i), str(i), "#000000") for i in range(5)),
                                   indicators=DEFAULT_RULES.indicators)
    text = '[indicators.duban_overdue]\nname = "逾期督办"\ndirection = "lower_better"\nthresholds = [0, 1, 2, 5]\n'
    assert loop.parse_rules(text, five).indicators[0].thresholds == (0, 1, 2, 5)
    with pytest.raises(RulesError, match="应有 4 个"):
        loop.parse_rules(text.replace("[0, 1, 2, 5]", "[0, 2]"), five)


def test_rates_are_derived_from_sums_never_averaged():
    sums = pd.DataFrame({"key": ["a", "b"], "name": ["甲", "乙"], "issued": [3, 1], "open": [1, 1], "closed": [2, 0],
                         "overdue": [1, 0], "due": [3, 0], "fed_back": [2, 0], "on_time_feedback": [1, 0],
                         "close_hours": [24.0 * 13, 0.0]})
    d = loop.derive(sums)
    assert d["on_time_feedback_rate"].iloc[0] == pytest.approx(1 / 3) and pd.isna(d["on_time_feedback_rate"].iloc[1])
    assert d["avg_close_days"].iloc[0] == pytest.approx(6.5) and pd.isna(d["avg_close_days"].iloc[1])
    total = loop.totals(sums)
    assert total["duban_closure_rate"] == pytest.approx(2 / 4)  # not the mean of 2/3 and 0/1
    assert total["on_time_feedback_rate"] == pytest.approx(1 / 3)


def test_export_is_readable_masked_and_defused():
    now = dt.datetime(2026, 11, 20, 9)
    listing = pd.DataFrame([{
        "id": 7, "status": "signed", "overdue": True, "title": "=HYPERLINK(\"x\")", "region_code": "331127001000",
        "region_name": "南圩街道", "origin": "warning", "indicator": "closure_rate", "month": 202610, "level_name": "红",
        "case_ids": None, "unit_code": "331127001000", "unit_name": "南圩街道综治中心", "unit_person": "何伟",
        "deadline": dt.datetime(2026, 11, 10, 23, 59), "author": "钟梅娜", "author_region": "331127000000",
        "created_at": dt.datetime(2026, 11, 3, 9), "updated_at": now, "first_feedback_at": None, "feedback": None,
        "closed_at": None, "returns": 0, "body": "请联系 13812345678 核实",
    }])
    buf = io.BytesIO()
    assert export_listing(listing, buf, meta=[("导出人", "钟梅娜")], now=now) == 1
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).worksheets[0]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert row["编号"] == 7 and row["状态"] == "已签收（逾期）" and row["来源"] == "问题清单（三色预警）"
    assert row["督办事项"].startswith("'=")
    assert "13812345678" not in row["督办要求"] and "138****5678" in row["督办要求"]
    assert row["办理时限"] == dt.datetime(2026, 11, 10, 23, 59)


def test_migration_0007_creates_the_tables_of_schema_py(tmp_path):
    from data_access import migrate, schema
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    for table in (schema.duban, schema.duban_events, schema.duban_files):
        got = {c["name"]: (type(c["type"]).__name__, c["nullable"]) for c in inspector.get_columns(table.name)}
        want = {c.name: (type(c.type).__name__, c.nullable) for c in table.columns}
        assert got.keys() == want.keys(), table.name
        assert {k: v[1] for k, v in got.items()} == {k: v[1] for k, v in want.items()}, table.name
        assert {i["name"] for i in inspector.get_indexes(table.name)} == {i.name for i in table.indexes}, table.name
