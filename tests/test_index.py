"""强基善治指数 maths, config and stars: pure tests against hand computations and published AHP examples."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import index as ix
from analytics import village_index as av
from analytics.index_config import (DEFAULT_PATH, IndexConfig, Dimension, Indicator, StarRule, config_store,
                                    load_config, parse_config)
from analytics.stars import stars
from analytics.warnings import RulesError

TEXT = DEFAULT_PATH.read_text(encoding="utf-8")


# --- normalisation ---

def test_minmax_is_direction_aware_within_groups_and_keeps_missing_values_missing():
    v = pd.Series([10.0, 20.0, 30.0, np.nan, 5.0, 5.0])
    g = pd.Series(["a", "a", "a", "a", "b", "b"])
    assert ix.normalise(v, True, "minmax", g).tolist()[:3] == [0.0, 50.0, 100.0]
    assert ix.normalise(v, False, "minmax", g).tolist()[:3] == [100.0, 50.0, 0.0]
    out = ix.normalise(v, True, "minmax", g)
    assert math.isnan(out[3])
    assert out[4] == out[5] == 50.0  # a group where everyone is equal: nobody ahead


def test_zscore_is_a_t_score_with_the_population_sd():
    v = pd.Series([1.0, 2.0, 3.0])
    sd = math.sqrt(2 / 3)
    assert ix.normalise(v, True, "zscore").tolist() == pytest.approx([50 - 10 / sd, 50, 50 + 10 / sd])
    assert ix.normalise(v, False, "zscore").tolist() == pytest.approx([50 + 10 / sd, 50, 50 - 10 / sd])


def test_unknown_normalisation_is_refused():
    with pytest.raises(ValueError):
        ix.normalise(pd.Series([1.0, 2.0]), True, "rank")


# --- AHP ---

def test_ahp_saaty_3x3():
    """Saaty's classic 3×3 example: weights 0.637 / 0.258 / 0.105, λmax 3.0385, CR 0.033 (RI 0.58)."""
    w, lam, cr = ix.ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    assert w == pytest.approx([0.6370, 0.2583, 0.1047], abs=5e-4)
    assert lam == pytest.approx(3.0385, abs=5e-4)
    assert cr == pytest.approx(0.0332, abs=5e-4)


def _power_iteration(a, steps=200):
    """An independent route to the principal eigenvector (Saaty's own method: powers of the matrix)."""
    a = np.asarray(a, dtype=float)
    w = np.ones(len(a)) / len(a)
    for _ in range(steps):
        w = a @ w
        w /= w.sum()
    return w, float((a @ w / w).mean())


def test_ahp_4x4_textbook_example_and_power_iteration_agree():
    """A 4×4 textbook matrix (criteria A–D): weights 0.565 / 0.118 / 0.262 / 0.055, λmax 4.117, CR 0.043 (RI 0.90)."""
    a = [[1, 5, 3, 7], [1 / 5, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]]
    w, lam, cr = ix.ahp_weights(a)
    assert w == pytest.approx([0.5650, 0.1175, 0.2622, 0.0553], abs=5e-4)
    assert lam == pytest.approx(4.1170, abs=5e-4)
    assert cr == pytest.approx((4.1170 - 4) / 3 / 0.90, abs=5e-4)
    pw, plam = _power_iteration(a)
    assert w == pytest.approx(pw, abs=1e-9) and lam == pytest.approx(plam, abs=1e-9)


def test_ahp_of_a_consistent_matrix_returns_its_ratios_with_cr_zero():
    true = np.array([0.4, 0.3, 0.2, 0.1])
    w, lam, cr = ix.ahp_weights(true[:, None] / true[None, :])
    assert w == pytest.approx(true) and lam == pytest.approx(4) and cr == pytest.approx(0, abs=1e-9)


# --- entropy ---

def test_entropy_weights_hand_computed():
    """Columns [1,1,2], [1,1,1], [0,0,3]:
    p1 = ¼,¼,½ -> e1 = (½ ln 4 + ½ ln 2) / ln 3 = 1.039721 / 1.098612 = 0.946395, d1 = 0.053605;
    p2 = ⅓ each -> e2 = 1, d2 = 0;  p3 = 0,0,1 -> e3 = 0, d3 = 1;  w = d / 1.053605."""
    w = ix.entropy_weights(np.array([[1, 1, 0], [1, 1, 0], [2, 1, 3]], dtype=float))
    assert w == pytest.approx([0.053605 / 1.053605, 0.0, 1 / 1.053605], abs=1e-6)
    assert ix.entropy_weights(np.zeros((3, 2))) == pytest.approx([0.5, 0.5])


# --- aggregation ---

def test_weighted_mean_leaves_out_missing_parts_and_rescales():
    s = np.array([[80.0, 40.0], [np.nan, 40.0], [np.nan, np.nan]])
    out = ix.weighted_mean(s, np.array([3.0, 1.0]))
    assert out[0] == pytest.approx((3 * 80 + 40) / 4) and out[1] == 40.0 and math.isnan(out[2])


def test_aggregate_dimension_then_index():
    scores = pd.DataFrame({"a": [100.0, 0.0], "b": [50.0, 100.0], "c": [0.0, 100.0]})
    out = ix.aggregate(scores, {"D1": ["a", "b"], "D2": ["c"]}, {"a": 1, "b": 3, "c": 1}, {"D1": 0.75, "D2": 0.25})
    assert out["D1"].tolist() == [62.5, 75.0]
    assert out["index"].tolist() == [0.75 * 62.5, 0.75 * 75 + 25]


def test_parent_scores_mean_and_population_weighted():
    v = pd.DataFrame({"index": [80.0, 40.0, np.nan], "population": [1000, 3000, 500]})
    parent = pd.Series(["T", "T", "T"])
    assert ix.parent_scores(v, parent, ["index"], "mean").loc["T", "index"] == 60.0
    assert ix.parent_scores(v, parent, ["index"], "population").loc["T", "index"] == (80 * 1000 + 40 * 3000) / 4000


def test_rank_within_groups_and_sensitivity_counts_rank_changes():
    idx = pd.Series([70.0, 60.0, 50.0, 90.0], index=list("wxyz"))
    assert ix.rank(idx, pd.Series(["g", "g", "g", "h"], index=idx.index)).tolist() == [1, 2, 3, 1]
    # x leads on a, y on b: a:b = 1:1 -> x 65, y 35; a ×0.8 -> 61.1 vs 38.9; b ×1.2 -> 61.8 vs 38.2: no swap.
    scores = pd.DataFrame({"a": [100.0, 0.0], "b": [30.0, 70.0]}, index=["x", "y"])
    out = ix.sensitivity(scores, {"D": ["a", "b"]}, {"a": 1.0, "b": 1.0}, {"D": 1.0})
    assert set(out["weight"]) == {"D", "a", "b"} and len(out) == 6
    assert (out["changed"] == 0).all()
    close = pd.DataFrame({"a": [100.0, 0.0], "b": [0.0, 96.0]}, index=["x", "y"])  # 50 vs 48
    out = ix.sensitivity(close, {"D": ["a", "b"]}, {"a": 1.0, "b": 1.0}, {"D": 1.0}).set_index(["weight", "factor"])
    assert out.loc[("a", 0.8), "changed"] == 2 and out.loc[("a", 0.8), "max_shift"] == 1  # 44.4 vs 53.3
    assert out.loc[("a", 1.2), "changed"] == 0


# --- config ---

def test_default_config_is_the_articles_five_dimensions_and_eleven_indicators():
    cfg = load_config()
    assert [d.name for d in cfg.dimensions] == ["共富发展", "治理有序", "生活宜居", "党群连心", "组织坚实"]
    assert len(cfg.indicators) == 11
    assert {i.name for i in cfg.indicators} >= {"村级集体经济造血力", "党组织共富带动力"}
    assert cfg.weighting == "ahp" and cfg.ahp_cr < 0.1
    iw, dw = cfg.expert_weights()
    assert sum(dw.values()) == pytest.approx(1) and dw["gongfu"] == pytest.approx(dw["zhili"])
    assert dw["zhili"] > dw["dangqun"] > dw["yiju"]
    assert [s.name for s in cfg.stars][:3] == ["无信访维稳", "无刑事治安", "无检举控告"]


def _line_of(text: str, needle: str) -> int:
    """The last line holding ``needle`` (a duplicate is reported where it appears the second time)."""
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line][-1]


@pytest.mark.parametrize("old,new,needle,expect", [
    ('measure = "local_rate"', 'measure = "local"', 'measure = "local"', "measure 应为"),
    ('column = "environment_score"', 'column = "env"', 'column = "env"', "column 应为"),
    ('normalise = "minmax"', 'normalise = "rank"', 'normalise = "rank"', "normalise 应为"),
    ('key = "closure"', 'key = "local"', 'key = "local"', "重复"),
    ('direction = "lower_better"\n\n[[dimensions.indicators]]\nkey = "closure"',
     'direction = "lower"\n\n[[dimensions.indicators]]\nkey = "closure"', 'direction = "lower"', "direction"),
    ('categories = ["信访诉求"]\nlevels = ["县", "市"]', 'categories = ["信访诉求"]\nlevels = ["省"]', 'levels = ["省"]', "省"),
    ('name = "无刑事治安"', 'name = "无刑事治安"\ncolour = "red"', 'colour = "red"', "未知的项 colour"),
    ('measure = "count_per_10k"\ncategories = ["信访诉求"]', 'measure = "count_per_10k"', 'measure = "count_per_10k"',
     "须同时写 categories"),
])
def test_config_errors_name_the_line(old, new, needle, expect):
    bad = TEXT.replace(old, new, 1)
    assert bad != TEXT
    with pytest.raises(RulesError) as e:
        parse_config(bad, "index.toml")
    msg = str(e.value)
    assert msg.startswith(f"指数配置文件 index.toml 第 {_line_of(bad, needle)} 行：") and expect in msg


def test_an_inconsistent_ahp_table_is_refused_with_its_consistency_ratio():
    row = "  [1,      1,      3,      2,      2],       # 治理有序"
    bad = TEXT.replace(row, "  [1,      1,      3,      2,      0.1111],  # 治理有序").replace(
        "  [0.5,    0.5,    2,      1,      1],       # 组织坚实", "  [0.5,    9,      2,      1,      1],       # 组织坚实")
    with pytest.raises(RulesError, match=r"一致性比率 CR = \d\.\d{3}，须小于 0.1"):
        parse_config(bad, "index.toml")
    with pytest.raises(RulesError, match="互为倒数"):
        parse_config(TEXT.replace(row, "  [1,      1,      5,      2,      2],       # 治理有序"), "index.toml")


def test_toml_syntax_error_names_the_line():
    with pytest.raises(RulesError, match=r"第 \d+ 行：TOML 格式错误"):
        parse_config(TEXT.replace('name = "强基善治指数"', 'name = 强基善治指数'), "index.toml")


def test_store_keeps_the_last_good_config_after_a_broken_edit(tmp_path: Path):
    path = tmp_path / "index.toml"
    path.write_text(TEXT.replace('group = "county"', 'group = "city"'), encoding="utf-8")
    store = config_store(path)
    cfg, err = store.get()
    assert cfg.group == "city" and err is None
    path.write_text(TEXT.replace('group = "county"', 'group = "world"') + "\n", encoding="utf-8")
    cfg, err = store.get()
    assert cfg.group == "city" and "group 应为" in err


# --- stars ---

RULES = (StarRule("无信访维稳", ("信访诉求",), ("县", "市")), StarRule("无刑事治安", ("治安",), (), True),
         StarRule("少纠纷", ("矛盾纠纷",), (), False, 2))


def test_star_rules_count_only_what_each_rule_names():
    counts = pd.DataFrame([
        # village, category, resolution_level, is_major, received
        ("v1", "信访诉求", "县", False, 1), ("v1", "信访诉求", "村", False, 5), ("v1", "治安", None, False, 4),
        ("v1", "矛盾纠纷", "村", False, 2),
        ("v2", "治安", "镇", True, 1), ("v2", "矛盾纠纷", "镇", True, 3), ("v2", "信访诉求", "市", True, 2),
    ], columns=["village", "category", "resolution_level", "is_major", "received"])
    out = stars(counts, RULES, ["v1", "v2", "v3"])
    assert out["stars"].tolist() == [2, 0, 3] and (out["of"] == 3).all()
    assert out.loc["v1", "missed"] == "无信访维稳"
    assert out.loc["v1", "reasons"] == "无信访维稳：信访诉求（县、市层级化解） 1 件，超过 0 件"
    assert out.loc["v2", "reasons"].split("；")[1] == "无刑事治安：治安（重大事件） 1 件，超过 0 件"
    assert out.loc["v2", "reasons"].split("；")[2] == "少纠纷：矛盾纠纷 3 件，超过 2 件"
    assert out.loc["v3", "missed"] == ""


# --- the whole village evaluation on a tiny hand-made county ---

def _tiny_config(**kw) -> IndexConfig:
    dims = (
        Dimension("A", "甲", (Indicator("inc", "收入", "higher_better", "table", column="collective_income"),
                              Indicator("link", "联户率", "higher_better", "table", column="linked_households",
                                        per="households")), 1.0),
        Dimension("B", "乙", (Indicator("crime", "万人发案率", "lower_better", "cases", measure="per_10k"),
                              Indicator("pet", "信访", "lower_better", "cases", measure="count",
                                        categories=("信访诉求",))), 3.0),
    )
    return IndexConfig(dims, RULES[:1], weighting="given", **kw)


def test_village_evaluation_by_hand():
    villages = pd.DataFrame({"code": ["331102001001", "331102001002", "331102001003"], "name": ["甲村", "乙村", "丙村"],
                             "population": [1000, 2000, 4000]})
    table = pd.DataFrame({"code": ["331102001001", "331102001002", "331102001003"],
                          "collective_income": [10.0, 30.0, 50.0], "linked_households": [50, 100, 100],
                          "households": [100, 100, 200]})
    counts = pd.DataFrame([
        ("331102001001", "信访诉求", "县", False, 2.0), ("331102001002", "治安", "村", False, 6.0),
        ("331102001003", "信访诉求", "村", False, 4.0),
    ], columns=["village", "category", "resolution_level", "is_major", "received"])
    ev = av.evaluate(villages, table, counts, _tiny_config()).frame.set_index("code")
    # raw: inc 10/30/50, link .5/1/.5, crime 20/30/10 per 10k, petitions 2/0/4
    assert ev["crime"].tolist() == [20.0, 30.0, 10.0] and ev["pet"].tolist() == [2.0, 0.0, 4.0]
    # scores: inc 0/50/100, link 0/100/0, crime (lower) 50/0/100, pet (lower) 50/100/0
    assert ev["s_link"].tolist() == [0.0, 100.0, 0.0] and ev["s_crime"].tolist() == [50.0, 0.0, 100.0]
    assert ev["d_A"].tolist() == [0.0, 75.0, 50.0] and ev["d_B"].tolist() == [50.0, 50.0, 50.0]
    assert ev["index"].tolist() == pytest.approx([(0 + 3 * 50) / 4, (75 + 150) / 4, (50 + 150) / 4])
    assert ev["rank"].tolist() == [3, 1, 2]
    assert ev["stars"].tolist() == [0, 1, 1] and ev.loc["331102001001", "missed"] == "无信访维稳"


# --- playback colours ---

def test_playback_colours_use_one_scale_over_all_months():
    from analytics.warnings import DEFAULT_RULES
    from ui.playback import month_scales
    hist = pd.DataFrame({"month": [202501, 202501, 202502, 202502], "code": ["a", "b", "a", "b"], "name": list("甲乙甲乙"),
                         "closure_rate": [0.5, 1.0, 1.0, 0.75], "received": [40, 40, 40, 10]})
    out = month_scales(hist, "closure_rate", DEFAULT_RULES)
    assert out[202501][0]["b"] == out[202502][0]["a"]  # the same value has the same colour in every month
    assert out[202501][0]["a"] != out[202501][0]["b"]
    assert [sum(e.count for e in out[m][1].legend) for m in (202501, 202502)] == [2, 2]
    quiet = hist.assign(received=[40, 40, 40, 0])  # b receives nothing in February: 数据不足 that month
    warn = month_scales(quiet, "warning", DEFAULT_RULES)
    assert warn[202502][0]["b"] == DEFAULT_RULES.no_data.color
    assert warn[202501][0]["b"] == DEFAULT_RULES.levels[0].color


def test_index_export_is_a_coloured_ranking_with_its_method_on_record():
    import io

    import openpyxl

    from exports.index_report import export_index
    from geo.colors import indicator_scale
    cfg = load_config()
    dims = {f"d_{d.key}": [50.0, 70.0] for d in cfg.dimensions}
    table = pd.DataFrame({"rank": [1, 2], "name": ["甲镇", "=HYPERLINK(1)"], "code": ["331102001000", "331102002000"],
                          "index": [80.0, 40.0], "change": [1.5, np.nan], **dims, "stars": [5.5, 6.0]})
    buf = io.BytesIO()
    assert export_index(table, cfg, 2026, buf, region_name="莲都区", weights=cfg.expert_weights()[1]) == 2
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb["指数排名"]
    assert [c.value for c in ws[1]][:5] == ["名次", "名称", "区划代码", "强基善治指数", "较上年"]
    assert ws["B3"].value == "'=HYPERLINK(1)"  # defused
    colours = indicator_scale(table["index"], "index").colors
    assert ws["D2"].fill.fgColor.rgb[-6:].lower() == colours[0].lstrip("#") and ws["E3"].value is None
    info = {r[0].value: r[1].value for r in wb["导出说明"].iter_rows()}
    assert info["评价年度"] == "2026" and "共富发展 0.298" in info["维度权重"] and "AHP" in info["计算方法"]
