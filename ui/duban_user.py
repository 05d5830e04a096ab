"""Who is acting on the 督办 pages: ONE function.

A signed-in person (local account or OIDC) acts as themselves: ``ui.auth.current_scope()``'s user, region and
role, so data_access.duban scopes every list and step to their region. Only in the open modes (the two-command
demo, or sign-in switched off) is there nobody to act as; there the sidebar of the 督办 page offers demo
identities (“当前身份（演示）”): the city's and every county's leadership and every township's 综治中心, named
after their 责任清单 row, so the loop can be shown and tested without accounts.
"""
from __future__ import annotations

import streamlit as st

from . import data
from .strings import t

DEMO_KEY = "duban_demo_actor"      # the chosen demo identity's region code (kept across pages)
WIDGET_KEY = "duban_demo_picker"


def _signed_in() -> tuple[str, str | None, str] | None:
    """(user, region, role) of a person who signed in; None in the open modes (demo, off)."""
    from .auth import OPEN_MODES, current_scope
    scope = current_scope()
    if scope.via in OPEN_MODES:
        return None
    return (scope.user, scope.region, scope.role)


def _label(unit, person) -> str:
    """钟梅娜（景宁畲族自治县委政法委）: the 责任清单's person and unit."""
    return f"{person}（{unit}）" if person else str(unit)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def demo_actors(version: int) -> dict[str, tuple[str, str, str]]:
    """region code -> (name, region code, role) of every demo identity: city, counties, townships."""
    root = data.root_code(version)
    me = data.region(root, version)
    out = {}

    def add(code: str, unit, person) -> None:
        out[code] = (_label(unit, person), code, "exporter")

    add(root, me.get("duty_unit") or me["name"], me.get("duty_person"))
    for c in data.duty_list(root, version).itertuples(index=False):
        add(c.code, c.duty_unit or c.name, c.duty_person)
        for w in data.duty_list(c.code, version).itertuples(index=False):
            add(w.code, w.duty_unit or w.name, w.duty_person)
    return out


def current_actor() -> tuple[str, str | None, str]:
    """(name, 12-digit region code or None, role) of the acting user."""
    signed_in = _signed_in()
    if signed_in:
        return signed_in
    version = data.data_version()
    code = st.session_state.get(DEMO_KEY)
    if code is None:  # nobody picked one (the wall, 总览 …): the city, without listing every identity
        root = data.root_code(version)
        me = data.region(root, version)
        unit, person = me.get("duty_unit") or me["name"], me.get("duty_person")
        return (_label(unit, person), root, "exporter")
    actors = demo_actors(version)
    return actors.get(code) or actors[data.root_code(version)]


def demo_picker() -> None:
    """The sidebar's “当前身份（演示）” selectbox (only without a signed-in user)."""
    if _signed_in():
        return
    version = data.data_version()
    actors = demo_actors(version)
    codes = list(actors)
    current = st.session_state.get(DEMO_KEY)
    index = codes.index(current) if current in codes else 0
    with st.sidebar:
        st.selectbox(t("db_actor_demo"), codes, index=index, key=WIDGET_KEY, format_func=lambda c: actors[c][0],
                     on_change=_on_pick, help=t("db_actor_demo_help"))


def _on_pick() -> None:
    st.session_state[DEMO_KEY] = st.session_state[WIDGET_KEY]
