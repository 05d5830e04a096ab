"""Three-colour (or n-colour) warnings: rules from a TOML file, evaluation, problem list.

Why a rules file: the thresholds of the 平安报表 change by year and by place, and Jincheng uses
five colours where Lishui uses three (DOMAIN.md), so levels, thresholds, weights and per-county
overrides live in ``config/warning_rules.toml``, which staff read and edit; nothing here is a
hard-coded threshold. The warning colours live only in the rules as well: other modules ask
:func:`level_color` / :func:`level_name`.

Semantics, stated once:
    * levels are ordered best (index 0) to worst; ``-1`` means 数据不足 (no data, grey);
    * a value exactly at a boundary belongs to the better level;
    * a missing indicator column or a NaN value is "no data" for that indicator and is ignored
      by the combination (never red);
    * a region with fewer than ``min_cases`` received cases is 数据不足 overall;
    * thresholds of a row: the longest matching per-region override, else the row's level in the
      indicator's ``by_level`` table, else the indicator's default ``thresholds`` (counts such as 逾期未办结
      are not comparable between a county-year and a village-month: judge them as a rate, e.g.
      ``overdue_rate`` = per case received, or give them per-level thresholds);
    * small numbers (a Bayesian estimate with a prior at the standard): a rate that counts cases
      (``analytics.indicators.RATE_PARTS``: closed / due, …) is judged as ``(x + m·s) / (n + m)``: the
      region's own x of n cases plus ``m = prior_cases`` reference cases exactly at the standard s (the
      boundary of the best level). Three cases with one late move a village from the standard toward
      "worse", not to red; with hundreds of cases the region's own rate decides. Why the standard and not
      the parent's rate: with the parent as prior, every village of a township that has one bad month
      inherits its red, whatever its own cases say. ``judged_<key>`` holds the value judged;
      ``small_sample`` marks rows with fewer than ``small_sample`` received cases, which pages label;
    * red asks for more evidence (``worst_prior_cases``): a rate at the worst level is judged again with that
      many reference cases, and stays one level better unless it still crosses the worst boundary;
    * a short window (``window_months``): where a rate's own denominator in the period is below ``small_sample``
      and a trailing window of that many months (ending with the period) holds more cases, the rate is judged
      on the window instead (a village's three cases of a month, a county's first day of a month); the row is
      marked ``window`` and pages say "样本较少，按近12个月计算". A region with no case in the period but some
      in the window is judged on the window rather than grey;
    * ``combine = "worst"`` takes the worst indicator level; ``"weighted"`` takes the weighted mean
      of the level indices and maps it with ``score_thresholds`` (score <= t[0] -> level 0, ...),
      by default ``[0.5, 1.5, ...]`` (rounding, .5 going to the better level).

Pure Python and pandas: no Streamlit, no database.
"""
from __future__ import annotations

import math
import os
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.indicators import INDICATORS, RATE_PARTS

DIRECTIONS = ("higher_better", "lower_better")
COMBINE_MODES = ("worst", "weighted")
NO_DATA = -1
#: Tolerance for "exactly at the threshold" when a value comes out of float arithmetic.
EPS = 1e-9
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_PREFIX_LENGTHS = (2, 4, 6, 9, 12)
#: Region levels a ``by_level`` table may name (the ``level`` column of an indicator table).
REGION_LEVELS = ("city", "county", "township", "village", "grid")


class RulesError(ValueError):
    """A rules file that cannot be used; ``str()`` is a Chinese message with file and line."""


@dataclass(frozen=True)
class Level:
    key: str
    name: str
    color: str


@dataclass(frozen=True)
class IndicatorRule:
    key: str
    name: str
    direction: str
    thresholds: tuple[float, ...]
    weight: float = 1.0
    #: (region level, thresholds) pairs replacing ``thresholds`` for rows of that level.
    by_level: tuple[tuple[str, tuple[float, ...]], ...] = ()

    @property
    def higher_better(self) -> bool:
        return self.direction == "higher_better"


@dataclass(frozen=True)
class Override:
    """Thresholds replacing the defaults for every region whose code starts with ``prefix``."""
    prefix: str
    thresholds: tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class Rules:
    levels: tuple[Level, ...]
    indicators: tuple[IndicatorRule, ...]
    no_data: Level = Level("no_data", "数据不足", "#9e9e9e")
    min_cases: int = 30
    #: Strength m of the shrinkage toward the parent's rate, in cases (0: judge the raw rate).
    prior_cases: float = 0.0
    #: Rows with fewer received cases than this are marked 样本较少 (pages say how they were judged).
    small_sample: int = 0
    #: Months of the trailing window that judges a rate whose period holds too few cases (0: no window).
    window_months: int = 0
    #: Reference cases for the worst level (red): more evidence than for yellow (0: the same as prior_cases).
    worst_prior_cases: float = 0.0
    combine: str = "worst"
    score_thresholds: tuple[float, ...] = ()
    overrides: tuple[Override, ...] = ()
    source: str = "内置默认规则"

    def indicator(self, key: str) -> IndicatorRule:
        return next(i for i in self.indicators if i.key == key)


# --- built-in defaults (must equal the shipped config/warning_rules.toml; a test checks) ---

DEFAULT_RULES = Rules(
    levels=(Level("green", "绿", "#2e7d32"), Level("yellow", "黄", "#f9a825"), Level("red", "红", "#c62828")),
    indicators=(
        IndicatorRule("closure_rate", "办结率", "higher_better", (0.97, 0.92), 2.0),
        IndicatorRule("on_time_rate", "按期办结率", "higher_better", (0.92, 0.82), 1.0),
        IndicatorRule("overdue_rate", "逾期率", "lower_better", (0.03, 0.08), 2.0),
        IndicatorRule("satisfaction_rate", "满意率", "higher_better", (0.93, 0.85), 1.0),
        IndicatorRule("local_rate", "就地化解率", "higher_better", (0.86, 0.75), 1.0),
    ),
    min_cases=1, prior_cases=20.0, worst_prior_cases=40.0, small_sample=30, window_months=12,
    score_thresholds=(0.5, 1.5),
)


# --- locating a key in the text, for error messages ---

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def _norm_header(raw: str) -> str:
    return ".".join(p.strip().strip("\"'") for p in raw.split("."))


def _index_lines(text: str) -> tuple[dict, dict]:
    """Map section -> header line and (section, key) -> line; array tables are ``name#i``."""
    headers, keys, seen, section = {}, {}, {}, ""
    for no, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            section = _norm_header(m.group(2))
            if m.group(1) == "[[":
                i = seen[section] = seen.get(section, -1) + 1
                headers.setdefault(section, no)
                section = f"{section}#{i}"
            headers.setdefault(section, no)
            continue
        m = _KEY.match(line)
        if m:
            key = next(g for g in m.groups() if g is not None)
            keys.setdefault((section, key), no)
    return headers, keys


class _Checker:
    """Raises RulesError naming the file and the line of a (section, key) in the text.

    ``what`` names the kind of file in messages (the index config reuses this checker).
    """

    def __init__(self, path, text: str, what: str = "预警规则文件"):
        self.path = str(path)
        self.what = what
        self.headers, self.keys = _index_lines(text)

    def line(self, section: str, key: str | None = None) -> int | None:
        if key is not None and (section, key) in self.keys:
            return self.keys[(section, key)]
        for s in ([f"{section}.{key}"] if key is not None else []) + [section]:
            while s:
                if s in self.headers:
                    return self.headers[s]
                s = s.rpartition(".")[0]
        return None

    def fail(self, section: str, key: str | None, problem: str):
        raise RulesError(_message(self.path, self.line(section, key), problem, self.what))


def _message(path: str, line: int | None, problem: str, what: str = "预警规则文件") -> str:
    where = f" 第 {line} 行：" if line else "："
    return f"{what} {path}{where}{problem}"


# --- validation ---

def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_keys(chk: _Checker, section: str, table: dict, allowed: set, what: str):
    for k in table:
        if k not in allowed:
            chk.fail(section, k, f"{what}中有未知的项 {k}（可用：{'、'.join(sorted(allowed))}）")


def _text(chk, section, table, key, what) -> str:
    v = table.get(key)
    if not isinstance(v, str) or not v.strip():
        chk.fail(section, key, f"{what}缺少 {key}，或 {key} 不是文字")
    return v


def _color(chk, section, table, what) -> str:
    v = _text(chk, section, table, "color", what)
    if not _COLOR.match(v):
        chk.fail(section, "color", f"{what}的颜色 {v!r} 无效，应写成 #RRGGBB（如 \"#2e7d32\"）")
    return v


def _levels(chk: _Checker, data: dict) -> tuple[Level, ...]:
    raw = data.get("levels")
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(x, dict) for x in raw):
        chk.fail("levels", None, "至少要有 2 个预警等级，每个写成一段 [[levels]]")
    levels = []
    for i, t in enumerate(raw):
        sec, what = f"levels#{i}", f"第 {i + 1} 个等级"
        _check_keys(chk, sec, t, {"key", "name", "color"}, what)
        levels.append(Level(_text(chk, sec, t, "key", what), _text(chk, sec, t, "name", what), _color(chk, sec, t, what)))
    for attr in ("key", "name"):
        values = [getattr(lv, attr) for lv in levels]
        for i, v in enumerate(values):
            if values.index(v) != i:
                chk.fail(f"levels#{i}", attr, f"等级的 {attr} 重复：{v}")
    return tuple(levels)


def _no_data(chk: _Checker, data: dict, levels) -> Level:
    t = data.get("no_data", {})
    if not isinstance(t, dict):
        chk.fail("", "no_data", "no_data 应是一段 [no_data]")
    _check_keys(chk, "no_data", t, {"name", "color"}, "[no_data] ")
    name = _text(chk, "no_data", t, "name", "[no_data] ") if "name" in t else Rules.no_data.name
    color = _color(chk, "no_data", t, "[no_data] ") if "color" in t else Rules.no_data.color
    if name in {lv.name for lv in levels}:
        chk.fail("no_data", "name", f"“数据不足”的名称 {name} 与某个预警等级重名")
    return Level("no_data", name, color)


def _thresholds(chk, section, key, values, n_levels: int, direction: str, who: str) -> tuple[float, ...]:
    """Check a threshold list: len(levels)-1 numbers, strictly monotonic in the direction."""
    need = n_levels - 1
    if not isinstance(values, list) or not all(_number(v) for v in values):
        chk.fail(section, key, f"{who}的阈值应是一组数字，如 [0.95, 0.90]")
    if len(values) != need:
        chk.fail(section, key, f"{who}的阈值应有 {need} 个（等级数减一），实际 {len(values)} 个")
    pairs = list(zip(values, values[1:]))
    if direction == "higher_better" and not all(a > b for a, b in pairs):
        chk.fail(section, key, f"{who}越高越好（higher_better），阈值应从高到低排列，实际 {values}")
    if direction == "lower_better" and not all(a < b for a, b in pairs):
        chk.fail(section, key, f"{who}越低越好（lower_better），阈值应从低到高排列，实际 {values}")
    return tuple(float(v) for v in values)


def _indicators(chk: _Checker, data: dict, n_levels: int) -> tuple[IndicatorRule, ...]:
    raw = data.get("indicators")
    if not isinstance(raw, dict) or not raw:
        chk.fail("indicators", None, "至少要有一个指标规则，写成 [indicators.指标代码]")
    return tuple(indicator_section(chk, key, t, n_levels) for key, t in raw.items())


def indicator_section(chk: _Checker, key: str, t, n_levels: int, *, known=INDICATORS, what: str = "指标",
                      extra: tuple[str, ...] = ("weight", "by_level")) -> IndicatorRule:
    """One ``[indicators.<key>]`` section checked and parsed: name, direction, thresholds and the ``extra`` keys
    (weight, by_level). Other rules files with the same section shape (the 督办 rules) use it with their own
    ``known`` indicators and ``what`` (the word their messages use)."""
    sec, who = f"indicators.{key}", f"{what} {key} "
    if key not in known:
        chk.fail(sec, None, f"未知的{what} {key}（可用：{'、'.join(known)}）")
    if not isinstance(t, dict):
        chk.fail("indicators", key, f"{what} {key} 应写成一段 [indicators.{key}]")
    _check_keys(chk, sec, t, {"name", "direction", "thresholds", *extra}, who)
    name = _text(chk, sec, t, "name", who)
    direction = t.get("direction")
    if direction not in DIRECTIONS:
        chk.fail(sec, "direction", f"{who}的 direction 应为 \"higher_better\" 或 \"lower_better\"，实际 {direction!r}")
    if "thresholds" not in t:
        chk.fail(sec, None, f"{who}缺少 thresholds")
    thresholds = _thresholds(chk, sec, "thresholds", t["thresholds"], n_levels, direction, who)
    weight = t.get("weight", 1)
    if not _number(weight) or weight <= 0:
        chk.fail(sec, "weight", f"{who}的权重 weight 应是大于 0 的数，实际 {weight!r}")
    by_level = _by_level(chk, sec, t.get("by_level", {}), n_levels, direction, key) if "by_level" in extra else ()
    return IndicatorRule(key, name, direction, thresholds, float(weight), by_level)


def _by_level(chk: _Checker, sec: str, raw, n_levels: int, direction: str, key: str) -> tuple:
    """``[indicators.<key>.by_level]``: thresholds per region level (county = [...], village = [...])."""
    if not isinstance(raw, dict):
        chk.fail(sec, "by_level", f"指标 {key} 的 by_level 应写成一段 [indicators.{key}.by_level]")
    sub = f"{sec}.by_level"
    out = []
    for level, values in raw.items():
        if level not in REGION_LEVELS:
            chk.fail(sub, level, f"指标 {key} 的分级阈值中有未知的层级 {level}（可用：{'、'.join(REGION_LEVELS)}）")
        out.append((level, _thresholds(chk, sub, level, values, n_levels, direction, f"指标 {key} 在 {level} 层级")))
    return tuple(out)


def _overrides(chk: _Checker, data: dict, indicators, n_levels: int) -> tuple[Override, ...]:
    raw = data.get("overrides", {})
    if not isinstance(raw, dict):
        chk.fail("", "overrides", "overrides 应写成 [overrides.\"区划代码\"] 段")
    by_key = {i.key: i for i in indicators}
    out = []
    for prefix, t in raw.items():
        sec = f"overrides.{prefix}"
        if not (prefix.isdigit() and len(prefix) in _PREFIX_LENGTHS):
            chk.fail(sec, None, f"分地区阈值的区划代码 {prefix!r} 无效，应为 6 位县级代码或 2/4/9/12 位代码前缀")
        if not isinstance(t, dict):
            chk.fail("overrides", prefix, f"分地区阈值 {prefix} 应写成一段 [overrides.\"{prefix}\"]")
        pairs = []
        for key, values in t.items():
            if key not in by_key:
                chk.fail(sec, key, f"分地区阈值 {prefix} 中的指标 {key} 没有在 [indicators.{key}] 中定义")
            pairs.append((key, _thresholds(chk, sec, key, values, n_levels, by_key[key].direction,
                                           f"分地区阈值 {prefix} 中指标 {key} ")))
        out.append(Override(prefix, tuple(pairs)))
    return tuple(sorted(out, key=lambda o: len(o.prefix)))


def _score_thresholds(chk: _Checker, data: dict, n_levels: int) -> tuple[float, ...]:
    if "score_thresholds" not in data:
        return tuple(k + 0.5 for k in range(n_levels - 1))
    values = data["score_thresholds"]
    return _thresholds(chk, "", "score_thresholds", values, n_levels, "lower_better", "综合分数 score_thresholds ")


def load_toml(text: str, path, what: str = "预警规则文件") -> dict:
    """The TOML text as a dict; a syntax error becomes a RulesError naming the line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line = int(m.group(1)) if m else max(1, len(text.splitlines()))
        col = f"第 {m.group(2)} 列" if m else "文件末尾"
        problem = re.sub(r"\s*\(at .*\)$", "", str(e))
        raise RulesError(_message(str(path), line, f"TOML 格式错误（{col}）：{problem}", what)) from None


def parse_rules(text: str, path="预警规则") -> Rules:
    """Parse and validate the TOML text of a rules file (see the module docstring)."""
    data = load_toml(text, path)
    chk = _Checker(path, text)
    _check_keys(chk, "", data, {"min_cases", "prior_cases", "worst_prior_cases", "small_sample", "window_months", "combine", "score_thresholds", "no_data",
                                "levels", "indicators", "overrides"}, "文件顶层")
    levels = _levels(chk, data)
    min_cases = data.get("min_cases", 30)
    if not isinstance(min_cases, int) or isinstance(min_cases, bool) or min_cases < 0:
        chk.fail("", "min_cases", f"min_cases 应是不小于 0 的整数，实际 {min_cases!r}")
    prior_cases = data.get("prior_cases", 0)
    if not _number(prior_cases) or prior_cases < 0:
        chk.fail("", "prior_cases", f"prior_cases 应是不小于 0 的数（参照事件数，0 表示不做小样本修正），实际 {prior_cases!r}")
    worst_prior = data.get("worst_prior_cases", 0)
    if not _number(worst_prior) or worst_prior < 0:
        chk.fail("", "worst_prior_cases", f"worst_prior_cases 应是不小于 0 的数（判最差一级时的参照事件数，0 表示与 "
                                          f"prior_cases 相同），实际 {worst_prior!r}")
    small_sample = data.get("small_sample", 0)
    if not isinstance(small_sample, int) or isinstance(small_sample, bool) or small_sample < 0:
        chk.fail("", "small_sample", f"small_sample 应是不小于 0 的整数，实际 {small_sample!r}")
    window_months = data.get("window_months", 0)
    if not isinstance(window_months, int) or isinstance(window_months, bool) or not 0 <= window_months <= 120:
        chk.fail("", "window_months", f"window_months 应是 0 到 120 之间的整数（月数，0 表示不按近期窗口补足样本），"
                                      f"实际 {window_months!r}")
    combine = data.get("combine", "worst")
    if combine not in COMBINE_MODES:
        chk.fail("", "combine", f"combine 应为 \"worst\" 或 \"weighted\"，实际 {combine!r}")
    indicators = _indicators(chk, data, len(levels))
    return Rules(
        levels=levels, indicators=indicators, no_data=_no_data(chk, data, levels), min_cases=min_cases,
        prior_cases=float(prior_cases), worst_prior_cases=float(worst_prior), small_sample=small_sample, window_months=window_months, combine=combine, score_thresholds=_score_thresholds(chk, data, len(levels)),
        overrides=_overrides(chk, data, indicators, len(levels)), source=str(path),
    )


#: The project folder: a rules file inside it is named relative to it (config/warning_rules.toml), so pages
#: and messages never show the server's absolute paths.
PROJECT_DIR = Path(__file__).resolve().parent.parent


def shown_path(path) -> str:
    """``path`` relative to the project when it lies inside it (as a staff member would find it), else as given."""
    try:
        return Path(path).resolve().relative_to(PROJECT_DIR).as_posix()
    except (ValueError, OSError):
        return str(path)


def load_rules(path) -> Rules:
    """Read and validate a rules file; raises :class:`RulesError` with a Chinese message."""
    name = shown_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError(f"预警规则文件 {name} 无法读取：{e}") from None
    return parse_rules(text, name)


class RulesStore:
    """The current rules of a file, re-read when its mtime or size changes.

    ``get()`` returns ``(rules, error)``: after a broken edit the last good rules stay in force and
    ``error`` is the message to show; if the very first load fails, :data:`DEFAULT_RULES` are used.
    """

    def __init__(self, path, load=None, default=None):
        self.path = Path(path)
        self._load = load or load_rules  # the index config (analytics.index_config) shares this store
        self._default = default if default is not None else DEFAULT_RULES
        self._lock = threading.Lock()
        self._stamp = object()
        self._rules: Rules | None = None
        self._error: str | None = None

    def _stat(self):
        try:
            st = os.stat(self.path)
            return st.st_mtime_ns, st.st_size
        except OSError:
            return None

    def get(self) -> tuple[Rules, str | None]:
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._rules, self._error = self._load(self.path), None
                except RulesError as e:
                    self._error = str(e)
                    self._rules = self._rules or self._default
            return self._rules, self._error


# --- evaluation ---

def level_name(rules: Rules, idx) -> str:
    """Name of level ``idx`` (0 = best); 数据不足 for -1 / None / NaN."""
    return _level(rules, idx).name


def level_color(rules: Rules, idx) -> str:
    """Colour of level ``idx`` (0 = best); the grey of 数据不足 for -1 / None / NaN."""
    return _level(rules, idx).color


def _level(rules: Rules, idx) -> Level:
    if idx is None or pd.isna(idx) or int(idx) < 0:
        return rules.no_data
    return rules.levels[int(idx)]


def thresholds_for(rules: Rules, code: str, key: str, level: str | None = None) -> tuple[float, ...]:
    """Thresholds of indicator ``key`` for region ``code`` (of ``level``): longest matching override, else
    the level's ``by_level`` entry, else the default."""
    ind = rules.indicator(key)
    best = dict(ind.by_level).get(level, ind.thresholds)
    for o in rules.overrides:  # sorted by prefix length, so a longer match comes later
        if str(code).startswith(o.prefix) and key in dict(o.thresholds):
            best = dict(o.thresholds)[key]
    return best


def _threshold_matrix(rules: Rules, codes: pd.Series, ind: IndicatorRule, levels: pd.Series | None = None) -> np.ndarray:
    """One row of thresholds per region: the default, the row level's ``by_level`` entry, then the longest
    matching override."""
    t = np.tile(np.asarray(ind.thresholds, dtype=float), (len(codes), 1))
    if levels is not None:
        for level, values in ind.by_level:
            t[(levels == level).to_numpy()] = values
    for o in rules.overrides:
        values = dict(o.thresholds).get(ind.key)
        if values is not None:
            t[codes.str.startswith(o.prefix).to_numpy()] = values
    return t


class _Columns:
    """A frame's columns as float arrays, each converted once: :func:`evaluate` reads the same measures for every
    indicator, and pandas' column access and ``to_numeric`` cost more than the arithmetic on a children's table."""

    def __init__(self, df: pd.DataFrame):
        self.df, self.columns, self._cache = df, df.columns, {}

    def __len__(self) -> int:
        return len(self.df)

    def __call__(self, key: str) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = _values(self.df, key)
        return self._cache[key]

    def total(self) -> np.ndarray:
        if "total" not in self._cache:
            self._cache["total"] = _total_rows(self.df)
        return self._cache["total"]


def _values(df: "pd.DataFrame | _Columns", key: str) -> np.ndarray:
    if isinstance(df, _Columns):
        return df(key)
    if key not in df.columns:
        return np.full(len(df), np.nan)
    column = df[key]
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _total_rows(df: "pd.DataFrame | _Columns") -> np.ndarray:
    """The ``is_total`` rows as a boolean array (all False without the column)."""
    if isinstance(df, _Columns):
        return df.total()
    if "is_total" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df["is_total"].fillna(False).astype(bool).to_numpy()


def _levels_of(values: np.ndarray, t: np.ndarray, higher_better: bool) -> np.ndarray:
    """Level index per value: the number of boundaries it fails; at a boundary counts as passing."""
    v = values[:, None]
    failed = (v < t - EPS) if higher_better else (v > t + EPS)
    return np.where(np.isnan(values), NO_DATA, failed.sum(axis=1)).astype(int)


def _combine(levels: np.ndarray, rules: Rules) -> np.ndarray:
    """Overall level per row from an (n, m) matrix of indicator levels (-1 = no data, ignored)."""
    if levels.shape[1] == 0:
        return np.full(levels.shape[0], NO_DATA)
    if rules.combine == "worst":
        return levels.max(axis=1)
    w = np.array([i.weight for i in rules.indicators]) * (levels >= 0)
    wsum = w.sum(axis=1)
    score = (w * np.maximum(levels, 0)).sum(axis=1) / np.where(wsum > 0, wsum, 1)
    overall = (score[:, None] > np.asarray(rules.score_thresholds) + EPS).sum(axis=1)
    return np.where(wsum > 0, overall, NO_DATA)


def parent_rate(df: pd.DataFrame, num: str, den: str) -> float:
    """The parent's rate num/den: the ``is_total`` row when the table has one, else all rows pooled (every
    measure is additive, so the sum of the children is the parent)."""
    total = _total_rows(df)
    x, n = _values(df, num), _values(df, den)
    if total.any():
        x, n = x[total], n[total]
    n = float(np.nansum(n))
    return float(np.nansum(x)) / n if n > 0 else math.nan


def judged_values(df: pd.DataFrame, ind: IndicatorRule, rules: Rules, standard: np.ndarray,
                  window: pd.DataFrame | None = None, prior: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The value of indicator ``ind`` that the thresholds judge, per row, and where it came from the window.

    A case-counting rate (RATE_PARTS) whose parts are in ``df`` is judged as ``(x + m·r) / (n + m)``: the
    region's own x of n cases plus ``m = rules.prior_cases`` reference cases at the rate r, which is the
    parent's rate but never worse than the standard (``standard``: the boundary of the best level, per row).
    So a region is presumed as good as its parent, and never presumed below the standard, until its own cases
    show otherwise; with hundreds of cases its own rate decides. No cases (n = 0) stays "no data".

    ``window``: the same table over the trailing ``rules.window_months`` (rows aligned with ``df``). A row
    whose n is below ``rules.small_sample`` and whose window holds more cases takes x and n from the window,
    and the parent's rate from the window's parent row; the second array marks those rows.
    Anything else, or ``m = 0`` without a window, is judged as it is. ``prior`` replaces ``m`` (the stronger
    evidence the worst level asks for, ``rules.worst_prior_cases``).
    """
    raw = _values(df, ind.key)
    used = np.zeros(len(df), dtype=bool)
    parts = RATE_PARTS.get(ind.key)
    if parts is None or not all(c in df.columns for c in (ind.key, *parts)):
        return raw, used  # a missing indicator column stays "no data", even when its parts are there
    x, n = (np.nan_to_num(_values(df, c)) for c in parts)
    s = np.asarray(standard, dtype=float)
    better = np.maximum if ind.higher_better else np.minimum
    parent = parent_rate(df, *parts)
    s_period = better(s, parent) if not math.isnan(parent) else s
    s_row = s_period
    if window is not None and all(c in window.columns for c in parts):
        wx, wn = (np.nan_to_num(_values(window, c)) for c in parts)
        used = (n < rules.small_sample) & (wn > n)
        wparent = parent_rate(window, *parts)
        s_window = better(s, wparent) if not math.isnan(wparent) else s
        x, n = np.where(used, wx, x), np.where(used, wn, n)
        s_row = np.where(used, s_window, s_period)
    m = rules.prior_cases if prior is None else prior
    if m <= 0 and not used.any():
        return raw, used
    out = np.full(len(df), np.nan)
    np.divide(x + m * s_row, n + m, out=out, where=n > 0)
    return out, used


class _Aligned(_Columns):
    """``window``'s columns in ``df``'s row order, matched by ``code`` (the first row of a code; a region missing
    from the window has no cases: NaN), with ``df``'s ``is_total`` rows. Arrays only, no reindexed frame."""

    def __init__(self, window: pd.DataFrame, df: pd.DataFrame):
        super().__init__(window)
        first: dict[str, int] = {}
        for i, code in enumerate(window["code"].astype(str).tolist()):
            first.setdefault(code, i)
        self._rows = np.array([first.get(code, -1) for code in df["code"].astype(str).tolist()], dtype=int)
        self._n, self._cache["total"] = len(df), _total_rows(df)

    def __len__(self) -> int:
        return self._n

    def __call__(self, key: str) -> np.ndarray:
        if key not in self._cache:
            values = _values(self.df, key)
            self._cache[key] = np.where(self._rows >= 0, values[np.maximum(self._rows, 0)] if len(values) else np.nan,
                                        np.nan)
        return self._cache[key]


def aligned(window: pd.DataFrame | None, df: pd.DataFrame) -> "_Aligned | None":
    """``window``'s measures in ``df``'s row order, matched by ``code`` (a region missing from the window: no
    cases), for :func:`judged_values`; None without a window or codes."""
    if window is None or "code" not in df.columns or "code" not in window.columns:
        return None
    return _Aligned(window, df)


def needs_window(df: pd.DataFrame, rules: Rules) -> bool:
    """Whether some row's rate of the rules has fewer than ``small_sample`` cases (so a window could help)."""
    if rules.window_months <= 0 or rules.small_sample <= 0 or df.empty:
        return False
    for ind in rules.indicators:
        parts = RATE_PARTS.get(ind.key)
        if parts and parts[1] in df.columns and (np.nan_to_num(_values(df, parts[1])) < rules.small_sample).any():
            return True
    return (np.nan_to_num(_values(df, "received")) < max(rules.min_cases, 1)).any()


def evaluate(df: pd.DataFrame, rules: Rules, window: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``judged_<indicator>`` and ``level_<indicator>`` for each rule, ``overall``, ``overall_name``,
    ``overall_color``, ``small_sample`` and ``window``.

    ``df``: one row per region with ``code``, ``name``, ``received``, the indicator columns, ``level`` (for
    by-level thresholds) and the measures of RATE_PARTS (for the small-number judgement). Rows are judged
    one by one, so any table of that shape works (children, children by month, another module's measures).
    ``window``: the same regions' measures over the trailing ``rules.window_months`` months (see
    :func:`judged_values`); ``window`` in the result marks rows judged on it for at least one indicator.
    """
    codes = df["code"].astype(str) if "code" in df.columns else pd.Series([""] * len(df), index=df.index)
    levels = df["level"].astype(str) if "level" in df.columns else None
    win = aligned(window, df) if rules.window_months > 0 else None
    have = _Columns(df)
    new: dict[str, np.ndarray] = {}
    level_matrix = np.zeros((len(df), len(rules.indicators)), dtype=int)
    on_window = np.zeros(len(df), dtype=bool)
    worst = len(rules.levels) - 1
    for j, ind in enumerate(rules.indicators):
        t = _threshold_matrix(rules, codes, ind, levels)
        judged, used = judged_values(have, ind, rules, t[:, 0], win)
        lv = _levels_of(judged, t, ind.higher_better)
        if rules.worst_prior_cases > rules.prior_cases and (lv == worst).any():
            # The worst level asks for more evidence: judged again with worst_prior_cases reference cases, a
            # row that no longer crosses the worst boundary stays one level better.
            strict, _ = judged_values(have, ind, rules, t[:, 0], win, prior=rules.worst_prior_cases)
            lv = np.where((lv == worst) & (_levels_of(strict, t, ind.higher_better) < worst), worst - 1, lv)
        new[f"judged_{ind.key}"], new[f"level_{ind.key}"] = judged, lv
        level_matrix[:, j] = lv
        on_window |= used
    received = np.nan_to_num(have("received"), nan=0.0)
    basis = received
    if win is not None:
        basis = np.where(on_window, np.maximum(received, np.nan_to_num(win("received"), nan=0.0)), received)
    overall = np.where(basis < rules.min_cases, NO_DATA, _combine(level_matrix, rules)).astype(int)
    new["overall"] = overall
    new["overall_name"] = [level_name(rules, i) for i in overall]
    new["overall_color"] = [level_color(rules, i) for i in overall]
    new["small_sample"] = (received < rules.small_sample) & ((received >= max(rules.min_cases, 1)) | on_window)
    new["window"] = on_window & (overall != NO_DATA)
    # one concat instead of a column insert per indicator (each insert copies pandas' block layout)
    kept = df.drop(columns=[c for c in new if c in df.columns])
    return pd.concat([kept, pd.DataFrame(new, index=df.index)], axis=1)


PROBLEM_COLUMNS = ("code", "name", "indicator", "indicator_name", "value", "level", "level_name", "color",
                   "threshold", "gap", "judged", "small_sample")


def problems(df_evaluated: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """问题清单: one row per (region, indicator) below the best level, worst first.

    ``value`` is the indicator as measured, ``judged`` the value the thresholds judged (they differ for a
    small sample, see :func:`judged_values`); ``threshold`` is the boundary of the better level the judged
    value missed; ``gap`` is how far off it is in the indicator's own unit, positive = how much must improve. Regions with fewer than
    ``min_cases`` received cases are left out (their levels are 数据不足 overall).
    """
    df = df_evaluated
    enough = np.nan_to_num(_values(df, "received"), nan=0.0) >= rules.min_cases
    codes = df["code"].astype(str) if "code" in df.columns else pd.Series([""] * len(df), index=df.index)
    names = df["name"] if "name" in df.columns else codes
    parts = []
    for ind in rules.indicators:
        levels = df[f"level_{ind.key}"].to_numpy(dtype=int)
        rows = np.flatnonzero(enough & (levels > 0))
        if not len(rows):
            continue
        values = _values(df, ind.key)[rows]
        judged = (_values(df, f"judged_{ind.key}") if f"judged_{ind.key}" in df.columns else _values(df, ind.key))[rows]
        lv = df["level"].astype(str) if "level" in df.columns else None
        threshold = _threshold_matrix(rules, codes, ind, lv)[rows, levels[rows] - 1]
        small = (df["small_sample"].to_numpy(dtype=bool) if "small_sample" in df.columns
                 else np.zeros(len(df), dtype=bool))[rows]
        parts.append(pd.DataFrame({
            "code": codes.to_numpy()[rows], "name": names.to_numpy()[rows], "indicator": ind.key,
            "indicator_name": ind.name, "value": values, "level": levels[rows],
            "level_name": [level_name(rules, i) for i in levels[rows]],
            "color": [level_color(rules, i) for i in levels[rows]], "threshold": threshold,
            "gap": threshold - judged if ind.higher_better else judged - threshold,
            "judged": judged, "small_sample": small,
        }))
    if not parts:
        return pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    rel = out["gap"] / out["threshold"].abs().where(out["threshold"] != 0, 1.0)
    order = out.assign(_rel=rel).sort_values(["level", "_rel", "code"], ascending=[False, False, True], kind="stable")
    return order.drop(columns="_rel").reset_index(drop=True)


def level_counts(df_evaluated: pd.DataFrame, rules: Rules) -> pd.Series:
    """Number of regions per overall level, indexed by level name best to worst, then 数据不足."""
    names = [lv.name for lv in rules.levels] + [rules.no_data.name]
    counts = df_evaluated["overall"].map(lambda i: level_name(rules, i)).value_counts()
    return counts.reindex(names, fill_value=0).astype(int).rename("count").rename_axis(None)
