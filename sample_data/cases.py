"""Synthetic cases (事件) with the rhythms a real platform shows.

- weekly rhythm (fewer reports at weekends), a dip over the Spring Festival and National Day,
  a rise of unpaid-wage complaints (劳动欠薪) in the month before the Spring Festival;
- one or two summer typhoons a year, each a few days' surge of safety hazards (安全隐患) and
  environment cases;
- a category mix that differs between urban districts and mountain counties;
- deadlines by category (信访 60 days, safety hazards 3 days …), closure times relative to the deadline;
- a lasting pace per village (sample_data.performance: every county has slower and quicker townships, every
  township slower and quicker villages) and a handful of chronically struggling townships and villages (very
  slow, often overdue, less satisfied), so the warnings have something to show at every level; overall
  closure near the seeds' 95–99 %;
- steady villages: a village's late, stuck, unsatisfied and rated cases come at its pace, spread evenly over its
  cases in time order (``steady_uniform``), not in chance clumps; so a slow village shows as slow in any year of
  its cases, and a quick one does not look slow for two unlucky cases.
All randomness comes from one seeded generator: the same seed gives the same cases.
"""
from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import pandas as pd

from analytics.indicators import BASICALLY_SATISFIED, SATISFIED, UNSATISFIED
from .names import mobile_numbers, person_names

CATEGORIES = ("矛盾纠纷", "信访诉求", "安全隐患", "治安", "劳动欠薪", "环境卫生", "食品安全", "民生服务")
SOURCES = ("网格员上报", "12345热线", "矛调中心窗口", "部门流转", "视频智能发现", "浙里办自主上报")
RESOLUTION_LEVELS = ("村", "镇", "县", "市")

MIX_URBAN = np.array([.18, .08, .16, .14, .06, .16, .07, .15])
MIX_RURAL = np.array([.26, .08, .24, .07, .04, .12, .04, .15])
SOURCE_MIX = np.array([.55, .15, .10, .08, .07, .05])
DEADLINE_DAYS = np.array([15, 60, 3, 5, 15, 5, 5, 7])
LEVEL_MIX = {  # 村, 镇, 县, 市 (a slower place escalates more: the 县/市 shares grow with its pace)
    "default": np.array([.63, .32, .045, .005]),
    "信访诉求": np.array([.26, .46, .23, .05]),
    "劳动欠薪": np.array([.28, .48, .21, .03]),
}
#: A typical case closes in about this share of its deadline (log-normal spread SPREAD; ~3 % late at pace 1).
TYPICAL_SHARE = 0.14
SPREAD = 0.95
#: Steps of the low-discrepancy sequences behind a village's closure times (the golden ratio's fractional part),
#: stuck cases, satisfaction and rating: other quadratic irrationals with small continued-fraction terms (evenly
#: spread runs) and rationally independent of each other (so the four do not align).
GOLDEN = (5 ** 0.5 - 1) / 2
STEPS = {"stuck": 2 ** 0.5 - 1, "satisfaction": (13 ** 0.5 - 3) / 2, "rated": 7 ** 0.5 - 2}
#: Share of cases never closed: a regular place leaves 0.4 % × pace² open; a struggling one this many.
STUCK_STRUGGLING = 0.2
HANDLING_UNIT = ("司法所", "信访办", "应急管理站", "派出所", "人社服务站", "综合行政执法中队", "市场监管所", "便民服务中心")
WHAT = {
    "矛盾纠纷": ["邻里宅基地界址纠纷", "婚姻家庭矛盾", "山林权属争议", "物业服务纠纷", "土地流转租金纠纷"],
    "信访诉求": ["反映征地补偿款发放问题", "反映低保资格认定问题", "反映小区规划变更问题"],
    "安全隐患": ["电动车楼道违规充电", "消防通道被占用", "道路边坡落石", "山塘水库坝体渗漏", "沿街店铺燃气管线老化"],
    "治安": ["夜间噪音扰民", "可疑人员出没", "电信诈骗线索", "车辆被盗"],
    "劳动欠薪": ["工地农民工工资拖欠", "企业拖欠员工工资", "包工头失联欠薪"],
    "环境卫生": ["垃圾清运不及时", "河道漂浮物", "违规焚烧秸秆", "污水直排"],
    "食品安全": ["无证流动摊贩", "餐馆后厨卫生差", "超市销售过期食品"],
    "民生服务": ["路灯损坏", "独居老人需要帮扶", "自来水管破裂", "公交站台破损"],
}

#: First day of the Spring Festival (正月初一), for the years the sample may cover.
SPRING_FESTIVAL = {
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26",
    2029: "2029-02-13", 2030: "2030-02-03",
}


def daily_effects(days: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Array (8 categories × days) of relative report rates."""
    n = len(days)
    weekday = np.array([1.15, 1.05, 1.05, 1.05, 1.0, 0.7, 0.6])[days.day_of_week]
    base = weekday * (1 + 0.08 * (np.arange(n) / 365.0))  # platform use grows ~8 %/year
    eff = np.tile(base, (len(CATEGORIES), 1))
    for year, first in SPRING_FESTIVAL.items():
        sf = pd.Timestamp(first)
        holiday = (days >= sf - pd.Timedelta(days=1)) & (days < sf + pd.Timedelta(days=7))
        eff[:, holiday] *= 0.35
        before = (days >= sf - pd.Timedelta(days=35)) & (days < sf - pd.Timedelta(days=1))
        eff[CATEGORIES.index("劳动欠薪"), before] *= 3.0
    national = (days.month == 10) & (days.day <= 7)
    eff[:, national] *= 0.6
    summer = days.month.isin([6, 7, 8])
    eff[CATEGORIES.index("环境卫生"), summer] *= 1.3
    for year in sorted(set(days.year)):
        for _ in range(int(rng.integers(1, 3))):
            start = pd.Timestamp(year=year, month=int(rng.integers(7, 10)), day=int(rng.integers(1, 25)))
            storm = (days >= start) & (days < start + pd.Timedelta(days=int(rng.integers(3, 5))))
            eff[CATEGORIES.index("安全隐患"), storm] *= 4.0
            eff[CATEGORIES.index("环境卫生"), storm] *= 2.0
    return eff


def _choice_rows(rng: np.random.Generator, probs: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
    """One categorical draw per row of a probability matrix (``u``: the uniform values to use, else fresh ones)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs)) if u is None else u
    return (u[:, None] > cum).sum(axis=1).clip(0, probs.shape[1] - 1)


def generate_cases(rng: np.random.Generator, grids: pd.DataFrame, n_cases: int, start: dt.date, end: dt.date,
                   struggling_townships: set[str], struggling_villages: set[str],
                   until: dt.datetime | None = None) -> pd.DataFrame:
    """``n_cases`` cases reported between ``start`` and ``end`` (inclusive) in ``grids``.

    ``until``: the moment the data is as of when it falls inside ``end`` (the generator runs today): nothing
    is reported, dispatched or closed after it. The last day's reports are squeezed into the hours before it
    (same number of cases), so the case list and the wall's ticker never show a case from the future.

    ``grids`` needs: code, village_code, township_code, county_code, population, urban, points (array of
    (lon, lat) pairs inside the grid), township_name, county_name; optionally ``pace`` (how slowly the place
    handles cases, 1 = typical; sample_data.performance) and ``struggling`` (bool). Without ``pace`` the
    struggling townships and villages are slow (2.8) and every other place is typical.
    """
    days = pd.date_range(start, end, freq="D")
    eff = daily_effects(days, rng)
    # Where: grids weighted by population, struggling areas report a bit more.
    weight = grids["population"].to_numpy(float).clip(min=50)
    weight *= np.where(grids["urban"].to_numpy(), 1.25, 1.0)
    bad_t = grids["township_code"].isin(struggling_townships).to_numpy()
    bad_v = grids["village_code"].isin(struggling_villages).to_numpy()
    if "pace" in grids.columns:
        bad_g = grids["struggling"].to_numpy(dtype=bool) if "struggling" in grids.columns else bad_v
        pace_g = grids["pace"].to_numpy(dtype=float)
    else:
        bad_g = bad_t | bad_v
        pace_g = np.where(bad_g, 2.8, 1.0)
    weight *= np.where(bad_g, 1.4, 1.0)
    g = rng.choice(len(grids), n_cases, p=weight / weight.sum())
    # When: a day from the all-category rate, then the category given the place and the day.
    day_w = eff.sum(axis=0)
    d = rng.choice(len(days), n_cases, p=day_w / day_w.sum())
    urban = grids["urban"].to_numpy()[g]
    mix = np.where(urban[:, None], MIX_URBAN[None, :], MIX_RURAL[None, :]) * eff[:, d].T
    cat = _choice_rows(rng, mix)
    hour = rng.choice(24, n_cases, p=_hour_profile())
    reported = days.to_numpy()[d] + (hour * 3600 + rng.integers(0, 3600, n_cases)).astype("timedelta64[s]")
    end_ts = np.datetime64(pd.Timestamp(end) + pd.Timedelta(days=1))
    day_end = pd.Timestamp(end)
    if until is not None and day_end <= pd.Timestamp(until) < day_end + pd.Timedelta(days=1):
        last = reported >= np.datetime64(day_end)
        share = (pd.Timestamp(until) - day_end) / pd.Timedelta(days=1)
        offset = (reported[last] - np.datetime64(day_end)).astype("timedelta64[s]").astype(float)
        reported[last] = np.datetime64(day_end) + (offset * share).astype("timedelta64[s]")
        end_ts = np.datetime64(pd.Timestamp(until))
    src_probs = np.tile(SOURCE_MIX, (n_cases, 1))
    src_probs[cat == CATEGORIES.index("信访诉求"), 2] *= 6
    src = _choice_rows(rng, src_probs)
    is_major = rng.random(n_cases) < 0.01
    deadline_h = DEADLINE_DAYS[cat] * 24.0 * np.where(is_major, 0.5, 1.0)
    # How fast: log-normal around a fifth of the deadline times the place's pace; struggling places leave cases open.
    bad = bad_g[g]
    slow = pace_g[g]
    village = grids["village_code"].to_numpy()[g]
    spread = np.exp(SPREAD * steady_normal(rng, village, reported))
    hours = deadline_h * TYPICAL_SHARE * slow * spread
    never = steady_uniform(rng, village, reported, STEPS["stuck"]) < np.where(bad, STUCK_STRUGGLING, 0.004 * slow ** 2)
    closed = reported + (hours * 3600).astype("timedelta64[s]")
    still_open = never | (closed >= end_ts)
    reopened = ~still_open & (rng.random(n_cases) < 0.003)
    is_open = still_open | reopened
    dispatched = reported + (rng.exponential(1.5, n_cases) * 3600).astype("timedelta64[s]")
    dispatched = np.minimum(dispatched, np.where(is_open, dispatched, closed))
    status = np.where(reopened, "reopened", np.where(is_open, np.where(dispatched < end_ts, "dispatched", "reported"), "closed"))
    # Who resolved it, and was the citizen satisfied.
    level_probs = np.array([LEVEL_MIX.get(CATEGORIES[c], LEVEL_MIX["default"]) for c in range(len(CATEGORIES))])[cat]
    level_probs = level_probs * np.where(bad[:, None], [0.6, 1.0, 1.6, 2.0],
                                         np.stack([np.ones(n_cases), np.ones(n_cases), slow, slow], axis=1))
    level = np.array(RESOLUTION_LEVELS)[_choice_rows(rng, level_probs)]
    late = hours > deadline_h
    # Slow places leave people less satisfied even when the case was on time: 2 % unsatisfied × pace².
    usual = np.stack([np.full(n_cases, 0.90), np.full(n_cases, 0.08), 0.02 * slow ** 2], axis=1)
    sat_probs = np.where(bad[:, None], [0.68, 0.17, 0.15], np.where(late[:, None], [0.72, 0.18, 0.10], usual))
    # Unsatisfied is the last column: the top of a village's steady sequence.
    sat_u = steady_uniform(rng, village, reported, STEPS["satisfaction"])
    sat = np.array([SATISFIED, BASICALLY_SATISFIED, UNSATISFIED])[_choice_rows(rng, sat_probs, sat_u)].astype(float)
    rated = ~is_open & (steady_uniform(rng, village, reported, STEPS["rated"]) < 0.6)
    grid_rows = grids.iloc[g]
    points = grid_rows["points"].to_numpy()
    pick = rng.integers(0, 1 << 30, n_cases)
    lonlat = np.array([pts[k % len(pts)] for pts, k in zip(points, pick)])
    names = person_names(rng, n_cases)
    phones = mobile_numbers(rng, n_cases)
    what_idx = rng.integers(0, 1 << 30, n_cases)
    township_name = grid_rows["township_name"].to_numpy()
    village_name = grid_rows["village_name"].to_numpy()
    descriptions = [
        f"{v}{WHAT[CATEGORIES[c]][k % len(WHAT[CATEGORIES[c]])]}" + (f"，联系电话{p}" if k % 7 == 0 else "")
        for v, c, k, p in zip(village_name, cat, what_idx, phones)
    ]
    units = [f"{t}{HANDLING_UNIT[c]}" for t, c in zip(township_name, cat)]
    order = np.argsort(reported, kind="stable")
    df = pd.DataFrame({
        "category": np.array(CATEGORIES)[cat],
        "source": np.array(SOURCES)[src],
        "grid_code": grid_rows["code"].to_numpy(),
        "lon": lonlat[:, 0].round(6),
        "lat": lonlat[:, 1].round(6),
        "reported_at": reported,
        "dispatched_at": np.where(dispatched < end_ts, dispatched, np.datetime64("NaT")),
        "closed_at": np.where(is_open, np.datetime64("NaT"), closed),
        "deadline": reported + (deadline_h * 3600).astype("timedelta64[s]"),
        "status": status,
        "resolution_level": np.where(is_open, None, level),
        "satisfaction": np.where(rated, sat, np.nan),
        "is_major": is_major,
        "handling_unit": units,
        "description": descriptions,
        "citizen_name": names,
        "citizen_phone": phones,
    }).iloc[order].reset_index(drop=True)
    for col in ("reported_at", "dispatched_at", "closed_at", "deadline"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[s]")
    df.insert(0, "id", [f"SJ{t:%Y%m%d}{i:07d}" for i, t in enumerate(df["reported_at"])])
    return df


def steady_uniform(rng: np.random.Generator, village: np.ndarray, reported: np.ndarray,
                   step: float = GOLDEN) -> np.ndarray:
    """A value in [0, 1) per case, spread evenly over any run of a village's consecutive cases: a village's pace
    shows steadily instead of by the luck of a few draws.

    Why: a place that is slow is slow every month (too few staff, a grid worker who does not follow up), so its
    late, stuck and unsatisfied cases come at its pace, not in chance clumps. With independent draws a lagging
    village of 15 cases a year showed no late case one year in ten and a well-run one two, so small villages'
    colours were luck. Within each village, the cases in time order take the sequence ``u0 + k·step (mod 1)``
    from a random start ``u0``; for an irrational ``step`` any k consecutive terms fill [0, 1) evenly, within
    about log(k)/k (Weyl). Each attribute takes its own step (STEPS), so the attributes do not follow each other.
    Across the city the values are as uniform as independent draws.
    """
    if len(village) == 0:
        return np.zeros(0)
    ids, codes = pd.factorize(village)
    order = np.lexsort((reported, ids))
    first = np.r_[True, ids[order][1:] != ids[order][:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    u = np.empty(len(order))
    u[order] = (rng.random(len(codes))[ids[order]] + rank * step) % 1.0
    return u


def steady_normal(rng: np.random.Generator, village: np.ndarray, reported: np.ndarray) -> np.ndarray:
    """:func:`steady_uniform` through the standard normal's quantile function (a village's closure times)."""
    return np.interp(steady_uniform(rng, village, reported), _QUANTILE_U, _QUANTILE_Z)


#: The standard normal's quantile function, tabulated (numpy has none; 4,096 points, |z| ≤ 3.7).
_QUANTILE_U = (np.arange(4096) + 0.5) / 4096
_QUANTILE_Z = np.array([NormalDist().inv_cdf(float(u)) for u in _QUANTILE_U])


def _hour_profile() -> np.ndarray:
    p = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 8, 10, 13, 13, 12, 10, 7, 6, 5, 4, 2, 1], float)
    return p / p.sum()
