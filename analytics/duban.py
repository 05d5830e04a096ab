"""The closed loop's own measures (督办 issued, on-time feedback, closure, days to close) and their warnings.

Why a separate rules file: the loop's thresholds are set by whoever runs 督办, apart from the 平安报表's
(config/warning_rules.toml, whose levels and colours they share); both are judged by the same engine,
analytics.warnings.evaluate. Pure pandas: no Streamlit, no database.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.warnings import Rules, RulesError, _Checker, _check_keys, _message, evaluate, indicator_section

#: The loop's indicators: key -> Chinese name (the rules file may rename them).
INDICATORS = {
    "on_time_feedback_rate": "按时反馈率",
    "duban_closure_rate": "督办办结率",
    "duban_overdue": "逾期督办",
    "avg_close_days": "平均办结天数",
}
RATES = ("on_time_feedback_rate", "duban_closure_rate")
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "duban_rules.toml"


def rules_path() -> Path:
    """config/duban_rules.toml, or the file named by DUBAN_RULES."""
    return Path(os.environ.get("DUBAN_RULES") or DEFAULT_PATH)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype(float), den.astype(float)
    return (num / den.where(den > 0)).astype(float)


def derive(sums: pd.DataFrame) -> pd.DataFrame:
    """Rates from the sums of data_access.duban.measures (NaN where the denominator is 0).

    - 按时反馈率: first feedback by the deadline / instructions fed back or past their deadline (one still in
      time and without feedback is not judged yet);
    - 督办办结率: closed / issued; 逾期督办: open past the deadline; 平均办结天数: mean days issued → closed.
    ``received`` (= issued) lets the warning engine apply its minimum count.
    """
    out = sums.copy()
    out["on_time_feedback_rate"] = _ratio(out["on_time_feedback"], out["due"])
    out["duban_closure_rate"] = _ratio(out["closed"], out["issued"])
    out["duban_overdue"] = out["overdue"].astype(float)
    out["avg_close_days"] = _ratio(out["close_hours"], out["closed"]) / 24.0
    out["received"] = out["issued"]
    return out


def totals(sums: pd.DataFrame) -> pd.Series:
    """One row adding up every group (sums are additive; rates are derived again, never averaged)."""
    cols = [c for c in sums.columns if c not in ("key", "name")]
    row = sums[cols].sum() if len(sums) else pd.Series(0, index=cols, dtype=float)
    return derive(pd.DataFrame([row])).iloc[0]


def parse_rules(text: str, base: Rules, path="督办预警规则") -> Rules:
    """The [indicators.*] of the 督办 rules file on the levels and colours of ``base`` (the 平安报表 rules)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesError(_message(str(path), None, f"TOML 格式错误：{e}")) from None
    chk = _Checker(path, text)
    _check_keys(chk, "", data, {"min_issued", "indicators"}, "文件顶层")
    min_issued = data.get("min_issued", 1)
    if not isinstance(min_issued, int) or isinstance(min_issued, bool) or min_issued < 0:
        chk.fail("", "min_issued", f"min_issued 应是不小于 0 的整数，实际 {min_issued!r}")
    raw = data.get("indicators")
    if not isinstance(raw, dict) or not raw:
        chk.fail("indicators", None, "至少要有一个督办指标规则，写成 [indicators.指标代码]")
    out = [indicator_section(chk, key, t, len(base.levels), known=INDICATORS, what="督办指标", extra=())
           for key, t in raw.items()]
    return Rules(levels=base.levels, indicators=tuple(out), no_data=base.no_data, min_cases=min_issued,
                 combine="worst", score_thresholds=base.score_thresholds, source=str(path))


def load_rules(base: Rules, path=None) -> Rules:
    path = Path(path or rules_path())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError(f"督办预警规则文件 {path} 无法读取：{e}") from None
    return parse_rules(text, base, path)


def evaluated(sums: pd.DataFrame, rules: Rules | None) -> pd.DataFrame:
    """Derived measures with warning levels (``level_<key>``, ``overall``…) when rules are given."""
    df = derive(sums)
    if rules is None:
        return df.assign(overall=np.full(len(df), -1))
    return evaluate(df.rename(columns={"key": "code"}), rules).rename(columns={"code": "key"})
