"""大屏: the command-centre wall. Dark, chrome-less, one 16:9 screen, refreshes and rotates by itself.

URL: /wall?region=331100000000&refresh=60&rotate=30&regions=331102000000,331121000000
- ``refresh``: seconds between data refreshes (default 60); a fragment reruns, the page never reloads;
- ``rotate``: seconds per region (0 or absent: no rotation); the rotation is ``regions`` if given, else the
  region and each of its children;
- ``from``/``to`` as everywhere: ``to`` is the wall's "today" (default: today).
When the database is down the wall keeps drawing the last good data (one payload in session state)
with its time stamp in amber, and picks up by itself on a later refresh.
"""
import logging
import time

import streamlit as st

from ui import auth, data
from ui.filters import active_view
from ui.playback import WALL_PARAM, wall_months, wall_playback
from ui.wall import (collect, deck, header_html, map_canvas_px, next_slot, panels_html, ticker_html, viewport,
                     wall_params)

log = logging.getLogger(__name__)
LAST = "wall_last"      # the last good payload (one entry)
SLOT = "wall_slot"      # rotation state: {"cycle", "i", "since"}
TICK = "wall_tick"      # fragment runs so far (shown as data-tick, for tests and the soak benchmark)

params, notes = wall_params(st.query_params)
play = wall_months(st.query_params.get(WALL_PARAM))  # issue 18: month-by-month map replay
view = active_view()
noted_view, view_notes = st.session_state.get("view_notes", (None, []))
notes = [*(view_notes if noted_view == view else []), *notes]  # ?region=, ?from=, ?cat= … named on the wall too
size = viewport()


def cycle_for(version: int) -> tuple[str, ...]:
    """The regions to show in turn: ?regions= (known codes only), else the region and its children."""
    if params.regions:
        known = []
        for code in params.regions:
            try:
                data.region(code, version)
                known.append(code)
            except data.DataError:
                continue
        return tuple(known) or (view.region,)
    if not params.rotate:
        return (view.region,)
    kids = data.children(view.region, version)
    return (view.region, *kids["code"].tolist())


@st.fragment(run_every=params.tick)
def live() -> None:
    st.session_state[TICK] = st.session_state.get(TICK, 0) + 1
    if not auth.token_still_valid():  # a revoked kiosk token: stop at this refresh, keep nothing on screen
        st.session_state.pop(LAST, None)
        st.error(auth.t("auth_token_invalid"))
        return
    stale = False
    payload = st.session_state.get(LAST)
    position = None
    try:
        version = data.data_version()
        cycle = cycle_for(version)
        slot = next_slot(st.session_state.get(SLOT), cycle, params, time.monotonic())
        st.session_state[SLOT] = slot
        position = (slot["i"], len(cycle))
        ref = min(view.date_to, data.today())
        payload = collect(cycle[slot["i"]], ref, data.as_of(), version)
        st.session_state[LAST] = payload
    except Exception as exc:  # noqa: BLE001 - an unattended wall keeps its last picture, whatever failed
        if payload is None and not isinstance(exc, data.DataError):
            raise
        if not isinstance(exc, data.DataError):
            log.exception("wall refresh failed; showing the last good data")
        stale = True
        slot = st.session_state.get(SLOT)
        if slot:
            position = (slot["i"], len(slot["cycle"]))
    st.markdown(header_html(payload, tick=st.session_state[TICK], stale=stale, position=position, notes=notes,
                            refresh=params.refresh), unsafe_allow_html=True)
    if payload is None:
        return
    st.markdown(panels_html(payload), unsafe_allow_html=True)
    st.markdown(ticker_html(payload["cases"]), unsafe_allow_html=True)
    chart = None if play else deck(payload, size)  # with ?playback= the map is drawn by its own fragment below
    if chart is not None:
        with st.container(key="wall_map"):
            st.pydeck_chart(chart, height=max(200, int(map_canvas_px(size)[1])))


live()
if play:
    wall_playback(play, size)
