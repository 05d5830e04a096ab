"""The index configuration (``config/index.toml``): dimensions, indicators, weights, star rules.

Why a file: which indicators measure a village, how much each weighs and what earns a star are decided by
the county each year (Ruian ties village cadres' pay to them), so staff read and edit them; nothing here is a
hard-coded weight. The parser is strict in the same way as the warning rules (``analytics.warnings``):
an unknown key, a wrong type, an inconsistent AHP table (CR ≥ 0.1) or a star rule on an unknown resolution
level is a :class:`~analytics.warnings.RulesError` naming the file and the line; the store keeps the last
good configuration in force.

Pure Python: no Streamlit, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analytics.index import MAX_CR, ahp_weights
from analytics.warnings import DIRECTIONS, RulesError, RulesStore, _Checker, _check_keys, _number, _text, load_toml

WHAT = "指数配置文件"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "index.toml"

#: Columns of the yearly village table (村社年度表, table ``village_year``): key -> Chinese header.
VILLAGE_COLUMNS: dict[str, str] = {
    "collective_income": "村级集体经济经营性收入（万元）",
    "income_growth": "农村居民人均可支配收入增幅（%）",
    "environment_score": "人居环境测评得分",
    "households": "户数",
    "linked_households": "党员联系户数",
    "party_members": "党员人数",
    "young_members": "35岁以下党员人数",
}
#: What the cases can measure for a village over a year (source = "cases").
CASE_MEASURES = ("per_10k", "closure_rate", "on_time_rate", "local_rate", "satisfaction_rate", "count_per_10k",
                 "count")
NORMALISE = ("minmax", "zscore")
GROUPS = ("city", "county", "township")
PARENT = ("mean", "population")
WEIGHTING = ("ahp", "given", "entropy")
RESOLUTION_LEVELS = ("村", "镇", "县", "市")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    direction: str
    source: str                      # "cases" or "table"
    measure: str = ""                # cases: one of CASE_MEASURES
    column: str = ""                 # table: one of VILLAGE_COLUMNS
    per: str = ""                    # table: optional denominator column
    categories: tuple[str, ...] = ()
    weight: float = 1.0
    unit: str = ""

    @property
    def higher_better(self) -> bool:
        return self.direction == "higher_better"


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    indicators: tuple[Indicator, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class StarRule:
    """One "no" of 星级平安村社: at most ``max`` cases of ``categories`` (resolved at ``levels``; major only)."""
    name: str
    categories: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    major: bool = False
    max: int = 0


@dataclass(frozen=True)
class IndexConfig:
    dimensions: tuple[Dimension, ...]
    stars: tuple[StarRule, ...] = ()
    name: str = "强基善治指数"
    normalise: str = "minmax"
    group: str = "county"
    parent: str = "population"
    weighting: str = "given"
    ahp: tuple[tuple[float, ...], ...] = ()
    source: str = "内置默认配置"
    ahp_cr: float = field(default=0.0, compare=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def members(self) -> dict[str, list[str]]:
        """dimension key -> its indicator keys (what :func:`analytics.index.aggregate` takes)."""
        return {d.key: [i.key for i in d.indicators] for d in self.dimensions}

    def ahp_dimension_weights(self) -> dict[str, float] | None:
        if not self.ahp:
            return None
        w, _lam, _cr = ahp_weights(self.ahp)
        return dict(zip((d.key for d in self.dimensions), w.tolist()))

    def given_dimension_weights(self) -> dict[str, float]:
        total = sum(d.weight for d in self.dimensions)
        return {d.key: d.weight / total for d in self.dimensions}

    def expert_weights(self) -> tuple[dict[str, float], dict[str, float]]:
        """(indicator weights, dimension weights) of the configured expert method (ahp or given)."""
        dims = self.ahp_dimension_weights() if self.weighting == "ahp" else self.given_dimension_weights()
        return {i.key: i.weight for i in self.indicators}, dims or self.given_dimension_weights()


def entropy_split(cfg: IndexConfig, w: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Flat entropy weights as (indicator weights, dimension weights): a dimension weighs the sum of its
    indicators' weights, so the index equals Σ w_i · s_i."""
    iw = {i.key: float(x) for i, x in zip(cfg.indicators, w)}
    dw = {d.key: sum(iw[i.key] for i in d.indicators) for d in cfg.dimensions}
    return iw, dw


# --- parsing ---

def _choice(chk, section, table, key, options, default):
    v = table.get(key, default)
    if v not in options:
        chk.fail(section, key, f"{key} 应为 {'、'.join(repr(o) for o in options)} 之一，实际 {v!r}")
    return v


def _strings(chk, section, table, key, who, allowed=None) -> tuple[str, ...]:
    v = table.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        chk.fail(section, key, f"{who}的 {key} 应是一组文字，如 [\"信访诉求\"]")
    if allowed is not None:
        for x in v:
            if x not in allowed:
                chk.fail(section, key, f"{who}的 {key} 中有未知的值 {x}（可用：{'、'.join(allowed)}）")
    return tuple(x.strip() for x in v)


def _positive(chk, section, table, key, who, default=1.0) -> float:
    v = table.get(key, default)
    if not _number(v) or v <= 0:
        chk.fail(section, key, f"{who}的 {key} 应是大于 0 的数，实际 {v!r}")
    return float(v)


def _indicator(chk, sec: str, t: dict, who: str) -> Indicator:
    _check_keys(chk, sec, t, {"key", "name", "unit", "direction", "weight", "source", "column", "per", "measure",
                              "categories"}, who)
    key = _text(chk, sec, t, "key", who)
    if not _KEY.match(key):
        chk.fail(sec, "key", f"{who}的 key {key!r} 只能由字母开头，含字母、数字、下划线")
    name = _text(chk, sec, t, "name", who)
    direction = t.get("direction")
    if direction not in DIRECTIONS:
        chk.fail(sec, "direction", f"{who}的 direction 应为 \"higher_better\" 或 \"lower_better\"，实际 {direction!r}")
    source = _choice(chk, sec, t, "source", ("cases", "table"), None)
    measure = column = per = ""
    categories: tuple[str, ...] = ()
    if source == "cases":
        for k in ("column", "per"):
            if k in t:
                chk.fail(sec, k, f"{who}取自事件数据（source = \"cases\"），不能写 {k}")
        measure = _choice(chk, sec, t, "measure", CASE_MEASURES, None)
        categories = _strings(chk, sec, t, "categories", who)
        if measure in ("count", "count_per_10k") and not categories:
            chk.fail(sec, "measure", f"{who}的 measure = {measure!r} 须同时写 categories（计入的事件类别）")
        if measure not in ("count", "count_per_10k") and categories:
            chk.fail(sec, "categories", f"{who}的 categories 只用于 measure = \"count\" 或 \"count_per_10k\"")
    else:
        for k in ("measure", "categories"):
            if k in t:
                chk.fail(sec, k, f"{who}取自村社年度表（source = \"table\"），不能写 {k}")
        column = _choice(chk, sec, t, "column", tuple(VILLAGE_COLUMNS), None)
        per = _choice(chk, sec, t, "per", ("", *VILLAGE_COLUMNS), "")
    unit = t.get("unit", "")
    if not isinstance(unit, str):
        chk.fail(sec, "unit", f"{who}的 unit 应是文字")
    return Indicator(key, name, direction, source, measure, column, per, categories,
                     _positive(chk, sec, t, "weight", who), unit)


def _dimensions(chk, data: dict) -> tuple[Dimension, ...]:
    raw = data.get("dimensions")
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        chk.fail("dimensions", None, "至少要有一个维度，每个写成一段 [[dimensions]]")
    dims, seen = [], {}
    for i, t in enumerate(raw):
        sec, who = f"dimensions#{i}", f"第 {i + 1} 个维度"
        _check_keys(chk, sec, t, {"key", "name", "weight", "indicators"}, who)
        key = _text(chk, sec, t, "key", who)
        name = _text(chk, sec, t, "name", who)
        inds_raw = t.get("indicators")
        if not isinstance(inds_raw, list) or not inds_raw or not all(isinstance(x, dict) for x in inds_raw):
            chk.fail(sec, None, f"维度 {name} 至少要有一项指标，写成 [[dimensions.indicators]]")
        inds = []
        for j, it in enumerate(inds_raw):
            # the checker numbers array tables per file, not per parent: count the earlier dimensions' ones
            n_before = sum(len(x.get("indicators", [])) for x in raw[:i] if isinstance(x.get("indicators"), list))
            ind = _indicator(chk, f"dimensions.indicators#{n_before + j}", it, f"维度 {name} 的第 {j + 1} 项指标")
            if ind.key in seen or ind.key == key:
                chk.fail(f"dimensions.indicators#{n_before + j}", "key", f"指标代码 {ind.key} 重复")
            seen[ind.key] = True
            inds.append(ind)
        if key in seen or key in {d.key for d in dims}:
            chk.fail(sec, "key", f"维度代码 {key} 重复")
        dims.append(Dimension(key, name, tuple(inds), _positive(chk, sec, t, "weight", who)))
    return tuple(dims)


def _ahp(chk, data: dict, dims, weighting: str) -> tuple[tuple[tuple[float, ...], ...], float]:
    t = data.get("ahp")
    if t is None:
        if weighting == "ahp":
            chk.fail("", "weighting", "weighting = \"ahp\" 需要一段 [ahp] 判断矩阵")
        return (), 0.0
    if not isinstance(t, dict):
        chk.fail("", "ahp", "ahp 应写成一段 [ahp]")
    _check_keys(chk, "ahp", t, {"matrix"}, "[ahp] ")
    m = t.get("matrix")
    n = len(dims)
    if (not isinstance(m, list) or len(m) != n
            or not all(isinstance(r, list) and len(r) == n and all(_number(v) and v > 0 for v in r) for r in m)):
        chk.fail("ahp", "matrix", f"判断矩阵应为 {n}×{n} 的正数方阵（{n} 个维度，顺序同 [[dimensions]]）")
    for i in range(n):
        if abs(m[i][i] - 1) > 1e-9:
            chk.fail("ahp", "matrix", f"判断矩阵第 {i + 1} 行第 {i + 1} 列（对角线）应为 1，实际 {m[i][i]}")
        for j in range(i + 1, n):
            if abs(m[i][j] * m[j][i] - 1) > 0.01:
                chk.fail("ahp", "matrix", f"判断矩阵第 {i + 1} 行第 {j + 1} 列（{m[i][j]}）与第 {j + 1} 行第 {i + 1} 列"
                                          f"（{m[j][i]}）应互为倒数")
    _w, _lam, cr = ahp_weights(m)
    if cr >= MAX_CR:
        chk.fail("ahp", "matrix", f"判断矩阵的一致性比率 CR = {cr:.3f}，须小于 {MAX_CR}：请调整相互矛盾的判断")
    return tuple(tuple(float(v) for v in r) for r in m), cr


def _stars(chk, data: dict) -> tuple[StarRule, ...]:
    raw = data.get("stars", [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        chk.fail("stars", None, "星级规则应写成若干段 [[stars]]")
    out = []
    for i, t in enumerate(raw):
        sec, who = f"stars#{i}", f"第 {i + 1} 条星级规则"
        _check_keys(chk, sec, t, {"name", "categories", "levels", "major", "max"}, who)
        name = _text(chk, sec, t, "name", who)
        major = t.get("major", False)
        if not isinstance(major, bool):
            chk.fail(sec, "major", f"{who}的 major 应为 true 或 false")
        mx = t.get("max", 0)
        if not isinstance(mx, int) or isinstance(mx, bool) or mx < 0:
            chk.fail(sec, "max", f"{who}的 max 应是不小于 0 的整数，实际 {mx!r}")
        out.append(StarRule(name, _strings(chk, sec, t, "categories", who),
                            _strings(chk, sec, t, "levels", who, RESOLUTION_LEVELS), major, mx))
    names = [s.name for s in out]
    for i, n in enumerate(names):
        if names.index(n) != i:
            chk.fail(f"stars#{i}", "name", f"星级规则名称重复：{n}")
    return tuple(out)


def parse_config(text: str, path="指数配置") -> IndexConfig:
    """Parse and validate the TOML text of an index configuration (see the module docstring)."""
    data = load_toml(text, path, WHAT)
    chk = _Checker(path, text, WHAT)
    _check_keys(chk, "", data, {"name", "normalise", "group", "parent", "weighting", "ahp", "dimensions", "stars"},
                "文件顶层")
    name = data.get("name", "强基善治指数")
    if not isinstance(name, str) or not name.strip():
        chk.fail("", "name", "name 应是文字")
    normalise = _choice(chk, "", data, "normalise", NORMALISE, "minmax")
    group = _choice(chk, "", data, "group", GROUPS, "county")
    parent = _choice(chk, "", data, "parent", PARENT, "population")
    weighting = _choice(chk, "", data, "weighting", WEIGHTING, "given")
    dims = _dimensions(chk, data)
    ahp, cr = _ahp(chk, data, dims, weighting)
    return IndexConfig(dims, _stars(chk, data), name, normalise, group, parent, weighting, ahp, str(path), cr)


def load_config(path=DEFAULT_PATH) -> IndexConfig:
    """Read and validate a config file; raises :class:`RulesError` with a Chinese message."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError(f"{WHAT} {path} 无法读取：{e}") from None
    return parse_config(text, path)


def config_store(path) -> RulesStore:
    """A store that re-reads ``path`` when it changes and keeps the last good config after a broken edit
    (the built-in default is the shipped ``config/index.toml``)."""
    return RulesStore(path, load=load_config, default=load_config(DEFAULT_PATH))
