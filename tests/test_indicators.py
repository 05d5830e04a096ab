"""Indicator maths against figures computed by hand (DOMAIN.md definitions)."""
import math

import pandas as pd
import pytest

from analytics.indicators import derive, duration_class, grouped_median, measures_from_cases, total

T = pd.Timestamp
AS_OF = T("2026-01-10 00:00")


def cases(rows):
    df = pd.DataFrame(rows, columns=["reported_at", "closed_at", "deadline", "resolution_level", "satisfaction", "status"])
    for c in ("reported_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c])
    return df


SIX = cases([
    ("2026-01-01 00:00", "2026-01-01 01:00", "2026-01-04", "村", 3, "closed"),      # 1 h, on time
    ("2026-01-01 00:00", "2026-01-03 00:00", "2026-01-02", "县", 1, "closed"),      # 48 h, late
    ("2026-01-02 00:00", None, "2026-01-05", None, None, "dispatched"),             # open, overdue
    ("2026-01-05 00:00", None, "2026-01-20", None, None, "dispatched"),             # open, not yet due
    ("2026-01-02 00:00", "2026-01-02 10:00", "2026-01-03", "镇", 2, "closed"),      # 10 h, on time
    ("2026-01-02 00:00", None, "2026-01-04", None, None, "reopened"),               # reopened: open, overdue
])


def test_six_cases_by_hand():
    row = derive(measures_from_cases(SIX, AS_OF).assign(population=20000)).iloc[0]
    assert row["received"] == 6
    assert row["closed"] == 3
    # 应办结 = 3 closed + 2 open past their deadline; the case due 2026-01-20 is not yet due
    assert row["due"] == 5
    assert row["closure_rate"] == pytest.approx(3 / 5)
    assert row["on_time_rate"] == pytest.approx(2 / 5)
    assert row["overdue_rate"] == pytest.approx(2 / 6)
    assert row["local_rate"] == pytest.approx(2 / 3)
    assert row["satisfaction_rate"] == pytest.approx(2 / 3)
    assert row["mean_close_hours"] == pytest.approx((1 + 48 + 10) / 3)
    assert row["open"] == 3
    assert row["overdue"] == 2
    # classes: 1 h -> (0,2], 10 h -> (8,12], 48 h -> (24,48]; middle case (1.5 of 3) sits in (8,12]
    assert row["median_close_hours"] == pytest.approx(8 + (1.5 - 1) / 1 * 4)
    assert row["per_10k"] == pytest.approx(3.0)


def test_reopened_case_counts_as_open_not_closed():
    one = SIX.iloc[[5]]
    row = derive(measures_from_cases(one, AS_OF)).iloc[0]
    assert (row["received"], row["closed"], row["open"], row["overdue"]) == (1, 0, 1, 1)
    assert row["closure_rate"] == 0.0


def test_zero_cases_give_no_rates():
    row = derive(pd.DataFrame([{"received": 0, "population": 1000}])).iloc[0]
    assert row["received"] == 0
    for col in ("closure_rate", "on_time_rate", "local_rate", "satisfaction_rate", "mean_close_hours",
                "median_close_hours"):
        assert math.isnan(row[col]), col
    assert row["per_10k"] == 0.0


def test_all_open():
    row = derive(measures_from_cases(SIX.iloc[[2, 3]], AS_OF)).iloc[0]
    assert row["closure_rate"] == 0.0 and row["on_time_rate"] == 0.0   # 1 due (overdue), not closed
    assert math.isnan(row["median_close_hours"])
    assert row["overdue"] == 1


def test_cases_not_yet_due_are_no_failure():
    """A running period: a case inside its deadline counts neither for nor against the rates."""
    row = derive(measures_from_cases(SIX.iloc[[3]], AS_OF)).iloc[0]
    assert (row["received"], row["due"], row["overdue"]) == (1, 0, 0)
    assert math.isnan(row["closure_rate"]) and math.isnan(row["on_time_rate"])
    assert row["overdue_rate"] == 0.0
    # the same case after its deadline has passed: due and failed
    later = derive(measures_from_cases(SIX.iloc[[3]], T("2026-01-21"))).iloc[0]
    assert (later["due"], later["closure_rate"], later["overdue_rate"]) == (1, 0.0, 1.0)


def test_population_zero_gives_no_rate_per_10k():
    assert math.isnan(derive(pd.DataFrame([{"received": 5, "population": 0}])).iloc[0]["per_10k"])


def test_duration_class_edges_belong_to_lower_class():
    assert list(duration_class([0, 2, 2.0001, 720, 721])) == [0, 0, 1, 11, 12]


@pytest.mark.parametrize("counts, expected", [
    ([1], 1.0),                        # one case in (0,2]: half way
    ([0, 0, 0, 0, 2], 18.0),           # two cases in (12,24]: midpoint
    ([0] * 12 + [5], 720.0),           # open last class: its lower edge
    ([0] * 13, math.nan),
])
def test_grouped_median(counts, expected):
    got = grouped_median(counts)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_total_sums_measures_and_population():
    df = derive(pd.DataFrame([{"received": 10, "closed": 9, "overdue": 1, "population": 100},
                              {"received": 30, "closed": 21, "overdue": 9, "population": 300}]))
    tot = derive(total(df)).iloc[0]
    assert tot["received"] == 40 and tot["population"] == 400
    assert tot["closure_rate"] == pytest.approx(30 / 40)  # pooled, not the mean of 0.9 and 0.7
