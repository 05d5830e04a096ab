"""One year's 强基善治指数 and stars of every village: raw indicator values -> scores -> index -> rank.

Inputs (what ``data_access.village_index`` reads, all for one year and one region):
    villages  code, name, population (one row per village)
    table     the yearly village table (村社年度表): code + the columns of ``VILLAGE_COLUMNS``
    counts    case measures per (village, category, resolution_level, is_major): received, closed, on_time,
              local_resolved, sat_n, sat_ok … (``data_access.measures.ROLLUP_SQL``)

Output: one wide frame indexed like ``villages`` with, per indicator ``k``: the raw value ``k`` and its score
``s_k``; per dimension ``d``: ``d_d``; then ``index``, ``group`` (the comparison group), ``rank`` (within it),
and the stars (``stars``, ``of``, ``missed``, ``reasons``). Pure pandas, tested by hand computations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import index as ix
from analytics.index_config import IndexConfig, entropy_split
from analytics.indicators import derive
from analytics.stars import stars

GROUP_PREFIX = {"city": 4, "county": 6, "township": 9}


@dataclass(frozen=True)
class Evaluated:
    frame: pd.DataFrame                      # see the module docstring
    indicator_weights: dict[str, float]      # in force
    dimension_weights: dict[str, float]      # in force
    expert: tuple[dict, dict]                # (indicator, dimension) weights of the expert method
    entropy: tuple[dict, dict]               # (indicator, dimension) entropy weights, shown beside


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype(float), den.astype(float)
    return (num / den.where(den > 0)).astype(float)


def raw_values(villages: pd.DataFrame, table: pd.DataFrame, counts: pd.DataFrame, cfg: IndexConfig) -> pd.DataFrame:
    """The raw value of every indicator per village (index: village code). Missing data is NaN."""
    codes = villages["code"].astype(str).tolist()
    pop = villages.set_index("code")["population"].reindex(codes).astype(float)
    tab = table.set_index("code").reindex(codes) if len(table) else pd.DataFrame(index=codes)
    measure_cols = [c for c in counts.columns if c not in ("village", "category", "resolution_level", "is_major")]
    if len(counts):
        summed = counts.groupby("village")[measure_cols].sum().reindex(codes).fillna(0)
    else:
        summed = pd.DataFrame(0.0, index=codes, columns=["received"])
    summed["population"] = pop.to_numpy()
    rates = derive(summed.reset_index(drop=True))
    rates.index = codes
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    for ind in cfg.indicators:
        if ind.source == "table":
            col = tab[ind.column] if ind.column in tab.columns else pd.Series(np.nan, index=codes)
            if ind.per:
                den = tab[ind.per] if ind.per in tab.columns else pd.Series(np.nan, index=codes)
                col = _ratio(col, den)
            out[ind.key] = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
        elif ind.measure in ("count", "count_per_10k"):
            mine = counts[counts["category"].isin(ind.categories)] if len(counts) else counts
            n = (mine.groupby("village")["received"].sum().reindex(codes).fillna(0) if len(mine)
                 else pd.Series(0.0, index=codes)).astype(float)
            out[ind.key] = (n if ind.measure == "count" else _ratio(n * 10000.0, pop)).to_numpy()
        else:
            out[ind.key] = rates[ind.measure].to_numpy(dtype=float)
    return out


def groups_of(codes: pd.Index | pd.Series, group: str) -> pd.Series:
    """The comparison group of each village code (the prefix of its county, township or city)."""
    codes = pd.Series(list(codes), index=list(codes))
    return codes.str[: GROUP_PREFIX[group]]


def normalised(raw: pd.DataFrame, cfg: IndexConfig, method: str | None = None) -> pd.DataFrame:
    """Score of every indicator (columns: indicator keys) within the comparison groups."""
    groups = groups_of(raw.index, cfg.group)
    return pd.DataFrame({i.key: ix.normalise(raw[i.key], i.higher_better, method or cfg.normalise, groups)
                         for i in cfg.indicators}, index=raw.index)


def evaluate(villages: pd.DataFrame, table: pd.DataFrame, counts: pd.DataFrame, cfg: IndexConfig) -> Evaluated:
    """Index, dimension scores, ranks and stars of every village (see the module docstring)."""
    raw = raw_values(villages, table, counts, cfg)
    scores = normalised(raw, cfg)
    keys = [i.key for i in cfg.indicators]
    # Entropy weights always from direction-aware min-max values in 0..1 (non-negative, as the method needs).
    minmax01 = (scores if cfg.normalise == "minmax" else normalised(raw, cfg, "minmax"))[keys].to_numpy() / 100.0
    entropy = entropy_split(cfg, ix.entropy_weights(minmax01))
    expert = cfg.expert_weights()
    iw, dw = entropy if cfg.weighting == "entropy" else expert
    agg = ix.aggregate(scores, cfg.members(), iw, dw)
    groups = groups_of(raw.index, cfg.group)
    frame = villages.set_index("code").reindex(raw.index).copy()
    frame = pd.concat([frame, raw, scores.add_prefix("s_"), agg.drop(columns="index").add_prefix("d_")], axis=1)
    frame["index"] = agg["index"]
    frame["group"] = groups
    frame["rank"] = ix.rank(agg["index"], groups)
    frame["group_size"] = groups.map(groups.value_counts())
    st = stars(counts, cfg.stars, list(raw.index))
    frame = pd.concat([frame, st[["stars", "of", "missed", "reasons"]]], axis=1)
    return Evaluated(frame.reset_index(), iw, dw, expert, entropy)


def sensitivity(ev: Evaluated, cfg: IndexConfig, step: float = 0.2) -> pd.DataFrame:
    """How many villages change rank (within their groups) when each weight in force moves by ±``step``."""
    f = ev.frame.set_index("code")
    scores = f[[f"s_{i.key}" for i in cfg.indicators]].rename(columns=lambda c: c[2:])
    groups = pd.Series(pd.factorize(f["group"])[0], index=f.index)  # integer keys: 30 regroupings per call
    return ix.sensitivity(scores, cfg.members(), ev.indicator_weights, ev.dimension_weights, groups, step)


def parents(ev: Evaluated, cfg: IndexConfig, level: str) -> pd.DataFrame:
    """Scores of the townships (``level="township"``) or counties (``"county"``) from their villages,
    by the configured mean (``cfg.parent``): index, dimension scores and mean stars; index = parent code."""
    f = ev.frame
    n = GROUP_PREFIX[level]
    parent = f["code"].str[:n].str.ljust(12, "0")
    cols = ["index", *[f"d_{d.key}" for d in cfg.dimensions], "stars"]
    return ix.parent_scores(f, parent, cols, cfg.parent)


def scores_at(ev: Evaluated, cfg: IndexConfig, level: str) -> pd.DataFrame:
    """Index, dimension scores and stars of every region of ``level`` (village: the villages themselves;
    township, county, city: :func:`parents`). Index: 12-digit codes."""
    if level == "village":
        f = ev.frame.set_index("code")
        cols = ["index", *[f"d_{d.key}" for d in cfg.dimensions], "stars", "of", "missed", "reasons", "rank",
                "group_size"]
        return f[cols].assign(villages=1)
    return parents(ev, cfg, level)


def ranked(kids: pd.DataFrame, scores: pd.DataFrame, before: pd.DataFrame | None = None) -> pd.DataFrame:
    """The children (code, name, …) with their scores, best first: ``rank`` among them (1 = best) and
    ``change`` of the index against ``before`` (the same regions a year earlier; NaN when unknown)."""
    out = kids.merge(scores, left_on="code", right_index=True, how="left", suffixes=("", "_v"))
    if "rank" in out.columns:
        out = out.rename(columns={"rank": "group_rank"})
    out["rank"] = out["index"].rank(ascending=False, method="min")
    prev = before["index"] if before is not None and "index" in before else pd.Series(dtype=float)
    out["change"] = out["index"] - out["code"].map(prev)
    return out.sort_values(["rank", "code"], na_position="last", kind="stable").reset_index(drop=True)
