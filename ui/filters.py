"""The shared filter bar (sidebar): region by hierarchy, period, categories, sources, statuses.

The View lives in the URL (ui.state) and in session state (the URL is lost on a page switch);
every widget only calls ``set_view``. Widget keys carry the current value, so a change made
elsewhere (a map or bar click) re-initialises them instead of fighting stale widget state.
"""
from __future__ import annotations

import streamlit as st

from data_access.codes import CHILD_LEVEL, level_of
from data_access.view import View
from . import data
from .escape import md
from .state import params_from_view, presets, view_from_params
from .strings import t

STATUSES = ("reported", "dispatched", "closed", "reopened")


VIEW_PARAMS = ("region", "from", "to", "cat", "src", "status")


def set_view(view: View) -> None:
    """Make ``view`` current: session state and URL (page-specific parameters such as ``ind`` stay).

    Call from callbacks, or before st.rerun()."""
    st.session_state["view"] = view
    _write_params(view)


def _write_params(view: View) -> None:
    wanted = params_from_view(view)
    for key in VIEW_PARAMS:
        if key not in wanted and key in st.query_params:
            del st.query_params[key]
    st.query_params.update(wanted)


def current_view() -> View:
    """The View for this run, from the URL (or, after a page switch, the session); shows notes."""
    version = data.data_version()
    root = data.root_code(version)
    params = {k: st.query_params.get(k) for k in VIEW_PARAMS}
    if not params["region"] and "view" in st.session_state:
        view = st.session_state["view"]
        if data.session_scope().allows(view.region):
            _write_params(view)
            return view
        params = {**params, **params_from_view(view)}  # a View outside the user's region: checked below
    known = {"cat": data.distinct_values("category", version), "src": data.distinct_values("source", version),
             "status": STATUSES}
    view, notes = view_from_params(params, root, data.today(), known)
    try:
        data.region(view.region, version)
    except data.DataError as exc:
        fallback = data.region(root, version)["name"]
        outside = isinstance(exc, data.ScopeError)
        notes.append(t("auth_outside" if outside else "unknown_region", code=view.region, fallback=fallback))
        view = view.with_region(root)
    if notes:  # the wall hides Streamlit's alerts: it shows these in its header while the view stays the same
        st.session_state["view_notes"] = (view, notes)
    for note in notes:
        st.toast(md(note), icon=":material/warning:")  # a quoted URL value is text, never Markdown
        st.warning(md(note))
    st.session_state["view"] = view
    if notes:
        _write_params(view)
    return view


def region_picker(view: View) -> None:
    version = data.data_version()
    chain = data.visible_ancestors(view.region)  # from the top of the user's own region
    for depth in range(1, 5):
        parent = chain[depth - 1] if depth - 1 < len(chain) else None
        if parent is None or level_of(parent) not in CHILD_LEVEL:
            break
        kids = data.children(parent, version)
        if kids.empty:
            break
        selected = chain[depth] if depth < len(chain) else None
        codes = [None] + kids["code"].tolist()
        names = {None: t("region_all"), **dict(zip(kids["code"], kids["name"]))}
        child_level = CHILD_LEVEL[level_of(parent)]
        st.selectbox(
            t(f"level_{child_level}"), codes, index=codes.index(selected) if selected in codes else 0,
            format_func=lambda c, n=names: n.get(c, c), key=f"pick_{parent}_{selected}",
            on_change=_on_region, args=(f"pick_{parent}_{selected}", parent),
        )
        if selected is None:
            break


def _on_region(key: str, parent: str) -> None:
    code = st.session_state[key] or parent
    set_view(st.session_state["view"].with_region(code))


def period_picker(view: View) -> None:
    named = presets(data.today())
    current = next((k for k, v in named.items() if v == (view.date_from, view.date_to)), "preset_custom")
    options = list(named) + ["preset_custom"]
    key = f"preset_{view.date_from}_{view.date_to}"
    st.selectbox(t("period_preset"), options, index=options.index(current), format_func=t, key=key,
                 on_change=_on_preset, args=(key,))
    if current == "preset_custom" or st.session_state.get(key) == "preset_custom":
        dkey = f"dates_{view.date_from}_{view.date_to}"
        st.date_input(t("period"), (view.date_from, view.date_to), key=dkey, on_change=_on_dates, args=(dkey,),
                      format="YYYY-MM-DD")


def _on_preset(key: str) -> None:
    choice = st.session_state[key]
    if choice == "preset_custom":
        return
    d0, d1 = presets(data.today())[choice]
    v = st.session_state["view"]
    set_view(View(v.region, d0, d1, v.categories, v.sources, v.statuses))


def _on_dates(key: str) -> None:
    value = st.session_state[key]
    if isinstance(value, (tuple, list)) and len(value) == 2:
        v = st.session_state["view"]
        set_view(View(v.region, value[0], value[1], v.categories, v.sources, v.statuses))


def list_picker(view: View, field: str, options: list[str], label_key: str, fmt=None) -> None:
    current = [v for v in getattr(view, field) if v in options]
    key = f"{field}_{'|'.join(current)}"
    st.multiselect(t(label_key), options, default=current, key=key, placeholder=t("all"),
                   format_func=fmt or (lambda x: x), on_change=_on_list, args=(key, field))


def _on_list(key: str, field: str) -> None:
    v = st.session_state["view"]
    values = tuple(st.session_state[key])
    set_view(View(**{**v.__dict__, field: values}))


def active_view() -> View:
    """The View app.py resolved for this run (pages call this; they never parse the URL)."""
    if "view" not in st.session_state:
        # A deep link (/map, /wall …) as the first request after a server start: Streamlit may run the page
        # as an old-style pages/ page, without app.py (it learns about st.navigation only when app.py has run
        # once). Switch that mode off and run again, through app.py this time.
        from streamlit.runtime.pages_manager import PagesManager
        PagesManager.uses_pages_directory = False
        st.rerun()
    view = st.session_state["view"]
    scope = data.session_scope()
    if not scope.allows(view.region):  # a page run without app.py, with a View outside the user's region
        from data_access.scope import no_region_message
        st.error(t("auth_outside_stop", code=view.region) if scope.valid else no_region_message(scope))
        st.stop()
    return view


def filter_bar() -> View:
    """Draw the sidebar filters and return the current View."""
    view = current_view()
    version = data.data_version()
    with st.sidebar:
        st.subheader(t("filters"))
        region_picker(view)
        period_picker(view)
        list_picker(view, "categories", data.distinct_values("category", version), "categories")
        list_picker(view, "sources", data.distinct_values("source", version), "sources")
        list_picker(view, "statuses", list(STATUSES), "statuses", fmt=lambda s: t(f"status_{s}"))
        st.caption(t("copy_link_hint"))
    return view
