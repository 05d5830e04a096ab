"""The sample city's yearly village table (村社年度表): what a county collects once a year per village for the
强基善治指数 and no case records — collective income, income growth, environment score, households, party
members and how many households they are paired with.

Plausible, not real: each village has a lasting character (urban communities earn more collective income
and have more young party members; the few struggling villages of the case generator lag on most columns)
plus yearly noise, and collective income grows a few percent a year. Its own random stream (seeded from the
build's seed), so adding it leaves the generated cases exactly as they were.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def village_year_rows(seed: int, villages: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """One row per (village, year). ``villages``: code, population, urban (bool), struggling (bool)."""
    rng = np.random.default_rng([seed, 18])
    n = len(villages)
    pop = villages["population"].to_numpy(dtype=float).clip(min=200)
    urban = villages["urban"].to_numpy(dtype=bool)
    weak = villages["struggling"].to_numpy(dtype=bool)
    # Lasting character of each village.
    strength = rng.normal(0, 1, n) - 1.2 * weak
    income0 = np.exp(np.log(np.where(urban, 150.0, 55.0)) + 0.6 * rng.normal(0, 1, n) + 0.25 * strength)
    households = np.round(pop / rng.uniform(2.5, 3.1, n)).astype(int)
    members_share = np.clip(rng.normal(0.055, 0.012, n), 0.025, 0.1)
    young_share = np.clip(rng.normal(np.where(urban, 0.26, 0.17), 0.05, n) + 0.02 * strength, 0.03, 0.5)
    link_per_member = np.clip(rng.normal(7.0, 1.5, n) + 0.8 * strength, 2.0, 12.0)
    env0 = np.clip(rng.normal(84, 5, n) + 2.5 * strength, 55, 99)
    parts = []
    for k, year in enumerate(sorted(years)):
        growth = np.clip(rng.normal(6.5, 2.0, n) + 0.8 * strength, -5, 20)
        income = income0 * (1.05 ** k) * np.exp(rng.normal(0, 0.08, n))
        members = np.round(pop * members_share * (1 + 0.01 * k)).astype(int)
        parts.append(pd.DataFrame({
            "village_code": villages["code"].to_numpy(),
            "year": year,
            "collective_income": np.round(income, 1),
            "income_growth": np.round(growth, 1),
            "environment_score": np.round(np.clip(env0 + rng.normal(0, 2.0, n) + 0.6 * k, 50, 100), 1),
            "households": households,
            "linked_households": np.minimum(households, np.round(members * link_per_member)).astype(int),
            "party_members": members,
            "young_members": np.round(members * np.clip(young_share + rng.normal(0, 0.02, n), 0.0, 0.6)).astype(int),
        }))
    return pd.concat(parts, ignore_index=True)
