"""Warning rules engine: loading and validating the TOML rules, evaluation, problem list, reloading."""
import dataclasses
import math
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analytics.warnings import (  # noqa: E402
    DEFAULT_RULES, RulesError, RulesStore, evaluate, level_color, level_counts, level_name, load_rules,
    problems, thresholds_for,
)

GREY = "#9e9e9e"

THREE = """\
min_cases = 30
combine = "worst"

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

[indicators.closure_rate]
name = "办结率"
direction = "higher_better"
thresholds = [0.95, 0.90]
weight = 2

[indicators.overdue]
name = "逾期未办结"
direction = "lower_better"
thresholds = [5, 20]
weight = 1
"""

FIVE_LEVELS = """\
[[levels]]
key = "l0"
name = "绿"
color = "#2e7d32"
[[levels]]
key = "l1"
name = "蓝"
color = "#1565c0"
[[levels]]
key = "l2"
name = "黄"
color = "#f9a825"
[[levels]]
key = "l3"
name = "橙"
color = "#ef6c00"
[[levels]]
key = "l4"
name = "红"
color = "#c62828"

[indicators.closure_rate]
name = "办结率"
direction = "higher_better"
thresholds = [0.98, 0.95, 0.90, 0.80]
"""


def write(tmp_path, text, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rules_from(tmp_path, text):
    return load_rules(write(tmp_path, text))


def regions(rows):
    """rows: (code, received, closure_rate, overdue); None means NaN."""
    df = pd.DataFrame(rows, columns=["code", "received", "closure_rate", "overdue"])
    df["name"] = [f"地区{i}" for i in range(len(df))]
    return df.fillna(math.nan)


# --- the shipped file ---

def test_shipped_rules_load_and_match_builtin_defaults():
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    assert dataclasses.replace(rules, source=DEFAULT_RULES.source) == DEFAULT_RULES
    assert [lv.name for lv in rules.levels] == ["绿", "黄", "红"]
    assert rules.indicator("closure_rate").thresholds == (0.97, 0.92)
    assert rules.indicator("overdue_rate").thresholds == (0.03, 0.08)
    assert rules.min_cases == 1 and rules.combine == "worst"
    assert rules.prior_cases == 20 and rules.small_sample == 30
    assert rules.source == "config/warning_rules.toml"   # named relative to the project, not the server's path


# --- levels, boundaries, no data ---

def test_exactly_at_threshold_higher_better_goes_to_better_level(tmp_path):
    rules = rules_from(tmp_path, THREE)
    df = regions([("331102001001", 100, v, 0) for v in (0.95, 0.9499, 0.90, 0.8999, 1.0, 19 / 20, 18 / 20)])
    assert evaluate(df, rules)["level_closure_rate"].tolist() == [0, 1, 1, 2, 0, 0, 1]


def test_exactly_at_threshold_lower_better_goes_to_better_level(tmp_path):
    rules = rules_from(tmp_path, THREE)
    df = regions([("331102001001", 100, 1.0, v) for v in (5, 6, 20, 21, 0)])
    out = evaluate(df, rules)
    assert out["level_overdue"].tolist() == [0, 1, 1, 2, 0]
    assert out["overall"].tolist() == [0, 1, 1, 2, 0]
    assert out["overall_name"].tolist() == ["绿", "黄", "黄", "红", "绿"]
    assert out["overall_color"].tolist() == ["#2e7d32", "#f9a825", "#f9a825", "#c62828", "#2e7d32"]


def test_missing_column_and_nan_are_no_data_not_red(tmp_path):
    rules = rules_from(tmp_path, THREE)
    df = regions([("331102001001", 100, 0.5, 0), ("331102001002", 100, None, 0),
                  ("331102001003", 100, 0.92, 0)]).drop(columns="overdue")
    out = evaluate(df, rules)
    assert out["level_overdue"].tolist() == [-1, -1, -1]
    assert out["level_closure_rate"].tolist() == [2, -1, 1]
    assert out["overall"].tolist() == [2, -1, 1]     # the row with no indicator at all is 数据不足
    assert out["overall_name"].tolist() == ["红", "数据不足", "黄"]
    assert out["overall_color"].tolist()[1] == GREY


def test_few_cases_are_no_data_overall(tmp_path):
    rules = rules_from(tmp_path, THREE)
    df = regions([("331102001001", 0, None, 0), ("331102001002", 29, 0.5, 30), ("331102001003", 30, 0.5, 30)])
    out = evaluate(df, rules)
    assert out["overall"].tolist() == [-1, -1, 2]
    assert out["overall_name"].tolist() == ["数据不足", "数据不足", "红"]
    assert out["level_closure_rate"].tolist() == [-1, 2, 2]   # indicator levels are still shown
    assert problems(out, rules)["code"].unique().tolist() == ["331102001003"]


def test_five_levels(tmp_path):
    rules = rules_from(tmp_path, FIVE_LEVELS)
    values = (0.99, 0.98, 0.96, 0.95, 0.92, 0.85, 0.80, 0.5)
    out = evaluate(regions([("331102001001", 100, v, 0) for v in values]), rules)
    assert out["level_closure_rate"].tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert out["overall_name"].tolist() == ["绿", "绿", "蓝", "蓝", "黄", "橙", "橙", "红"]
    counts = level_counts(out, rules)
    assert counts.index.tolist() == ["绿", "蓝", "黄", "橙", "红", "数据不足"]
    assert counts.tolist() == [2, 2, 1, 2, 1, 0]
    assert level_color(rules, 3) == "#ef6c00"
    row = problems(out, rules).query("value == 0.85").iloc[0]
    assert (row["level_name"], row["threshold"]) == ("橙", 0.90)
    assert row["gap"] == pytest.approx(0.05)


def test_level_helpers(tmp_path):
    rules = rules_from(tmp_path, THREE)
    assert (level_name(rules, 0), level_color(rules, 0)) == ("绿", "#2e7d32")
    assert (level_name(rules, 2), level_color(rules, 2)) == ("红", "#c62828")
    for idx in (-1, None, math.nan):
        assert (level_name(rules, idx), level_color(rules, idx)) == ("数据不足", GREY)


def test_override_longest_prefix_wins(tmp_path):
    text = THREE + """
[overrides."331127001001"]
closure_rate = [0.50, 0.40]

[overrides."3311"]
closure_rate = [0.90, 0.80]

[overrides."331127"]
closure_rate = [0.80, 0.70]
overdue = [1, 2]
"""
    rules = rules_from(tmp_path, text)
    df = regions([
        ("331102001001", 100, 0.85, 0),   # 3311 -> [0.90, 0.80]: yellow
        ("331127002000", 100, 0.85, 2),   # 331127 -> [0.80, 0.70]: green; overdue [1, 2]: yellow
        ("331127001001", 100, 0.55, 0),   # full code -> [0.50, 0.40]: green
        ("330100000000", 100, 0.85, 2),   # no override -> [0.95, 0.90]: red
    ])
    out = evaluate(df, rules)
    assert out["level_closure_rate"].tolist() == [1, 0, 0, 2]
    assert out["level_overdue"].tolist() == [0, 1, 0, 0]
    assert thresholds_for(rules, "331127001001", "overdue") == (1, 2)
    assert thresholds_for(rules, "330100000000", "closure_rate") == (0.95, 0.90)
    first = problems(out, rules).query("code == '331102001001'").iloc[0]
    assert first["threshold"] == 0.90 and first["gap"] == pytest.approx(0.05)


# --- weighted combination ---

def test_weighted_combination_default_rounding(tmp_path):
    rules = rules_from(tmp_path, THREE.replace('combine = "worst"', 'combine = "weighted"'))
    assert rules.score_thresholds == (0.5, 1.5)
    # closure weight 2, overdue weight 1; level indices: closure 0.5 -> 2, 0.92 -> 1, 1.0 -> 0;
    # overdue 30 -> 2, 10 -> 1, 0 -> 0
    df = regions([
        ("331102001001", 100, 0.5, 0),     # (2*2 + 0) / 3 = 1.33 -> 黄
        ("331102001002", 100, 1.0, 30),    # (0 + 2) / 3 = 0.67   -> 黄
        ("331102001003", 100, 1.0, 10),    # (0 + 1) / 3 = 0.33   -> 绿
        ("331102001004", 100, 0.5, 30),    # 2                    -> 红
        ("331102001005", 100, None, 30),   # closure no data: 2   -> 红
        ("331102001006", 100, 0.92, 30),   # (2 + 2) / 3 = 1.33   -> 黄
    ])
    assert evaluate(df, rules)["overall"].tolist() == [1, 1, 0, 2, 2, 1]


def test_weighted_exact_score_boundary_and_custom_thresholds(tmp_path):
    equal = THREE.replace('combine = "worst"', 'combine = "weighted"').replace("weight = 2", "weight = 1")
    rules = rules_from(tmp_path, equal)
    df = regions([("331102001001", 100, 1.0, 10),    # (0 + 1) / 2 = 0.5 -> 绿 (at the boundary)
                  ("331102001002", 100, 0.92, 30)])  # (1 + 2) / 2 = 1.5 -> 黄
    assert evaluate(df, rules)["overall"].tolist() == [0, 1]

    custom = THREE.replace('combine = "worst"', 'combine = "weighted"\nscore_thresholds = [0.2, 1.0]')
    rules = rules_from(tmp_path, custom)
    df = regions([("331102001001", 100, 1.0, 10),    # 1/3 > 0.2 -> 黄
                  ("331102001002", 100, 0.92, 10),   # (2 + 1) / 3 = 1.0 -> 黄 (at the boundary)
                  ("331102001003", 100, 0.5, 0),     # 4/3 > 1.0 -> 红
                  ("331102001004", 100, 1.0, 0)])    # 0 -> 绿
    assert evaluate(df, rules)["overall"].tolist() == [1, 1, 2, 0]


# --- problem list and counts ---

def test_problem_list_threshold_gap_and_order(tmp_path):
    rules = rules_from(tmp_path, THREE)
    df = regions([
        ("331102001001", 100, 0.92, 25),   # closure 黄 (missed 0.95 by 0.03), overdue 红 (missed 20 by 5)
        ("331102001002", 100, 0.80, 3),    # closure 红 (missed 0.90 by 0.10)
        ("331102001003", 100, 0.99, 0),    # all green: no rows
    ])
    p = problems(evaluate(df, rules), rules)
    assert list(p.columns) == ["code", "name", "indicator", "indicator_name", "value", "level", "level_name",
                               "color", "threshold", "gap", "judged", "small_sample"]
    # red first; among the reds the larger relative gap (5/20 > 0.10/0.90) first
    assert p[["code", "indicator", "level_name"]].values.tolist() == [
        ["331102001001", "overdue", "红"],
        ["331102001002", "closure_rate", "红"],
        ["331102001001", "closure_rate", "黄"],
    ]
    assert p["indicator_name"].tolist() == ["逾期未办结", "办结率", "办结率"]
    assert p["name"].tolist() == ["地区0", "地区1", "地区0"]
    assert p["threshold"].tolist() == [20, 0.90, 0.95]
    assert p["gap"].tolist() == pytest.approx([5, 0.10, 0.03])
    assert p["color"].tolist() == ["#c62828", "#c62828", "#f9a825"]
    assert p["value"].tolist() == pytest.approx([25, 0.80, 0.92])


def test_problem_list_empty_and_level_counts(tmp_path):
    rules = rules_from(tmp_path, THREE)
    out = evaluate(regions([("331102001001", 100, 0.99, 0), ("331102001002", 5, 0.1, 99),
                            ("331102001003", 100, 0.91, 0)]), rules)
    assert problems(out.iloc[[0]], rules).empty
    assert level_counts(out, rules).to_dict() == {"绿": 1, "黄": 1, "红": 0, "数据不足": 1}


# --- errors name the file and the line ---

def line_of(text, fragment):
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_toml_syntax_error_names_the_line(tmp_path):
    text = THREE.replace('name = "黄"', "name = 黄")
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as e:
        load_rules(path)
    msg = str(e.value)
    assert msg.startswith(f"预警规则文件 {path} 第 {line_of(text, 'name = 黄')} 行：")
    assert "TOML" in msg and "第 8 列" in msg


def test_toml_unclosed_array_at_end_of_file(tmp_path):
    text = THREE + "[overrides.\"331127\"]\nclosure_rate = [0.9,\n"
    with pytest.raises(RulesError, match=f"第 {len(text.splitlines())} 行"):
        rules_from(tmp_path, text)


def test_wrong_threshold_count_message(tmp_path):
    text = THREE.replace("thresholds = [0.95, 0.90]", "thresholds = [0.95, 0.90, 0.85]")
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert str(e.value) == (f"预警规则文件 {path} 第 {line_of(text, '0.85]')} 行："
                            "指标 closure_rate 的阈值应有 2 个（等级数减一），实际 3 个")


@pytest.mark.parametrize("old, new, marker, words", [
    ("thresholds = [0.95, 0.90]", "thresholds = [0.90, 0.95]", "[0.90, 0.95]", "从高到低"),
    ("thresholds = [5, 20]", "thresholds = [20, 5]", "[20, 5]", "从低到高"),
    ("[indicators.overdue]", "[indicators.overdu]", "[indicators.overdu]", "未知的指标 overdu"),
    ('direction = "lower_better"', 'direction = "lower"', '"lower"', "direction"),
    ('combine = "worst"', 'combine = "max"', '"max"', "combine"),
    ('color = "#f9a825"', 'color = "yellow"', 'color = "yellow"', "颜色"),
    ("weight = 1", "weight = 0", "weight = 0", "大于 0"),
    ("weight = 2", "weight = -1", "weight = -1", "大于 0"),
    ("min_cases = 30", "min_case = 30", "min_case =", "未知的项 min_case"),
    ("weight = 1\n", 'weight = 1\n\n[overrides."331127"]\noverdue = [1, 2, 3]\n', "[1, 2, 3]", "实际 3 个"),
    ("weight = 1\n", 'weight = 1\n\n[overrides."33112"]\noverdue = [1, 2]\n', '"33112"', "区划代码"),
    ("weight = 1\n", 'weight = 1\n\n[overrides."331127"]\nlocal_rate = [0.8, 0.7]\n', "local_rate", "没有在"),
])
def test_semantic_errors_name_the_right_line(tmp_path, old, new, marker, words):
    text = THREE.replace(old, new)
    assert text != THREE
    with pytest.raises(RulesError) as e:
        rules_from(tmp_path, text)
    msg = str(e.value)
    assert f"第 {line_of(text, marker)} 行：" in msg and words in msg, msg


def test_five_levels_need_four_thresholds(tmp_path):
    text = FIVE_LEVELS.replace("[0.98, 0.95, 0.90, 0.80]", "[0.95, 0.90]")
    with pytest.raises(RulesError, match=f"第 {line_of(text, '[0.95, 0.90]')} 行：.*应有 4 个.*实际 2 个"):
        rules_from(tmp_path, text)


# --- reloading ---

def bump(path, seconds):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_store_keeps_last_good_rules_and_picks_up_valid_edits(tmp_path):
    path = write(tmp_path, THREE)
    store = RulesStore(path)
    rules, error = store.get()
    assert error is None and rules.indicator("closure_rate").thresholds == (0.95, 0.90)
    assert store.get()[0] is rules                        # unchanged file: not re-read

    broken = THREE.replace("thresholds = [5, 20]", "thresholds = [5]")
    path.write_text(broken, encoding="utf-8")
    bump(path, 10)
    kept, error = store.get()
    assert kept is rules
    assert f"第 {line_of(broken, '[5]')} 行" in error and "实际 1 个" in error
    assert store.get() == (rules, error)                  # still broken: same answer

    path.write_text(THREE.replace("[0.95, 0.90]", "[0.97, 0.93]"), encoding="utf-8")
    bump(path, 20)
    fresh, error = store.get()
    assert error is None and fresh.indicator("closure_rate").thresholds == (0.97, 0.93)


def test_store_falls_back_to_defaults_when_first_load_fails(tmp_path):
    path = write(tmp_path, "min_cases = = 3\n")
    rules, error = RulesStore(path).get()
    assert rules == DEFAULT_RULES
    assert error.startswith(f"预警规则文件 {path} 第 1 行：")
    rules, error = RulesStore(tmp_path / "missing.toml").get()
    assert rules == DEFAULT_RULES and "无法读取" in error


# --- edge cases the 三色预警 page relies on ---

def test_empty_table_has_no_levels_problems_or_counts(tmp_path):
    rules = rules_from(tmp_path, THREE)
    out = evaluate(regions([]), rules)
    assert len(out) == 0 and {"overall", "overall_name", "overall_color", "level_closure_rate"} <= set(out.columns)
    assert problems(out, rules).empty
    assert level_counts(out, rules).to_dict() == {"绿": 0, "黄": 0, "红": 0, "数据不足": 0}


def test_one_region_over_several_months_is_evaluated_row_by_row(tmp_path):
    """The 12-month history evaluates (region, month) rows: the same code may appear many times."""
    rules = rules_from(tmp_path, THREE + '\n[overrides."331127"]\nclosure_rate = [0.90, 0.80]\n')
    df = regions([("331127001000", 100, 0.99, 0), ("331127001000", 100, 0.85, 0), ("331127001000", 0, None, 0),
                  ("331102001000", 100, 0.85, 0)])
    out = evaluate(df, rules)
    assert out["overall_name"].tolist() == ["绿", "黄", "数据不足", "红"]
    assert problems(out, rules)["threshold"].tolist() == [0.90, 0.90]   # the red (default) first, then the override


def test_zero_cases_with_min_cases_zero_uses_the_indicators_that_have_data(tmp_path):
    rules = rules_from(tmp_path, THREE.replace("min_cases = 30", "min_cases = 0"))
    out = evaluate(regions([("331102001001", 0, None, 0), ("331102001002", 0, None, 25)]), rules)
    assert out["level_closure_rate"].tolist() == [-1, -1]            # no cases: no closure rate, never red
    assert out["overall_name"].tolist() == ["绿", "红"]                 # overdue still counts (old open cases)


def test_weighted_five_levels_with_default_score_thresholds(tmp_path):
    text = FIVE_LEVELS.replace("thresholds = [0.98, 0.95, 0.90, 0.80]",
                               "thresholds = [0.98, 0.95, 0.90, 0.80]\nweight = 3") + """
[indicators.overdue]
name = "逾期未办结"
direction = "lower_better"
thresholds = [1, 5, 10, 20]
weight = 1
"""
    rules = rules_from(tmp_path, 'combine = "weighted"\n' + text)
    assert rules.score_thresholds == (0.5, 1.5, 2.5, 3.5)
    df = regions([
        ("331102001001", 100, 0.99, 30),   # (3*0 + 1*4) / 4 = 1.0  -> 蓝
        ("331102001002", 100, 0.85, 0),    # (3*3 + 0) / 4 = 2.25   -> 黄
        ("331102001003", 100, 0.50, 30),   # 4                      -> 红
        ("331102001004", 100, 0.96, 3),    # (3*1 + 1*1) / 4 = 1.0  -> 蓝
    ])
    assert evaluate(df, rules)["overall_name"].tolist() == ["蓝", "黄", "红", "蓝"]
