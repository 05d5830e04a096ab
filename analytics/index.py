"""The maths of a composite index (强基善治指数): normalise, weight, aggregate, test sensitivity.

The method is the OECD/JRC *Handbook on Constructing Composite Indicators* (2008), in the order it gives:

1. **Normalise** each indicator within its comparison group (e.g. the villages of one county), in its
   direction, so that 100 (min-max) or a higher T-score (z-score) is always better:
       min-max:  s = 100 · (x − min) / (max − min)          (higher_better)
                 s = 100 · (max − x) / (max − min)          (lower_better)
       z-score:  s = 50 + 10 · (x − mean) / sd              (sign flipped for lower_better; sd of the group)
   A group where every value is the same gives 50 (nobody is ahead). A missing value stays missing.
2. **Weight**: expert weights from an AHP pairwise table (Saaty's principal eigenvector, consistency
   ratio CR = CI / RI with CI = (λmax − n) / (n − 1), accepted when CR < 0.1), given weights, or the
   data-driven entropy weights (p = x / Σx, e = −Σ p ln p / ln n, w ∝ 1 − e).
3. **Aggregate**: a dimension's score is the weighted mean of its indicators' scores, the index the
   weighted mean of the dimension scores. Missing parts are left out and the remaining weights rescaled
   (a village with no rated case still gets an index from its other indicators).
4. **Sensitivity**: move each weight by ±20 %, recompute, count the villages whose rank changes.

Pure numpy/pandas: no database, no Streamlit. The configuration (which indicators, which weights) is
:mod:`analytics.index_config`; the raw values come from :mod:`data_access.village_index`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Saaty's random consistency index RI by matrix size (Saaty 1980; n = 1, 2 are always consistent).
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
#: The largest consistency ratio accepted (Saaty).
MAX_CR = 0.1
NEUTRAL = 50.0


# --- 1. normalisation ---

def normalise(values: pd.Series, higher_better: bool, method: str = "minmax",
              groups: pd.Series | None = None) -> pd.Series:
    """Direction-aware score of each value within its group (same index as ``values``); NaN stays NaN.

    Whole columns at once (group statistics by ``transform``): it runs for thousands of villages per view.
    """
    if method not in ("minmax", "zscore"):
        raise ValueError(f"未知的标准化方法 {method!r}（可用：minmax、zscore）")
    x = pd.to_numeric(values, errors="coerce").astype(float)
    x = x.where(np.isfinite(x))
    keys = (groups if groups is not None else pd.Series(0, index=x.index)).to_numpy()
    g = x.groupby(keys)
    if method == "minmax":
        lo, hi = g.transform("min"), g.transform("max")
        flat = (hi - lo) <= 1e-12 * np.maximum(1.0, hi.abs())
        share = (x - lo) / (hi - lo).where(~flat)
        out = 100.0 * (share if higher_better else 1.0 - share)
    else:
        mean, sd = g.transform("mean"), g.transform(lambda s: s.std(ddof=0))
        flat = sd <= 1e-12 * np.maximum(1.0, mean.abs())
        z = (x - mean) / sd.where(~flat)
        out = NEUTRAL + 10.0 * (z if higher_better else -z)
    return out.where(~flat, NEUTRAL).where(x.notna())


# --- 2. weights ---

def ahp_weights(matrix: Sequence[Sequence[float]]) -> tuple[np.ndarray, float, float]:
    """(weights summing to 1, λmax, consistency ratio) of a reciprocal pairwise comparison matrix.

    Weights are the principal right eigenvector (Saaty). CR = ((λmax − n) / (n − 1)) / RI(n); 0 for n ≤ 2.
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.ndim != 2 or a.shape != (n, n) or n < 1:
        raise ValueError("判断矩阵应为 n×n 方阵")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lam = float(values[k].real)
    ri = RANDOM_INDEX.get(n, 1.49)
    cr = 0.0 if n <= 2 or ri == 0 else max(0.0, (lam - n) / (n - 1)) / ri
    return w, lam, cr


def entropy_weights(matrix: np.ndarray) -> np.ndarray:
    """Entropy weights of the columns of a non-negative matrix (rows = villages, columns = indicators).

    p_ij = x_ij / Σ_i x_ij; e_j = −Σ_i p_ij ln p_ij / ln n (0 ln 0 = 0); w_j ∝ 1 − e_j. Rows with a NaN in a
    column are left out of that column. A column that is all zero carries no information (e = 1, w = 0);
    if no column carries any, the weights are equal.
    """
    x = np.asarray(matrix, dtype=float)
    m = x.shape[1]
    d = np.zeros(m)
    for j in range(m):
        col = x[:, j]
        col = col[np.isfinite(col)]
        n, s = len(col), col.sum() if len(col) else 0.0
        if n < 2 or s <= 0:
            continue
        p = col / s
        nz = p[p > 0]
        e = float(-(nz * np.log(nz)).sum() / math.log(n))
        d[j] = max(0.0, 1.0 - e)
    return d / d.sum() if d.sum() > 0 else np.full(m, 1.0 / m)


# --- 3. aggregation ---

def weighted_mean(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean of ``scores`` (n × m) ignoring NaN cells (their weight is left out); NaN if none."""
    s = np.asarray(scores, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), s.shape)
    ok = np.isfinite(s)
    wsum = np.where(ok, w, 0.0).sum(axis=1)
    total = np.where(ok, s * w, 0.0).sum(axis=1)
    out = np.full(s.shape[0], np.nan)
    np.divide(total, wsum, out=out, where=wsum > 0)
    return out


def aggregate(scores: pd.DataFrame, dimensions: Mapping[str, Sequence[str]], indicator_weights: Mapping[str, float],
              dimension_weights: Mapping[str, float]) -> pd.DataFrame:
    """Dimension scores (one column per dimension) and ``index`` from normalised indicator ``scores``."""
    out = pd.DataFrame(index=scores.index)
    for dim, keys in dimensions.items():
        out[dim] = weighted_mean(scores[list(keys)].to_numpy(), np.array([indicator_weights[k] for k in keys]))
    dims = list(dimensions)
    out["index"] = weighted_mean(out[dims].to_numpy(), np.array([dimension_weights[d] for d in dims]))
    return out


def rank(index: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Rank (1 = best) within each group; ties share the better rank; no index, no rank (NaN)."""
    if groups is None:
        return index.rank(ascending=False, method="min")
    return index.groupby(groups).rank(ascending=False, method="min")


def parent_scores(villages: pd.DataFrame, parent: pd.Series, columns: Sequence[str], how: str = "mean") -> pd.DataFrame:
    """Scores of parent regions (townships, counties) from their villages: the mean, or the mean weighted by
    ``population`` (``how="population"``; a parent whose villages have no population falls back to the mean).
    NaN villages are left out. Index: the parent codes; ``villages`` counts every village of the parent."""
    keys = np.asarray(parent)
    ones = pd.Series(1.0, index=villages.index)
    pop = villages["population"].fillna(0).astype(float) if how == "population" and "population" in villages else ones
    if how == "population":
        empty = pop.groupby(keys).transform("sum") <= 0
        pop = pop.where(~empty, 1.0)
    out = pd.DataFrame(index=pd.Index(sorted(set(keys))))
    for c in columns:
        v = villages[c].astype(float)
        w = pop.where(v.notna(), 0.0)
        num = (v.fillna(0) * w).groupby(keys).sum()
        den = w.groupby(keys).sum()
        out[c] = (num / den.where(den > 0)).reindex(out.index)
    out["villages"] = ones.groupby(keys).sum().reindex(out.index).astype(int)
    return out


# --- 4. sensitivity ---

def sensitivity(scores: pd.DataFrame, dimensions: Mapping[str, Sequence[str]], indicator_weights: Mapping[str, float],
                dimension_weights: Mapping[str, float], groups: pd.Series | None = None,
                step: float = 0.2) -> pd.DataFrame:
    """How ranks move when each weight moves by ±``step`` (the others unchanged; means rescale by themselves).

    One row per (weight, direction): ``weight`` (dimension key, or ``dimension/indicator``), ``kind``
    (dimension/indicator), ``factor`` (0.8 or 1.2), ``changed`` (villages whose rank changed) and
    ``max_shift`` (largest rank move). Ranks are within ``groups``.
    """
    base = rank(aggregate(scores, dimensions, indicator_weights, dimension_weights)["index"], groups)
    rows = []

    def compare(name: str, kind: str, factor: float, iw, dw) -> None:
        moved = rank(aggregate(scores, dimensions, iw, dw)["index"], groups)
        diff = (moved - base).abs().dropna()
        rows.append({"weight": name, "kind": kind, "factor": factor, "changed": int((diff > 0).sum()),
                     "max_shift": int(diff.max()) if len(diff) else 0})

    for factor in (1 - step, 1 + step):
        for dim in dimensions:
            compare(dim, "dimension", factor, indicator_weights, {**dimension_weights, dim: dimension_weights[dim] * factor})
        for dim, keys in dimensions.items():
            if len(keys) > 1:
                for key in keys:
                    compare(key, "indicator", factor, {**indicator_weights, key: indicator_weights[key] * factor},
                            dimension_weights)
    return pd.DataFrame(rows, columns=["weight", "kind", "factor", "changed", "max_shift"])
