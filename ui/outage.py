"""Database outages on every page: one short Chinese sentence, no driver text, recovery by itself.

The driver's message names hosts, ports and sometimes the user (``connection to server at "10.0.0.5", port
5432 failed: FATAL: password authentication failed for user "yiping"``): it goes to the server log, never to
the page. The page says "数据库暂时无法连接，正在重试…" and a small fragment probes the database every few
seconds; once it answers, the whole page runs again, as the wall (pages/wall.py) does with its own panels.
"""
from __future__ import annotations

import streamlit as st

from . import data
from .escape import md
from .strings import t

#: Seconds between probes while the database is down.
RETRY_SECONDS = 5


def show(exc: Exception) -> None:
    """Draw ``exc`` (a ui.data.DataError) for people; an outage also starts the retry probe."""
    if isinstance(exc, data.DatabaseDown):
        st.warning(t("db_unavailable"), icon=":material/cloud_off:")
        _retry()
    else:
        st.error(md(exc))


@st.fragment(run_every=RETRY_SECONDS)
def _retry() -> None:
    if st.session_state.get("_db_probe_first", True):  # the first run is the page's own: the probe comes later
        st.session_state["_db_probe_first"] = False
        return
    if data.database_answers():
        st.session_state["_db_probe_first"] = True
        st.rerun(scope="app")
