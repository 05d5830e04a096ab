"""The life of a 督办事项 (supervised instruction), as a pure state machine.

Why a table and not code paths: which step may follow which, and which side of the instruction may take it,
is the rule staff argue about; it lives here in one place, and data_access.duban only asks it.

States: 已下发 issued → 已签收 signed → 已反馈 fed_back → 已办结 closed, or 退回 returned (the author sends the
feedback back with a reason; the unit then works on and feeds back again: returned → fed_back). 逾期 (overdue)
is not a state but a fact about time: the deadline has passed while the unit still owes its feedback
(已下发, 已签收 or 退回). Fed back and waiting for the author's acceptance is not the unit's delay.

Sides: ``author`` is the issuing centre (the author's region), ``unit`` the responsible unit (the unit's region).
"""
from __future__ import annotations

from dataclasses import dataclass

ISSUED, SIGNED, FED_BACK, CLOSED, RETURNED = "issued", "signed", "fed_back", "closed", "returned"
STATES = (ISSUED, SIGNED, FED_BACK, RETURNED, CLOSED)
OPEN_STATES = (ISSUED, SIGNED, FED_BACK, RETURNED)
#: The unit owes feedback in these states: past the deadline, they are overdue.
OWING_STATES = (ISSUED, SIGNED, RETURNED)
AUTHOR, UNIT = "author", "unit"
SIDES = (AUTHOR, UNIT)

SIGN, FEEDBACK, ACCEPT, RETURN = "sign", "feedback", "accept", "return"
ACTIONS = (SIGN, FEEDBACK, ACCEPT, RETURN)


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    side: str
    needs_text: bool  # feedback must say what was done; a return must say why


TRANSITIONS = (
    Transition(SIGN, ISSUED, SIGNED, UNIT, False),
    Transition(FEEDBACK, SIGNED, FED_BACK, UNIT, True),
    Transition(FEEDBACK, RETURNED, FED_BACK, UNIT, True),
    Transition(ACCEPT, FED_BACK, CLOSED, AUTHOR, False),
    Transition(RETURN, FED_BACK, RETURNED, AUTHOR, True),
)
_BY_KEY = {(tr.action, tr.source): tr for tr in TRANSITIONS}


class Forbidden(ValueError):
    """A step that the rules do not allow; ``str()`` is a Chinese message naming state, step and side."""


STATE_NAMES = {ISSUED: "已下发", SIGNED: "已签收", FED_BACK: "已反馈", CLOSED: "已办结", RETURNED: "退回"}
ACTION_NAMES = {SIGN: "签收", FEEDBACK: "反馈", ACCEPT: "办结（验收通过）", RETURN: "退回"}
SIDE_NAMES = {AUTHOR: "下发方", UNIT: "责任单位"}


def step(state: str, action: str, side: str, text: str = "") -> str:
    """The state after ``side`` takes ``action`` in ``state``; raises Forbidden when not allowed."""
    if state not in STATES:
        raise Forbidden(f"未知的督办状态 {state!r}")
    if action not in ACTIONS:
        raise Forbidden(f"未知的督办操作 {action!r}")
    tr = _BY_KEY.get((action, state))
    if tr is None:
        raise Forbidden(f"督办事项处于“{STATE_NAMES[state]}”，不能{ACTION_NAMES[action]}")
    if side != tr.side:
        raise Forbidden(f"“{ACTION_NAMES[action]}”只能由{SIDE_NAMES[tr.side]}操作")
    if tr.needs_text and not (text or "").strip():
        raise Forbidden(f"“{ACTION_NAMES[action]}”须填写{'办理情况' if action == FEEDBACK else '退回理由'}")
    return tr.target


def allowed(state: str, side: str) -> tuple[str, ...]:
    """The actions ``side`` may take in ``state`` (for the buttons a page offers)."""
    return tuple(tr.action for tr in TRANSITIONS if tr.source == state and tr.side == side)


def is_overdue(state: str, deadline, now) -> bool:
    """Overdue: the unit still owes feedback and the deadline has passed."""
    return state in OWING_STATES and deadline < now
