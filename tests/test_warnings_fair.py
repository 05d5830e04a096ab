"""Warnings that mean something at every level and in every period (issue 13), against hand-computed values:
rates over 应办结 (due), 逾期率 per case received, per-level thresholds, small numbers judged by shrinkage."""
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analytics.indicators import derive  # noqa: E402
from analytics.warnings import (  # noqa: E402
    DEFAULT_RULES, RulesError, evaluate, load_rules, parse_rules, problems, shown_path, thresholds_for,
)

LEVELS = """\
[[levels]]
key = "green"
name = "绿"
color = "#2e7d32"
[[levels]]
key = "yellow"
name = "黄"
color = "#f9a825"
[[levels]]
key = "red"
name = "红"
color = "#c62828"
"""

RATES = """\
min_cases = 1
prior_cases = 20
small_sample = 30
""" + LEVELS + """
[indicators.closure_rate]
name = "办结率"
direction = "higher_better"
thresholds = [0.95, 0.90]

[indicators.overdue_rate]
name = "逾期率"
direction = "lower_better"
thresholds = [0.05, 0.10]
"""


def table(rows, level="village"):
    """rows: (code, received, closed, overdue); the first row is the parent (is_total)."""
    df = pd.DataFrame(rows, columns=["code", "received", "closed", "overdue"])
    df["name"] = df["code"]
    df["level"] = ["township"] + [level] * (len(df) - 1)
    df["is_total"] = [True] + [False] * (len(df) - 1)
    return derive(df)


@pytest.fixture
def rates():
    return parse_rules(RATES)


# --- small numbers: (x + m·r) / (n + m), r = the parent's rate floored at the standard ---

def test_one_late_case_of_three_is_yellow_not_red(rates):
    out = evaluate(table([("T", 300, 297, 3), ("V1", 3, 2, 1)]), rates)
    v = out.iloc[1]
    assert v["closure_rate"] == pytest.approx(2 / 3)                       # raw: would be red
    assert v["judged_closure_rate"] == pytest.approx((2 + 20 * 0.99) / 23)  # 0.9478: the parent's 99 %
    assert v["level_closure_rate"] == 1
    # 逾期率 1/3, judged with the parent's 1 % (better than the 5 % standard): (1 + 20·0.01) / 23 = 0.0522
    assert v["judged_overdue_rate"] == pytest.approx(1.2 / 23)
    assert v["overall_name"] == "黄" and bool(v["small_sample"])


def test_three_late_of_three_is_red(rates):
    v = evaluate(table([("T", 300, 297, 3), ("V1", 3, 0, 3)]), rates).iloc[1]
    assert v["judged_closure_rate"] == pytest.approx(19.8 / 23)           # 0.861 < 0.90
    assert v["overall_name"] == "红"


def test_a_bad_parent_does_not_paint_its_villages(rates):
    """Parent at 80 %: the prior is floored at the standard (95 %), so a village with all cases closed is green."""
    out = evaluate(table([("T", 100, 80, 20), ("V1", 2, 2, 0), ("V2", 4, 3, 1)]), rates)
    assert out.iloc[1]["judged_closure_rate"] == pytest.approx((2 + 20 * 0.95) / 22)   # 0.9545
    assert out.iloc[1]["overall_name"] == "绿"
    assert out.iloc[2]["judged_closure_rate"] == pytest.approx((3 + 19) / 24)          # 0.9167: 黄
    assert out.iloc[2]["overall_name"] == "黄"
    assert out.iloc[0]["overall_name"] == "红"       # the parent itself, 80 %, is judged on its own 100 cases


def test_many_cases_decide_by_themselves(rates):
    out = evaluate(table([("T", 8000, 7950, 50), ("C", 800, 760, 40)], level="county"), rates)
    c = out.iloc[1]
    assert c["judged_closure_rate"] == pytest.approx((760 + 20 * 7950 / 8000) / 820)   # 0.9511 vs raw 0.95
    assert c["level_closure_rate"] == 0 and not bool(c["small_sample"])


def test_no_cases_stay_no_data_and_not_yet_due_is_no_failure(rates):
    # V1: nothing received. V2: 2 received, none due yet (closed 0, overdue 0): no closure rate, 逾期率 judged 0
    out = evaluate(table([("T", 50, 49, 1), ("V1", 0, 0, 0), ("V2", 2, 0, 0)]), rates)
    assert out.iloc[1]["overall_name"] == "数据不足"
    assert math.isnan(out.iloc[2]["judged_closure_rate"])
    assert out.iloc[2]["judged_overdue_rate"] == pytest.approx(20 * 0.02 / 22)          # parent 1/50 = 2 %
    assert out.iloc[2]["overall_name"] == "绿"


def test_parent_pooled_when_the_table_has_no_total_row(rates):
    df = table([("T", 0, 0, 0), ("V1", 10, 10, 0), ("V2", 10, 6, 4)]).iloc[1:].drop(columns="is_total")
    out = evaluate(df, rates)
    # pooled parent 16/20 = 0.80 < 0.95: the prior is the standard; V2: (6 + 19) / 30 = 0.8333 -> 红
    assert out["judged_closure_rate"].tolist() == pytest.approx([(10 + 19) / 30, 25 / 30])
    assert out["overall_name"].tolist() == ["绿", "红"]


def test_prior_cases_zero_judges_the_raw_rate():
    rules = parse_rules(RATES.replace("prior_cases = 20", "prior_cases = 0"))
    v = evaluate(table([("T", 300, 297, 3), ("V1", 3, 2, 1)]), rules).iloc[1]
    assert v["judged_closure_rate"] == pytest.approx(2 / 3) and v["overall_name"] == "红"


def test_problem_list_gap_is_measured_on_the_judged_value(rates):
    out = evaluate(table([("T", 300, 297, 3), ("V1", 3, 2, 1)]), rates)
    p = problems(out, rates).set_index("indicator")
    assert p.loc["closure_rate", "value"] == pytest.approx(2 / 3)
    assert p.loc["closure_rate", "judged"] == pytest.approx(21.8 / 23)
    assert p.loc["closure_rate", "gap"] == pytest.approx(0.95 - 21.8 / 23)
    assert bool(p.loc["closure_rate", "small_sample"])


# --- scaled count: 逾期率 is fair between a county-year and a village-month ---

def test_overdue_judged_per_case_received_across_levels(rates):
    year = evaluate(table([("City", 100000, 98800, 1200), ("C", 12000, 11850, 150)], level="county"), rates).iloc[1]
    month = evaluate(table([("T", 60, 59, 1), ("V", 6, 6, 0)]), rates).iloc[1]
    # 150 overdue cases would be red as a count (old rule: > 20); per case received it is 1.25 %: green
    assert year["overdue_rate"] == pytest.approx(0.0125) and year["level_overdue_rate"] == 0
    assert month["level_overdue_rate"] == 0


# --- per-level thresholds ---

BY_LEVEL = "min_cases = 1\n" + LEVELS + """
[indicators.overdue]
name = "逾期未办结"
direction = "lower_better"
thresholds = [20, 60]

[indicators.overdue.by_level]
township = [3, 10]
village = [1, 3]

[overrides."331127"]
overdue = [2, 5]
"""


def test_by_level_thresholds_apply_by_the_rows_level():
    rules = parse_rules(BY_LEVEL)
    df = pd.DataFrame({"code": ["331102000000", "331102001000", "331102001001", "331127001001"],
                       "level": ["county", "township", "village", "village"], "received": [900, 60, 5, 5],
                       "overdue": [30, 5, 2, 3]})
    out = evaluate(df, rules)
    # county 30 in (20, 60] 黄; township 5 in (3, 10] 黄; village 2 in (1, 3] 黄; 331127's village: override [2, 5] -> 黄
    assert out["level_overdue"].tolist() == [1, 1, 1, 1]
    assert thresholds_for(rules, "331102001001", "overdue", "village") == (1, 3)
    assert thresholds_for(rules, "331102001001", "overdue", "county") == (20, 60)
    assert thresholds_for(rules, "331127001001", "overdue", "village") == (2, 5)   # the override wins
    df.loc[2, "overdue"] = 4                                                         # village: > 3 -> 红
    assert evaluate(df, rules)["level_overdue"].tolist()[2] == 2
    assert problems(evaluate(df, rules), rules).set_index("code").loc["331102001001", "threshold"] == 3


@pytest.mark.parametrize("old, new, marker, words", [
    ("village = [1, 3]", "hamlet = [1, 3]", "hamlet", "未知的层级 hamlet"),
    ("village = [1, 3]", "village = [3, 1]", "village = [3, 1]", "从低到高"),
    ("village = [1, 3]", "village = [1]", "village = [1]", "应有 2 个"),
])
def test_by_level_errors_name_the_line(tmp_path, old, new, marker, words):
    text = BY_LEVEL.replace(old, new)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if marker in s)
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert f"第 {line} 行" in str(e.value) and words in str(e.value)


@pytest.mark.parametrize("bad, words", [("prior_cases = -1", "prior_cases"), ("small_sample = 2.5", "small_sample")])
def test_small_number_settings_errors_name_the_line(tmp_path, bad, words):
    text = RATES.replace("prior_cases = 20" if "prior" in bad else "small_sample = 30", bad)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(bad) + 1
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert f"第 {line} 行" in str(e.value) and words in str(e.value)


def test_rules_file_named_relative_to_the_project(tmp_path):
    assert shown_path(ROOT / "config" / "warning_rules.toml") == "config/warning_rules.toml"
    assert shown_path(tmp_path / "x.toml") == str(tmp_path / "x.toml")
    assert DEFAULT_RULES.prior_cases == 20


def test_missing_indicator_column_stays_no_data_even_with_its_parts(rates):
    df = pd.DataFrame({"code": ["A"], "received": [100], "overdue": [50], "closure_rate": [0.99]})
    out = evaluate(df, rates)
    assert out["level_overdue_rate"].tolist() == [-1] and out["overall_name"].tolist() == ["绿"]


# --- the trailing window: a rate with fewer than small_sample cases is judged on the last 12 months ---

WINDOWED = RATES.replace("small_sample = 30\n", "small_sample = 30\nwindow_months = 12\n")


def test_a_small_month_is_judged_on_the_window_with_its_parent_from_the_window():
    rules = parse_rules(WINDOWED)
    month = table([("T", 300, 297, 3), ("V1", 3, 3, 0), ("V2", 120, 119, 1)])
    # The window: V1 had 40 cases, 34 closed, 6 overdue; the township 3,000 cases, 2,910 closed, 90 overdue.
    window = table([("T", 3000, 2910, 90), ("V1", 40, 34, 6), ("V2", 1400, 1390, 10)])
    out = evaluate(month, rules, window)
    v1, v2 = out.iloc[1], out.iloc[2]
    # V1: due 3 < 30, so the window's 34 of 40, shrunk toward the window parent's 97 % (2910/3000, above the
    # 95 % standard): (34 + 20·0.97) / 60 = 0.89 -> red (below 0.90).
    assert v1["judged_closure_rate"] == pytest.approx((34 + 20 * 0.97) / 60)
    assert v1["level_closure_rate"] == 2
    # 逾期率: received 3 < 30 -> the window's 6 of 40 toward the parent's 3 %: (6 + 20·0.03) / 60 = 0.11 -> red.
    assert v1["judged_overdue_rate"] == pytest.approx((6 + 0.6) / 60)
    assert bool(v1["window"]) and bool(v1["small_sample"]) and v1["overall_name"] == "红"
    assert v1["closure_rate"] == pytest.approx(1.0)                       # the month's own figure is kept
    # V2 has enough cases in the month: judged on the month alone, toward the month parent's 99 %.
    assert v2["judged_closure_rate"] == pytest.approx((119 + 20 * 0.99) / 140)
    assert not bool(v2["window"])


def test_a_region_with_no_case_this_month_is_judged_on_the_window_not_grey():
    rules = parse_rules(WINDOWED)
    month = table([("T", 50, 50, 0), ("V1", 0, 0, 0), ("V2", 0, 0, 0)])
    window = table([("T", 600, 590, 10), ("V1", 25, 25, 0), ("V2", 0, 0, 0)])
    out = evaluate(month, rules, window)
    assert out.iloc[1]["overall"] == 0 and bool(out.iloc[1]["window"])       # (25 + 20·0.983) / 45 -> green
    assert out.iloc[1]["judged_closure_rate"] == pytest.approx((25 + 20 * 590 / 600) / 45)
    assert out.iloc[2]["overall_name"] == "数据不足" and not bool(out.iloc[2]["window"])  # nothing anywhere


def test_without_window_months_the_window_is_ignored():
    rules = parse_rules(RATES)                                              # window_months not set: 0
    month = table([("T", 300, 297, 3), ("V1", 3, 3, 0)])
    window = table([("T", 3000, 2910, 90), ("V1", 40, 20, 20)])
    out = evaluate(month, rules, window)
    assert out.iloc[1]["judged_closure_rate"] == pytest.approx((3 + 20 * 0.99) / 23)
    assert not bool(out.iloc[1]["window"])


def test_needs_window_only_when_some_rate_is_small():
    from analytics.warnings import needs_window
    rules = parse_rules(WINDOWED)
    assert not needs_window(table([("T", 3000, 2950, 50), ("V1", 100, 99, 1), ("V2", 40, 40, 0)]), rules)
    assert needs_window(table([("T", 3000, 2950, 50), ("V1", 100, 99, 1), ("V2", 20, 20, 0)]), rules)
    assert not needs_window(table([("T", 3, 3, 0), ("V1", 3, 3, 0)]), parse_rules(RATES))


def test_the_window_ends_with_the_period():
    import datetime as dt
    from data_access.view import View
    assert View("331102000000", dt.date(2026, 5, 1), dt.date(2026, 5, 31)).trailing(12).date_from == dt.date(2025, 6, 1)
    assert View("331102000000", dt.date(2026, 6, 1), dt.date(2026, 6, 17)).trailing(12).date_from == dt.date(2025, 6, 18)
    assert View("331102000000", dt.date(2026, 6, 1), dt.date(2026, 6, 17)).trailing(12).date_to == dt.date(2026, 6, 17)


@pytest.mark.parametrize("bad", ["window_months = -1", "window_months = 1.5", "window_months = 500"])
def test_window_months_errors_name_the_line(tmp_path, bad):
    text = WINDOWED.replace("window_months = 12", bad)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(bad) + 1
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert f"第 {line} 行" in str(e.value) and "window_months" in str(e.value)


# --- red asks for more evidence: the worst level is judged again with worst_prior_cases ---

def test_red_needs_the_stronger_evidence():
    rules = parse_rules(RATES.replace("prior_cases = 20\n", "prior_cases = 20\nworst_prior_cases = 40\n"))
    out = evaluate(table([("T", 3000, 2970, 30), ("V1", 17, 14, 3), ("V2", 144, 110, 34)]), rules)
    v1, v2 = out.iloc[1], out.iloc[2]
    # V1: with 20 reference cases at the parent's 99 %: (14 + 19.8) / 37 = 0.9135 -> below 0.95, above 0.90:
    # yellow already. 逾期率 3/17 toward the parent's 1 %: (3 + 0.2) / 37 = 0.0865 -> yellow (0.05–0.10).
    assert v1["level_closure_rate"] == 1 and v1["level_overdue_rate"] == 1
    # V2: (110 + 19.8) / 164 = 0.7915 -> red with 20; with 40: (110 + 39.6) / 184 = 0.8130 -> still red.
    assert v2["judged_closure_rate"] == pytest.approx(129.8 / 164)
    assert v2["level_closure_rate"] == 2
    # A village whose red rests on few cases: 3 of 6 open past the deadline.
    out = evaluate(table([("T", 3000, 2970, 30), ("V3", 6, 3, 3)]), rules)
    v3 = out.iloc[1]
    # with 20: (3 + 19.8) / 26 = 0.8769 -> red; with 40: (3 + 39.6) / 46 = 0.9261 -> not red: yellow.
    assert v3["judged_closure_rate"] == pytest.approx(22.8 / 26)
    assert v3["level_closure_rate"] == 1
    # 逾期率 3/6: with 20 (3 + 0.2) / 26 = 0.123 -> red; with 40 (3 + 0.4) / 46 = 0.0739 -> yellow.
    assert v3["level_overdue_rate"] == 1 and v3["overall_name"] == "黄"
    # Without worst_prior_cases the same village is red.
    assert evaluate(table([("T", 3000, 2970, 30), ("V3", 6, 3, 3)]), parse_rules(RATES)).iloc[1]["overall_name"] == "红"


def test_worst_prior_cases_error_names_the_line(tmp_path):
    text = RATES.replace("prior_cases = 20\n", "prior_cases = 20\nworst_prior_cases = -5\n")
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("worst_prior_cases = -5") + 1
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert f"第 {line} 行" in str(e.value) and "worst_prior_cases" in str(e.value)
