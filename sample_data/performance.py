"""How well each place is run: a pace per village (1 = typical; 2 = cases take twice as long).

Real counties are not uniform: within every county some townships lag, within every township some villages
do (the seeds' monthly 平安报表 always names a few). The generator draws a lasting factor per county, township
and village, spread evenly in rank inside each parent (so every parent has its better and its worse children),
multiplies them down the tree, and makes sure that:

* in every parent the slowest child is noticeably slow (``LAGGARD``) and the quickest one is quick (``LEADER``):
  a county's townships, or a township's villages, are never all alike, so the warnings always have someone to
  point at (and someone to learn from);
* a regular place is never slower than ``CEILING``: red is kept for the chronically struggling places. The one
  exception is each township's laggard village: its most populous one, slower than the ceiling
  (``LAGGARD["village"]``, about one case in six late) so that its lag shows in a year's 20 or 30 cases (with
  sample_data.cases' steady closure times), yet never red on lateness alone. One per township, not one per ten
  villages: the busiest villages carry a township's cases, and two of them that slow made every county yellow;
* a struggling township (``build.pick_struggling``) owes its trouble to its busiest villages, very slow
  (``STRUGGLING_SHARE`` of them, at most a quarter), and a sluggish rest, so the township as a whole is red while
  most of its villages are not;
* a struggling village is very slow (``STRUGGLING_PACE``) and leaves many cases open (sample_data.cases).

A separate random stream (seeded from the build's seed) keeps every other draw of the generator unchanged.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .geography import Unit

#: Spread (log scale) of the lasting factor at each level.
SIGMA = {"county": 0.25, "township": 0.25, "village": 0.30}
#: The slowest child of every parent is at least this slow (overall pace, parents' factors included).
LAGGARD = {"county": 1.65, "township": 1.75, "village": 2.8}
#: A parent has one laggard more per this many children.
LAGGARD_EVERY = 10
#: The quickest child of every parent is at least this quick.
LEADER = {"county": 0.8, "township": 0.9, "village": 1.0}
#: Bounds of a regular place's pace: slower than CEILING is red's territory, kept for the struggling places.
FLOOR, CEILING = 0.6, 2.0
#: Pace of a chronically struggling village.
STRUGGLING_PACE = 6.0
#: In a struggling township: the share of its villages that struggle, and the pace factor of the rest.
STRUGGLING_SHARE = 0.15
STRUGGLING_REST = 1.2


def _spread(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """n factors exp(sigma·z) with z at the normal quantiles (i + ½)/n, in random order."""
    z = np.array([NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)])
    return np.exp(sigma * rng.permutation(z))


def _stretched(total: np.ndarray, level: str, weight: np.ndarray) -> np.ndarray:
    """``total`` with its laggards at least LAGGARD[level] and a leader at most LEADER[level].

    Counties and townships: one laggard per ``LAGGARD_EVERY`` children and at least one, the most populous of
    their slower half. Villages: one, the most populous of all, because a village's lag shows only in enough
    cases (a village of 400 people reports a case a month, and no method tells its lag from bad luck). The
    leader is the most populous of the quicker half that is no laggard.
    """
    out = total.copy()
    if len(out) >= 2:
        order = np.argsort(out, kind="stable")
        half = len(out) // 2
        n_lag = 1 if level == "village" else 1 + len(out) // LAGGARD_EVERY
        pool = order if level == "village" else order[len(out) - half:]
        laggards = pool[np.argsort(-weight[pool], kind="stable")[:n_lag]]
        lagging = set(laggards.tolist())
        quick = np.array([i for i in order[:half + n_lag] if i not in lagging][:max(half, 1)])
        best = int(quick[np.argmax(weight[quick])])
        for worst in laggards:
            out[int(worst)] = max(out[int(worst)], LAGGARD[level])
        out[best] = min(out[best], LEADER[level])
    return out


def _population(units: list[Unit]) -> np.ndarray:
    return np.array([float(u.population or 0) for u in units])


def paces(seed: int, units: dict[str, list[Unit]], struggling_townships: set[str],
          struggling_villages: set[str]) -> tuple[dict[str, float], set[str]]:
    """(pace per village code, every struggling village: the given ones and those of struggling townships)."""
    rng = np.random.default_rng([seed, 13])
    by_parent: dict[str, list[Unit]] = {}
    for level in ("township", "village"):
        for u in units[level]:
            by_parent.setdefault(u.parent_code, []).append(u)
    counties = units["county"]
    county_pace = dict(zip((c.code for c in counties),
                           _stretched(_spread(rng, len(counties), SIGMA["county"]), "county", _population(counties))))
    pace: dict[str, float] = {}
    bad = set(struggling_villages)
    for county in counties:
        towns = by_parent.get(county.code, [])
        town_pace = _stretched(county_pace[county.code] * _spread(rng, len(towns), SIGMA["township"]), "township",
                               _population(towns))
        for town, tp in zip(towns, town_pace):
            villages = by_parent.get(town.code, [])
            if not villages:
                continue
            # Clipped before the laggard is stretched: the laggard village may pass the ceiling (see above).
            vp = _stretched(np.clip(tp * _spread(rng, len(villages), SIGMA["village"]), FLOOR, CEILING), "village",
                            _population(villages))
            if town.code in struggling_townships:
                # At most a quarter of its villages less one, so that chance leaves room below a quarter red.
                k = max(1, min(int(round(STRUGGLING_SHARE * len(villages))), len(villages) // 4 - 1))
                # Its busiest villages (the most people, the most cases): their trouble is the township's.
                worst = set(np.argsort(-_population(villages), kind="stable")[:k].tolist())
                bad |= {v.code for i, v in enumerate(villages) if i in worst}
                vp = np.minimum(vp * STRUGGLING_REST, CEILING)
            pace.update({v.code: float(p) for v, p in zip(villages, vp)})
    pace.update({code: STRUGGLING_PACE for code in bad})
    return pace, bad
