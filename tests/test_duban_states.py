"""The 督办 state machine: every (state, action, side) triple, allowed or forbidden, against a table written
out by hand (not derived from the module's own TRANSITIONS)."""
import itertools

import pytest

from data_access import duban_states as s

# (state, action, side) -> next state; everything else is forbidden.
ALLOWED = {
    ("issued", "sign", "unit"): "signed",
    ("signed", "feedback", "unit"): "fed_back",
    ("returned", "feedback", "unit"): "fed_back",
    ("fed_back", "accept", "author"): "closed",
    ("fed_back", "return", "author"): "returned",
}
ALL = list(itertools.product(s.STATES, s.ACTIONS, s.SIDES))


def test_the_table_covers_five_states_four_actions_two_sides():
    assert len(ALL) == 5 * 4 * 2
    assert set(s.STATES) == {"issued", "signed", "fed_back", "closed", "returned"}


@pytest.mark.parametrize("state,action,side", [k for k in ALL if k in ALLOWED])
def test_allowed(state, action, side):
    assert s.step(state, action, side, text="已整改，附现场照片") == ALLOWED[(state, action, side)]


@pytest.mark.parametrize("state,action,side", [k for k in ALL if k not in ALLOWED])
def test_forbidden(state, action, side):
    with pytest.raises(s.Forbidden) as err:
        s.step(state, action, side, text="理由")
    assert any(ch in str(err.value) for ch in ("不能", "只能由"))


def test_wrong_side_names_who_may():
    with pytest.raises(s.Forbidden, match="只能由责任单位"):
        s.step("issued", "sign", "author")
    with pytest.raises(s.Forbidden, match="只能由下发方"):
        s.step("fed_back", "accept", "unit")


@pytest.mark.parametrize("state,action", [("signed", "feedback"), ("returned", "feedback"), ("fed_back", "return")])
def test_feedback_and_return_need_words(state, action):
    side = "author" if action == "return" else "unit"
    for blank in ("", "   "):
        with pytest.raises(s.Forbidden, match="须填写"):
            s.step(state, action, side, text=blank)


def test_closed_is_final_and_unknowns_are_refused():
    assert s.allowed("closed", "unit") == () and s.allowed("closed", "author") == ()
    with pytest.raises(s.Forbidden, match="未知的督办状态"):
        s.step("done", "sign", "unit")
    with pytest.raises(s.Forbidden, match="未知的督办操作"):
        s.step("issued", "approve", "unit")


def test_allowed_lists_the_buttons():
    assert s.allowed("issued", "unit") == ("sign",)
    assert s.allowed("issued", "author") == ()
    assert s.allowed("fed_back", "author") == ("accept", "return")
    assert s.allowed("returned", "unit") == ("feedback",)


def test_overdue_is_time_not_state():
    import datetime as dt
    d = dt.datetime(2026, 11, 10)
    assert s.is_overdue("signed", d, dt.datetime(2026, 11, 11))
    assert not s.is_overdue("signed", d, dt.datetime(2026, 11, 10))
    assert not s.is_overdue("closed", d, dt.datetime(2026, 12, 1))
    assert not s.is_overdue("fed_back", d, dt.datetime(2026, 12, 1))  # waiting for the author, not late
    assert s.is_overdue("returned", d, dt.datetime(2026, 12, 1))
