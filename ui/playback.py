"""Time playback (时间回放): the children of a region on the map, month by month over the last 12–36 months,
with play/pause and a month slider, so a leader sees where things got better or worse.

Why this shape: the months step inside ``st.fragment(run_every=…)``, so only the map and its slider rerun —
the page is never reloaded and nothing is fetched from another host (the deck is the offline ``geo/`` map).
All months come from one grouped query (``data_access.breakdowns.warning_history``), cached per data version;
each step only recolours. An indicator's colours use one scale over all the months shown, so a colour means
the same value in every month; warning colours come from the rules, evaluated per month.

Call :func:`playback` from a page (地图钻取) with the colour mode the page already uses.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access.breakdowns import month_list, shift_month
from geo import colors as geo_colors
from geo import layers as geo_layers
from . import data
from .escape import md
from .strings import label, t
from .widgets import map_legend

SPANS = (12, 24, 36)
#: Seconds between two months while playing.
STEP_SECONDS = 1.5


@data.scoped
@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def history(code: str, last: int, months: int, version: int, today: dt.date, scope=None) -> pd.DataFrame:
    """Indicators per (child, month) for the ``months`` months ending with ``last`` (one grouped query), within the
    signed-in user's scope (the scope is part of the cache key)."""
    from data_access import breakdowns
    at = dt.datetime.combine(today, dt.time())
    return data._conn_call(breakdowns.warning_history, code, last, at, months, today, scope)


def month_scales(hist: pd.DataFrame, mode: str, rules) -> dict[int, tuple[dict[str, str], geo_colors.Scale]]:
    """month -> ({child code: colour}, the month's legend). Indicators: one scale over every month (the legend's
    ranges are the same each month, its counts the month's); warnings: the rules, evaluated per month."""
    from dataclasses import replace
    if mode == geo_colors.WARNING:
        from analytics.warnings import evaluate
        hist = evaluate(hist, rules)
        whole = geo_colors.warning_scale(hist["overall"], rules)
    else:
        whole = geo_colors.indicator_scale(hist[mode], mode)
    out: dict[int, tuple[dict[str, str], geo_colors.Scale]] = {}
    frame = pd.DataFrame({"month": hist["month"].astype(int), "code": hist["code"].astype(str), "color": whole.colors})
    for month, part in frame.groupby("month", sort=True):
        counts = part["color"].value_counts()
        legend = [replace(e, count=int(counts.get(e.color, 0))) for e in whole.legend]
        out[int(month)] = (dict(zip(part["code"], part["color"])), replace(whole, colors=list(part["color"]), legend=legend))
    return out


def month_text(month: int) -> str:
    return t("play_month", y=month // 100, m=month % 100)


def _toggle(key: str) -> None:
    st.session_state[f"{key}_playing"] = not st.session_state.get(f"{key}_playing", False)


def _moved(key: str) -> None:
    st.session_state[f"{key}_hold"] = True  # the person moved the slider: do not step on this run


def _months(version: int, n: int) -> list[int]:
    """The last ``n`` months with data (yyyymm, oldest first), up to this month; [] without cases."""
    span = data.month_span(version)
    if span is None:
        return []
    today = data.today()
    last = min(span[1], today.year * 100 + today.month)
    return month_list(max(span[0], shift_month(last, -(n - 1))), last)


def playback(view, mode: str, key: str, *, height: int = geo_layers.MAP_PX) -> None:
    """Play/pause, the span (12/24/36 months) and, in a fragment, the month slider and the recoloured map."""
    version = data.data_version()
    if not _months(version, 1):
        return
    playing = st.session_state.get(f"{key}_playing", False)
    bar = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    bar.button(t("play_pause") if playing else t("play_start"), key=f"{key}_btn", on_click=_toggle, args=(key,),
               type="primary" if not playing else "secondary")
    months_n = bar.selectbox(t("play_span"), SPANS, key=f"{key}_span", format_func=lambda n: t("play_span_fmt", n=n),
                             width=140)
    months = _months(version, months_n)
    hist = history(view.region, months[-1], len(months), version, data.today())
    rules, _error = data.rules()
    scales = month_scales(hist, mode, rules)
    what = t("map_color_warning") if mode == geo_colors.WARNING else label(mode)

    @st.fragment(run_every=STEP_SECONDS if playing else None)
    def frame() -> None:
        skey = f"{key}_month"
        current = st.session_state.get(skey)
        if current not in months:
            current = months[0] if playing else months[-1]
        elif playing and not st.session_state.pop(f"{key}_hold", False):
            current = months[(months.index(current) + 1) % len(months)]
        st.session_state[skey] = current
        st.select_slider(t("play_slider"), months, key=skey, format_func=month_text, on_change=_moved, args=(key,))
        try:
            shapes = data.map_shapes(view.region, version)
        except data.DataError as exc:
            st.warning(md(exc))
            return
        now, scale = scales.get(current, ({}, None))
        names = dict(zip(hist["code"], hist["name"]))
        fills = [now.get(c, geo_colors.NAN_COLOR) for c in shapes.children["code"]]
        tips = [f"{names.get(c, n)}\n{month_text(current)}" for c, n in zip(shapes.children["code"], shapes.children["name"])]
        deck = geo_layers.build_deck(shapes, fills, tips, width=height, height=height)
        st.markdown(f"<div data-testid='playback-month' data-month='{current}'><b>{month_text(current)}</b> · "
                    f"{what}</div>", unsafe_allow_html=True)
        st.pydeck_chart(deck, height=height, key=f"{key}_deck", alt=t("play_alt", month=month_text(current), what=what))
        if scale is not None:
            map_legend(scale, mode)

    frame()
    st.caption(t("play_note", n=len(months), s=STEP_SECONDS))


# --- the wall (大屏): ?playback=12|24|36 replays the map panel month by month ---

WALL_PARAM = "playback"


def wall_months(raw: str | None) -> int:
    """Months the wall replays from ``?playback=`` (12–36; anything else: 0 = off)."""
    try:
        n = int(raw or 0)
    except ValueError:
        return 0
    return min(max(n, 12), 36) if n > 0 else 0


def wall_playback(months_n: int, viewport: tuple[int, int], last_key: str = "wall_last") -> None:
    """The wall's map panel, stepping one month every STEP_SECONDS in its own fragment (the rest of the wall keeps
    its refresh). The region is the one the wall shows now (its last payload); colours are the warning levels."""
    from ui.theme import WALL_MAP_CANVAS
    from ui.wall import deck, map_canvas_px, map_features
    left, top, _w, _h = WALL_MAP_CANVAS
    st.html(f"<style>.st-key-wall_play {{ position: fixed !important; left: {left + 0.6}vw; top: {top + 0.6}vh; "
            "z-index: 3; width: auto !important; font-size: 2.4vh; font-weight: 800; color: #ffd54f; "
            "background: rgba(11,18,32,0.8); padding: 0.3vh 0.8vw; border-radius: 0.6vh; }</style>")

    @st.fragment(run_every=STEP_SECONDS)
    def step() -> None:
        payload = st.session_state.get(last_key)
        if payload is None or payload.get("bounds") is None:
            return
        version = data.data_version()
        months = _months(version, months_n)
        if not months:
            return
        rules, _error = data.rules()
        scales = month_scales(history(payload["code"], months[-1], len(months), version, data.today()),
                              geo_colors.WARNING, rules)
        i = (st.session_state.get("wall_play_i", -1) + 1) % len(months)
        st.session_state["wall_play_i"] = i
        colors, _scale = scales.get(months[i], ({}, None))
        shapes = data.map_shapes(payload["code"], version)
        fc, labels = map_features(shapes, colors, rules.no_data.color)
        chart = deck({**payload, "features": fc, "labels": labels}, viewport)
        with st.container(key="wall_play"):
            st.markdown(f"<div data-testid='playback-month' data-month='{months[i]}'>{t('play_wall', month=month_text(months[i]))}"
                        "</div>", unsafe_allow_html=True)
        if chart is not None:
            with st.container(key="wall_map"):
                st.pydeck_chart(chart, height=max(200, int(map_canvas_px(viewport)[1])))

    step()
