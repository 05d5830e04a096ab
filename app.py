"""一屏统管 — entry point: page config, first-run database build, navigation, shared filter bar.

Run: ``streamlit run app.py``. The database is DATABASE_URL (default: SQLite under data/).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from data_access.engine import DEFAULT_URL, database_url, safe_url
from ui import auth, data, outage
from ui.filters import current_view, filter_bar
from ui.strings import t
from ui.theme import apply_theme

ICON = Path(__file__).parent / "ui" / "assets" / "favicon.png"  # local: a material icon would load from the internet
st.set_page_config(page_title=t("app_title"), page_icon=str(ICON), layout="wide", initial_sidebar_state="expanded")


def ensure_database() -> bool:
    """Build the sample city on first run of the default SQLite database (with a progress bar)."""
    from sample_data.build import DEFAULTS, build, is_built

    eng = data.engine()
    if data.guarded(is_built, eng):
        return True
    if database_url() != DEFAULT_URL and not st.session_state.get("confirm_build"):
        st.info(t("empty_db", url=safe_url(database_url())))
        if st.button(t("build_button"), type="primary"):
            st.session_state["confirm_build"] = True
            st.rerun()
        return False
    with data.build_lock():
        if is_built(eng):  # another session built it while we waited
            return True
        bar = st.progress(0.0, text=t("building_db", city=DEFAULTS["city"], cases=DEFAULTS["cases"]))
        result = build(eng, progress=lambda f, msg: bar.progress(min(1.0, f), text=msg))
        bar.empty()
        st.cache_data.clear()
        st.success(t("build_done", cases=result.cases, seconds=result.seconds))
    return True


PAGES = [
    st.Page("pages/overview.py", title=t("page_overview"), icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/map.py", title=t("page_map"), icon=":material/map:", url_path="map"),
    st.Page("pages/cases.py", title=t("page_cases"), icon=":material/task_alt:", url_path="cases"),
    st.Page("pages/warnings.py", title=t("page_warnings"), icon=":material/traffic:", url_path="warnings"),
    st.Page("pages/index.py", title=t("page_index"), icon=":material/leaderboard:", url_path="score"),
    st.Page("pages/duban.py", title=t("page_duban"), icon=":material/assignment_turned_in:", url_path="duban"),
    st.Page("pages/data.py", title=t("page_data"), icon=":material/download:", url_path="data"),
    st.Page("pages/import.py", title=t("page_import"), icon=":material/upload_file:", url_path="import"),
    st.Page("pages/wall.py", title=t("page_wall"), icon=":material/tv:", url_path="wall"),
    st.Page("pages/admin.py", title=t("page_admin"), icon=":material/admin_panel_settings:", url_path="admin"),
]


# Sign-in first (ui.auth): the navigation then holds only the pages this role may open, so a direct link to
# another page is refused (Streamlit shows the default page instead), and a wall token (?token=) opens only the
# wall. The open modes (demo database, YIPING_AUTH=off) get their region after the first build, below.
scope = auth.gate()
page = st.navigation([p for p in PAGES if auth.may_open(scope, p.url_path)],
                     position="hidden" if scope.via == "token" else "sidebar")
apply_theme(wall=page.url_path == "wall")
if page.url_path != "wall":
    auth.banner(scope)
    auth.sign_out_button(scope)
try:
    ready = ensure_database()
except Exception as exc:  # noqa: BLE001
    if "wall_last" not in st.session_state:
        if isinstance(exc, data.DataError):
            outage.show(exc)
            st.stop()
        raise
    ready = True  # the wall, with the database down: it keeps drawing its last data (pages/wall.py)
if not ready:
    st.stop()
auth.settle_open_scope(scope)

try:
    if page.url_path == "wall":
        try:
            current_view()
        except data.DataError:
            if "view" not in st.session_state:
                raise
    else:
        filter_bar()
    page.run()
except data.ScopeError as exc:  # outside the user's region: the reason, and nothing else
    st.error(str(exc))
except data.DataError as exc:
    outage.show(exc)  # an outage: one sentence, and the page runs again by itself once the database is back
