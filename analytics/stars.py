"""星级平安村社: each village's stars for a year, one per "no" it kept, and why each missing star was missed.

Ruian's star-rated safe villages (shared/seeds/000) are built on "six no's" (无信访维稳, 无刑事治安, 无检举控告 …).
Each rule (``analytics.index_config.StarRule``) is a condition on the year's cases: at most ``max`` cases of
the rule's categories, counting only those resolved at the rule's levels (e.g. 县/市 = reached the county)
and only major cases when ``major``. A village with no case at all keeps every star.

Pure pandas: the input is the long frame of case counts per (village, category, resolution level, major)
that ``data_access.village_index.case_counts`` returns.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.index_config import StarRule


def rule_counts(counts: pd.DataFrame, rules: Sequence[StarRule], villages: Sequence[str]) -> pd.DataFrame:
    """Cases counted by each rule per village (index: villages, one column per rule name)."""
    out = pd.DataFrame(0, index=pd.Index(list(villages), name="code"), columns=[r.name for r in rules], dtype=int)
    if counts.empty:
        return out
    for r in rules:
        keep = np.ones(len(counts), dtype=bool)
        if r.categories:
            keep &= counts["category"].isin(r.categories).to_numpy()
        if r.levels:
            keep &= counts["resolution_level"].isin(r.levels).to_numpy()
        if r.major:
            keep &= counts["is_major"].fillna(False).astype(bool).to_numpy()
        per = counts[keep].groupby("village")["received"].sum()
        out[r.name] = per.reindex(out.index, fill_value=0).astype(int).to_numpy()
    return out


def describe(rule: StarRule) -> str:
    """The rule in words: 信访诉求（县、市层级化解）、重大 …"""
    what = "、".join(rule.categories) or "全部类别"
    extra = []
    if rule.levels:
        extra.append("、".join(rule.levels) + "层级化解")
    if rule.major:
        extra.append("重大事件")
    return what + (f"（{'，'.join(extra)}）" if extra else "")


def stars(counts: pd.DataFrame, rules: Sequence[StarRule], villages: Sequence[str]) -> pd.DataFrame:
    """Per village: ``stars`` (rules kept), ``of`` (rules in all), ``missed`` (names), ``reasons`` (text), and
    one boolean column per rule. Index: the village codes, in the order given."""
    n = rule_counts(counts, rules, villages)
    names = [r.name for r in rules]
    limit = np.array([r.max for r in rules], dtype=float)
    values = n[names].to_numpy(dtype=float) if names else np.zeros((len(n), 0))
    kept = values <= limit
    what = [describe(r) for r in rules]
    missed, reasons = [], []
    for row, ok in zip(values, kept):  # plain arrays: thousands of villages per view
        bad = np.flatnonzero(~ok)
        missed.append("、".join(names[j] for j in bad))
        reasons.append("；".join(f"{names[j]}：{what[j]} {int(row[j])} 件，超过 {rules[j].max} 件" for j in bad))
    out = pd.DataFrame({"stars": kept.sum(axis=1).astype(int), "of": len(rules), "missed": missed,
                        "reasons": reasons}, index=n.index)
    return pd.concat([out, pd.DataFrame(kept, index=n.index, columns=names)], axis=1)
