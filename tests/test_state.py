"""URL parameters <-> View (pure, no Streamlit)."""
import datetime as dt

from data_access.codes import ancestors, code_range, level_of
from data_access.view import View
from ui.state import params_from_view, presets, view_from_params

ROOT = "331100000000"
TODAY = dt.date(2026, 11, 22)


def test_round_trip():
    v = View("331102001000", dt.date(2025, 1, 1), dt.date(2025, 12, 31), ("矛盾纠纷", "治安"), ("12345热线",), ("closed",))
    back, notes = view_from_params(params_from_view(v), ROOT, TODAY)
    assert back == v and notes == []


def test_defaults_and_bad_values_are_replaced_with_notes():
    v, notes = view_from_params({}, ROOT, TODAY)
    assert v == View(ROOT, dt.date(2026, 1, 1), TODAY) and notes == []
    v, notes = view_from_params({"region": "abc", "from": "2025-13-01", "to": "2026-06-30"}, ROOT, TODAY)
    assert v.region == ROOT and v.date_from == dt.date(2026, 1, 1)
    assert any("region=abc" in n for n in notes) and any("from=2025-13-01" in n for n in notes)


def test_swapped_dates_are_put_in_order():
    v, notes = view_from_params({"from": "2025-12-31", "to": "2025-01-01"}, ROOT, TODAY)
    assert (v.date_from, v.date_to) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31)) and notes


def test_presets():
    p = presets(dt.date(2026, 3, 15))
    assert p["preset_last_month"] == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert p["preset_this_quarter"] == (dt.date(2026, 1, 1), dt.date(2026, 3, 15))
    assert p["preset_last_12"] == (dt.date(2025, 4, 1), dt.date(2026, 3, 15))
    assert p["preset_last_year"] == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_previous_and_year_ago_periods():
    month = View(ROOT, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (month.previous().date_from, month.previous().date_to) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert (month.year_ago().date_from, month.year_ago().date_to) == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    days = View(ROOT, dt.date(2026, 3, 5), dt.date(2026, 3, 14))
    assert (days.previous().date_from, days.previous().date_to) == (dt.date(2026, 2, 23), dt.date(2026, 3, 4))
    leap = View(ROOT, dt.date(2024, 2, 1), dt.date(2024, 2, 29)).year_ago()
    assert leap.date_to == dt.date(2023, 2, 28)


def test_codes():
    assert [level_of(c) for c in ("331100000000", "331102000000", "331102001000", "331102001201", "331102001201001")] == \
        ["city", "county", "township", "village", "grid"]
    assert code_range("331102000000") == ("331102", "331103")
    assert code_range("331109000000") == ("331109", "33110:")  # ':' sorts right after '9'
    assert ancestors("331102001201") == ["331100000000", "331102000000", "331102001000", "331102001201"]
