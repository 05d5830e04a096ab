"""The generator's lasting paces (sample_data.performance): every parent has a laggard and a leader, regular
places stay under the ceiling, a struggling township's trouble sits in a few of its villages."""
from __future__ import annotations

import numpy as np
import pytest

from sample_data import performance as pf
from sample_data.build import pick_struggling
from sample_data.counties import load_city
from sample_data.geography import build_hierarchy


@pytest.fixture(scope="module", params=[3, 19])
def city(request):
    units = build_hierarchy(load_city("丽水市"), np.random.default_rng(request.param))
    bad_t, bad_v = pick_struggling(np.random.default_rng(request.param), units)
    pace, bad = pf.paces(request.param, units, bad_t, bad_v)
    return units, bad_t, bad_v, pace, bad


def test_every_village_has_a_pace_and_regular_ones_stay_in_bounds(city):
    units, _bad_t, _bad_v, pace, bad = city
    assert set(pace) == {v.code for v in units["village"]}
    regular = [p for code, p in pace.items() if code not in bad]
    assert min(regular) >= pf.FLOOR - 1e-9 and max(regular) <= pf.LAGGARD["village"] + 1e-9
    # above the ceiling: only the one laggard village of a township
    above = [code for code, p in pace.items() if code not in bad and p > pf.CEILING + 1e-9]
    assert len({code[:9] for code in above}) == len(above) > 0
    assert all(pace[code] == pf.STRUGGLING_PACE for code in bad)


def test_every_township_has_a_laggard_and_a_leader_among_its_villages(city):
    units, _bad_t, _bad_v, pace, bad = city
    by_town: dict[str, list[str]] = {}
    for v in units["village"]:
        by_town.setdefault(v.parent_code, []).append(v.code)
    for town, villages in by_town.items():
        if len(villages) < 2:
            continue
        values = [pace[c] for c in villages]
        if any(c in bad for c in villages):
            continue                      # a struggling township, or one with a struggling village: red finds it
        assert max(values) >= pf.LAGGARD["village"] - 1e-9, town
        # the laggard is the busiest village (most people, most cases): its lag shows in enough cases
        busiest = max((v for v in units["village"] if v.parent_code == town), key=lambda v: v.population)
        assert pace[busiest.code] == max(values), town


def test_struggling_townships_owe_it_to_their_busiest_villages_at_most_a_quarter(city):
    units, bad_t, bad_v, _pace, bad = city
    assert 1 <= len(bad_t) <= 5
    for town in bad_t:
        villages = sorted((v for v in units["village"] if v.parent_code == town), key=lambda v: -v.population)
        theirs = [v for v in villages if v.code in bad]
        assert 1 <= len(theirs) <= max(1, len(villages) // 4 - 1), town
        assert {v.code for v in theirs} == {v.code for v in villages[:len(theirs)]}  # the busiest ones
    # struggling villages elsewhere: one per township at most, never in a small or struggling township
    towns = [code[:9] + "000" for code in bad_v]
    assert len(towns) == len(set(towns)) and not set(towns) & bad_t
    for town in towns:
        assert sum(v.parent_code == town for v in units["village"]) >= 8


def test_spread_is_even_in_rank():
    f = pf._spread(np.random.default_rng(1), 9, 0.25)
    assert sorted(np.log(f) / 0.25) == pytest.approx(sorted(-np.log(f[::-1]) / 0.25))  # symmetric around 1
    assert np.median(f) == pytest.approx(1.0)
