"""督办 widgets shared by pages: the 问题清单's 督办 column and button (三色预警), the wall's open/overdue
instructions by region (大屏), the KPI card on 总览, and the data calls behind the 督办 page.

Every read goes through data_access.duban with the acting user's region (ui.duban_user.current_actor), so scope
is enforced where the data is read. 督办 tables are small and change by the minute: they are read per rerun,
not cached, and a step does not bump the data version (which would drop every cached view).
"""
from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import streamlit as st

from data_access import duban, duban_states as states
from . import data
from .duban_user import current_actor
from .escape import md
from .strings import t

PREFILL = "duban_prefill"   # what the 督办 page's form starts with (set by 三色预警 / a switch to 督办)
FLASH = "duban_flash"       # a message shown once after a step
SINCE = dt.date(2000, 1, 1)  # "all time" for the live counts
PERIODS = (30, 90, 365, 0)   # the 督办 page's measure periods in days back from today; 0: the filter bar's period


def state_name(state: str) -> str:
    return t(f"db_state_{state}")


def read(fn, *args, **kwargs):
    """``fn(conn, *args, **kwargs)`` on a connection; database trouble becomes ui.data.DataError."""
    def run():
        with data.engine().connect() as conn:
            return fn(conn, *args, **kwargs)
    return data.guarded(run)


def write(fn, *args, **kwargs):
    """``fn(conn, …)`` in one transaction; returns (result, None) or (None, Chinese message)."""
    def run():
        with data.engine().begin() as conn:
            return fn(conn, *args, **kwargs)
    try:
        return data.guarded(run), None
    except duban.DubanError as exc:
        return None, str(exc)
    except data.DataError as exc:
        return None, str(exc)


def status_text(status: str, deadline, now: dt.datetime) -> str:
    """已签收 · 逾期, for a table cell."""
    name = state_name(status)
    if states.is_overdue(status, pd.Timestamp(deadline).to_pydatetime(), now):
        return t("db_state_overdue_suffix", state=name)
    return name


# --- 三色预警: the 问题清单's 督办 state, and a button to issue one ---

def problems_panel(probs: pd.DataFrame, month: int, view) -> None:
    """Below the 问题清单: each problem with its 督办 state; pick one to issue an instruction about it."""
    if probs is None or probs.empty:
        return
    name, region, _role = current_actor()
    now = data.as_of()
    got = read(duban.problem_status, actor_region=region, month=month, region_codes=probs["code"].astype(str))
    key = {(r.region_code, r.indicator): r for r in got.itertuples(index=False)}
    shown = pd.DataFrame({
        "name": probs["name"].to_numpy(), "indicator": probs["indicator_name"].to_numpy(),
        "level": probs["level_name"].to_numpy(),
        "duban": [status_text(key[(c, i)].status, key[(c, i)].deadline, now) if (c, i) in key else t("db_none")
                  for c, i in zip(probs["code"], probs["indicator"])],
        "no": [str(int(key[(c, i)].id)) if (c, i) in key else "" for c, i in zip(probs["code"], probs["indicator"])],
    })
    st.markdown(f"**{t('db_problems_title', n=int((shown['no'] != '').sum()), of=len(shown))}**")
    from .widgets import colored, table_height
    colors = pd.DataFrame({"level": probs["color"].to_numpy()}, index=shown.index)
    cfg = {"name": st.column_config.TextColumn(t("warn_col_region")),
           "indicator": st.column_config.TextColumn(t("warn_col_indicator")),
           "level": st.column_config.TextColumn(t("warn_col_level")),
           "duban": st.column_config.TextColumn(t("db_col_duban")),
           "no": st.column_config.TextColumn(t("db_col_id"), width="small")}
    event = st.dataframe(colored(shown, colors), column_config=cfg, hide_index=True, width="stretch",
                         key=f"db_probs_{view.region}_{month}", on_select="rerun", selection_mode="single-row",
                         height=table_height(len(shown), 12))
    rows = event.selection.rows if event is not None else []
    st.caption(t("db_problems_note", actor=md(name)))
    if rows:
        p = probs.iloc[rows[0]]
        if st.button(t("db_issue_from_problem", name=md(p["name"]), indicator=md(p["indicator_name"])), type="primary",
                     key="db_issue_problem"):
            st.session_state[PREFILL] = {"origin": "warning", "region": str(p["code"]), "indicator": p["indicator"],
                                         "indicator_name": p["indicator_name"], "level": p["level_name"],
                                         "month": int(month), "name": p["name"]}
            st.switch_page("pages/duban.py")


def region_button(code: str) -> None:
    """On the map: 对“<region>”下发督办, for a user who may issue about it (the region inside their own)."""
    from data_access.codes import code_range, level_of
    _name, region, _role = current_actor()
    if not region or level_of(region) not in ("city", "county", "township") or len(code) != 12:
        return
    lo, hi = code_range(region)
    if not lo <= code < hi:
        return
    name = data.region(code, data.data_version())["name"]
    if st.button(t("db_issue_about_region", name=md(name)), key=f"db_region_btn_{code}", icon=":material/send:"):
        st.session_state[PREFILL] = {"origin": "region", "region": code, "name": name}
        st.switch_page("pages/duban.py")


# --- 大屏: open and overdue instructions by region ---

def wall_counts(code: str, at: dt.datetime) -> dict:
    """{"by_child": {code: (open, overdue)}, "open": n, "overdue": n} for the wall's payload."""
    _name, region, _role = current_actor()
    df = read(duban.open_by_child, code, actor_region=region, now=at)
    return {"by_child": {r.code: (int(r.open), int(r.overdue)) for r in df.itertuples(index=False)},
            "open": int(df["open"].sum()) if len(df) else 0, "overdue": int(df["overdue"].sum()) if len(df) else 0}


def wall_title(p: dict) -> str:
    """The ranking panel's corner: 督办 在办 n · 逾期 m (HTML)."""
    d = p.get("duban")
    if not d:
        return ""
    color = "#ff8a80" if d["overdue"] else "#cfe3ff"
    return (f'<span class="wall-duban" style="font-size:1.8vh;font-weight:400;color:{color}" data-testid="wall-duban" '
            f'data-open="{d["open"]}" data-overdue="{d["overdue"]}">'
            f'{html.escape(t("db_wall_total", open=d["open"], overdue=d["overdue"]))}</span>')


def wall_chip(p: dict, code: str) -> str:
    """A chip on a region's ranking row when instructions to units inside it are open (HTML)."""
    d = (p.get("duban") or {}).get("by_child", {}).get(code)
    if not d or not d[0]:
        return ""
    color = "#c62828" if d[1] else "#1565c0"
    return (f'<span style="background:{color}" data-testid="wall-duban-chip">'
            f'{html.escape(t("db_wall_chip", open=d[0], overdue=d[1]) if d[1] else t("db_wall_chip_open", open=d[0]))}'
            "</span>")


# --- 总览: the KPI cards 督办办结率 / 逾期督办 ---

def kpi_cards(view, card_width: int = 160) -> None:
    """督办办结率 and 逾期督办 of the instructions to units inside the view's region, as they stand now.

    Not bound to the view's period: the loop is live (an instruction issued today belongs on the first screen
    even when the filter bar shows last month's cases)."""
    from analytics.duban import totals
    _name, region, _role = current_actor()
    at = data.as_of()
    sums = read(duban.measures, actor_region=region, code=view.region, date_from=SINCE, date_to=at.date(), now=at,
                by="total")
    now_open = read(duban.open_by_child, view.region, actor_region=region, now=at)
    tot = totals(sums)
    rate = tot["duban_closure_rate"]
    row = st.container(horizontal=True, gap="small", key="db_kpi")
    row.metric(t("db_kpi_closure"), "—" if pd.isna(rate) else f"{rate:.1%}", border=True, width=card_width,
               help=t("db_kpi_closure_help", issued=int(tot["issued"]), closed=int(tot["closed"])))
    row.metric(t("db_kpi_overdue"), f"{int(now_open['overdue'].sum()) if len(now_open) else 0}", border=True,
               width=card_width, help=t("db_kpi_overdue_help"))
