"""督办: issue an instruction (from a 问题清单 problem, overdue cases or a region), follow it through
已下发 → 已签收 → 已反馈 → 已办结 / 退回 on one screen, export the list, and watch the loop's own measures.

Draw only: reads and steps go through ui.duban → data_access.duban with the acting user (ui.duban_user)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import duban as loop
from analytics.warnings import RulesError, level_color
from data_access import duban, duban_states as states
from data_access.codes import ancestors, code_range, level_of
from exports.duban import export_listing
from ui import data
from ui.duban import FLASH, PERIODS, PREFILL, read, state_name, status_text, write
from ui.duban_user import current_actor, demo_picker
from ui.filters import active_view
from ui.escape import md
from ui.strings import t
from ui.widgets import colored, table_height

BOX_KEY, PICK_KEY = "db_box", "db_picked"


def within(code: str, region: str) -> bool:
    lo, hi = code_range(region)
    return lo <= code < hi


def flash() -> None:
    msg = st.session_state.pop(FLASH, None)
    if msg:
        st.success(md(msg))


def done(result, error, message: str) -> None:
    if error:
        st.error(md(error))
        return
    st.session_state[FLASH] = message.format(id=result) if "{id}" in message else message
    st.rerun()


# --- issuing ---

def unit_options(actor_region: str, about: str, version: int) -> tuple[list[str], dict[str, str], int]:
    """Units the actor may instruct: its children (责任清单) and the concerned region's chain below them."""
    kids = data.duty_list(actor_region, version)
    names = {r.code: f"{r.duty_unit or r.name}（{r.duty_person or '—'}）" for r in kids.itertuples(index=False)}
    chain = [c for c in ancestors(about) if within(c, actor_region) and c != actor_region and len(c) == 12]
    for c in chain:
        if c not in names:
            r = data.region(c, version)
            names[c] = f"{r.get('duty_unit') or r['name']}（{r.get('duty_person') or '—'}）"
    codes = list(names)
    return codes, names, codes.index(chain[0]) if chain else 0


def issue_form(view, actor: str, actor_region: str, version: int) -> None:
    pre = st.session_state.get(PREFILL)
    with st.expander(t("db_issue_section"), expanded=bool(pre), icon=":material/send:"):
        first = pre.get("origin") if pre else None  # warning (三色预警) or region (the map)
        origins = (["warning"] if first == "warning" else []) + (["region", "case"] if first == "region" else
                                                                 ["case", "region"])
        origin = st.radio(t("db_origin"), origins, format_func=lambda o: t(f"db_origin_{o}"), horizontal=True,
                          key=f"db_origin_{first}")
        if pre and st.button(t("db_clear_prefill"), key="db_clear_prefill"):
            st.session_state.pop(PREFILL, None)
            st.rerun()
        about, indicator, month, level, case_ids, default_title = None, None, None, None, [], ""
        if origin == "warning":
            about, indicator, month, level = pre["region"], pre["indicator"], pre["month"], pre["level"]
            st.info(t("db_from_problem", name=md(pre["name"]), indicator=md(pre["indicator_name"]), level=level,
                      y=month // 100, m=month % 100))
            default_title = t("db_title_warning", name=pre["name"], indicator=pre["indicator_name"], level=level)
        elif origin == "case":
            cases = data.overdue_list(view, data.as_of(), version, 50)
            if cases.empty:
                st.info(t("db_no_overdue"))
                return
            labels = {r.id: t("db_case_label", id=r.id, category=r.category, place=f"{r.township}{r.village}",
                              days=r.days_overdue) for r in cases.itertuples(index=False)}
            case_ids = st.multiselect(t("db_cases"), list(labels), format_func=labels.get, key="db_cases",
                                      placeholder=t("db_pick_cases"))
            if not case_ids:
                st.caption(t("db_pick_cases"))
                return
            grids = cases.set_index("id").loc[case_ids, "grid_code"]
            about = duban.common_region(grids)
            default_title = t("db_title_case", n=len(case_ids), place=data.region(about, version)["name"])
        else:
            base = pre["region"] if first == "region" else view.region
            kids = data.children(base, version)
            options = [c for c in [base, *kids["code"]] if within(c, actor_region) and len(c) == 12]
            if not options:
                st.info(t("db_region_outside"))
                return
            names = {base: data.region(base, version)["name"], **dict(zip(kids["code"], kids["name"]))}
            about = st.selectbox(t("db_region"), options, format_func=names.get, key=f"db_region_{base}",
                                 help=t("db_region_help"))
            default_title = t("db_title_region", name=names[about])
        if about is None or not within(about, actor_region):
            st.warning(t("db_region_outside"))
            return
        codes, names, index = unit_options(actor_region, about, version)
        if not codes:
            st.info(t("db_no_units"))
            return
        with st.form(key=f"db_issue_{origin}_{about}"):
            unit = st.selectbox(t("db_unit"), codes, index=index, format_func=names.get, help=t("db_unit_help"))
            title = st.text_input(t("db_title_field"), value=default_title, max_chars=duban.MAX_TITLE)
            body = st.text_area(t("db_body"), placeholder=t("db_body_hint"))
            deadline = st.date_input(t("db_deadline"), value=data.today() + dt.timedelta(days=7),
                                     min_value=data.today())
            sent = st.form_submit_button(t("db_issue_button"), type="primary")
        if sent:
            result, error = write(duban.create, actor=actor, actor_region=actor_region, region_code=about,
                                  unit_code=unit, title=title, body=body,
                                  deadline=dt.datetime.combine(deadline, dt.time(23, 59)), origin=origin,
                                  indicator=indicator, month=month, level_name=level, case_ids=case_ids)
            if not error:
                st.session_state.pop(PREFILL, None)
                st.session_state[PICK_KEY] = result
            done(result, error, t("db_issued", unit=names[unit]))


# --- the list ---

def listing(view, actor_region: str, at: dt.datetime) -> pd.DataFrame:
    boxes = list(duban.BOXES)
    cols = st.columns([3, 3, 2, 3])
    box = cols[0].selectbox(t("db_box"), boxes, format_func=lambda b: t(f"db_box_{b}"), key=BOX_KEY)
    picked = cols[1].multiselect(t("db_statuses"), list(states.STATES), format_func=state_name, key="db_statuses",
                                placeholder=t("db_all_states"))
    overdue = cols[2].checkbox(t("db_overdue_only"), key="db_overdue")
    words = cols[3].text_input(t("db_search"), key="db_words")
    inside = st.toggle(t("db_in_view", name=data.region(view.region, data.data_version())["name"]), value=False,
                       key="db_in_view")
    return read(duban.listing, actor_region=actor_region, now=at, box=box, statuses=picked, overdue_only=overdue,
                words=words, region=view.region if inside else None)


def list_table(df: pd.DataFrame, at: dt.datetime) -> int | None:
    st.subheader(t("db_list_title", n=len(df)))
    if df.empty:
        st.info(t("db_list_empty"))
        return None
    shown = pd.DataFrame({
        "id": df["id"].astype(int), "state": [status_text(s, d, at) for s, d in zip(df["status"], df["deadline"])],
        "title": df["title"], "region": df["region_name"], "unit": df["unit_name"],
        "deadline": pd.to_datetime(df["deadline"]).dt.strftime("%Y-%m-%d %H:%M"), "author": df["author"],
    })
    colors = pd.DataFrame({"state": ["#c62828" if o else None for o in df["overdue"]]}, index=shown.index)
    cfg = {"id": st.column_config.NumberColumn(t("db_col_id"), format="%d", width="small"),
           "state": st.column_config.TextColumn(t("db_col_state"), width="small"),
           "title": st.column_config.TextColumn(t("db_x_title")),
           "region": st.column_config.TextColumn(t("db_x_region_name")),
           "unit": st.column_config.TextColumn(t("db_x_unit_name")),
           "deadline": st.column_config.TextColumn(t("db_x_deadline")),
           "author": st.column_config.TextColumn(t("db_x_author"))}
    event = st.dataframe(colored(shown, colors), column_config=cfg, hide_index=True, width="stretch", key="db_list",
                         on_select="rerun", selection_mode="single-row", height=table_height(len(shown), 15))
    rows = event.selection.rows if event is not None else []
    if rows:
        st.session_state[PICK_KEY] = int(shown["id"].iloc[rows[0]])
    picked = st.session_state.get(PICK_KEY)
    return picked if picked in set(shown["id"]) else None


def export_button(df: pd.DataFrame, actor: str, actor_region: str, role: str, at: dt.datetime) -> None:
    if df.empty or role not in ("exporter", "admin"):
        return
    meta = [(t("db_x_meta_actor"), actor), (t("db_x_meta_box"), t(f"db_box_{st.session_state.get(BOX_KEY, 'all')}")),
            (t("export_meta_exported_at"), at.strftime("%Y-%m-%d %H:%M"))]
    eng = data.engine()

    def logged() -> bytes:
        """Built on click (outside the script thread: the engine, no Streamlit caches), and put on record."""
        import io
        buf = io.BytesIO()
        rows = export_listing(df, buf, meta=meta, now=at)
        with eng.begin() as conn:
            duban.log_export(conn, actor=actor, actor_region=actor_region, rows=rows)
        return buf.getvalue()
    st.download_button(t("db_export"), data=logged, file_name=t("db_x_file", date=at.strftime("%Y-%m-%d")),
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="db_export",
                       icon=":material/download:")


# --- one instruction ---

def detail(picked: int, actor: str, actor_region: str, at: dt.datetime) -> None:
    row = read(duban.get, picked, actor_region)
    side = duban.side_of(row, actor_region)
    st.subheader(t("db_detail_title", id=row["id"], title=md(row["title"])))
    st.markdown(t("db_detail_facts", state=status_text(row["status"], row["deadline"], at), unit=md(row["unit_name"]),
                  person=row["unit_person"] or "—", author=row["author"],
                  deadline=pd.Timestamp(row["deadline"]).strftime("%Y-%m-%d %H:%M"),
                  origin=t(f"db_origin_{row['origin']}"), returns=row["returns"]))
    if row["body"]:
        st.markdown(f"> {md(row['body'])}")
    trail = read(duban.events, picked, actor_region)
    shown = pd.DataFrame({
        "at": pd.to_datetime(trail["at"]).dt.strftime("%Y-%m-%d %H:%M"), "actor": trail["actor"],
        "action": [t(f"db_action_{a}") for a in trail["action"]],
        "to": [state_name(s) for s in trail["to_state"]], "text": trail["text"].fillna(""),
    })
    cfg = {"at": st.column_config.TextColumn(t("db_ev_at"), width="small"),
           "actor": st.column_config.TextColumn(t("db_ev_actor")),
           "action": st.column_config.TextColumn(t("db_ev_action"), width="small"),
           "to": st.column_config.TextColumn(t("db_ev_to"), width="small"),
           "text": st.column_config.TextColumn(t("db_ev_text"))}
    st.markdown(f"**{t('db_trail')}**")
    st.dataframe(shown, column_config=cfg, hide_index=True, width="stretch", key=f"db_trail_{picked}",
                 height=table_height(len(shown), 10))
    files = read(duban.attachments, picked, actor_region)
    for f in files.itertuples(index=False):
        st.download_button(t("db_file", name=f.name, kb=max(1, f.size // 1024)),
                           data=lambda fid=int(f.id): read(duban.attachment, fid, actor_region)[1],
                           file_name=f.name, key=f"db_file_{f.id}", icon=":material/attach_file:")
    actions(row, side, actor, actor_region)


def actions(row: dict, side: str | None, actor: str, actor_region: str) -> None:
    i = int(row["id"])
    if side is None:
        st.caption(t("db_view_only"))
        return
    allowed = states.allowed(row["status"], side)
    if not allowed:
        st.caption(t("db_nothing_to_do", state=state_name(row["status"])))
        return
    if states.SIGN in allowed and st.button(t("db_do_sign"), type="primary", key=f"db_sign_{i}"):
        done(*write(duban.act, i, states.SIGN, actor=actor, actor_region=actor_region), t("db_done_sign"))
    if states.FEEDBACK in allowed:
        with st.form(key=f"db_feedback_{i}_{row['status']}"):
            words = st.text_area(t("db_feedback"), placeholder=t("db_feedback_hint"))
            uploads = st.file_uploader(t("db_files", mb=duban.MAX_FILE_BYTES // 1048576, n=duban.MAX_FILES),
                                       accept_multiple_files=True)
            if st.form_submit_button(t("db_do_feedback"), type="primary"):
                files = [(u.name, u.getvalue()) for u in uploads or []]
                done(*write(duban.act, i, states.FEEDBACK, actor=actor, actor_region=actor_region, text_=words,
                            files=files), t("db_done_feedback"))
    if states.ACCEPT in allowed:
        st.info(t("db_feedback_was", text=md(row["feedback"] or "")))
        cols = st.columns(2)
        if cols[0].button(t("db_do_accept"), type="primary", key=f"db_accept_{i}"):
            done(*write(duban.act, i, states.ACCEPT, actor=actor, actor_region=actor_region), t("db_done_accept"))
        with cols[1].form(key=f"db_return_{i}"):
            reason = st.text_input(t("db_return_reason"))
            if st.form_submit_button(t("db_do_return")):
                done(*write(duban.act, i, states.RETURN, actor=actor, actor_region=actor_region, text_=reason),
                     t("db_done_return"))


# --- the loop's own measures ---

def measure_period(view, at: dt.datetime) -> tuple[dt.date, dt.date]:
    """The measures' period: the last 30 / 90 / 365 days, or the filter bar's period."""
    days = st.selectbox(t("db_period"), list(PERIODS), index=1, key="db_period",
                        format_func=lambda d: t("db_period_days", n=d) if d else t("db_period_view"))
    if not days:
        return view.date_from, view.date_to
    return at.date() - dt.timedelta(days=days - 1), at.date()


def measures(view, actor_region: str, at: dt.datetime) -> None:
    start, end = measure_period(view, at)
    st.subheader(t("db_measures", start=start, end=end, name=md(data.region(view.region, data.data_version())["name"])))
    base, _error = data.rules()
    try:
        rules = loop.load_rules(base)
    except RulesError as exc:
        st.warning(t("db_rules_error", error=exc))
        rules = None
    cols = st.columns(2)
    for col, by in zip(cols, ("unit", "region")):
        sums = read(duban.measures, actor_region=actor_region, code=view.region, date_from=start, date_to=end,
                    now=at, by=by)
        with col:
            st.markdown(f"**{t(f'db_measures_by_{by}')}**")
            if sums.empty:
                st.caption(t("db_measures_empty"))
                continue
            ev = loop.evaluated(sums, rules)
            shown = pd.DataFrame({"name": ev["name"], "issued": ev["issued"].astype(int),
                                  **{k: [fmt_measure(k, v) for v in ev[k]] for k in loop.INDICATORS}})
            colors = pd.DataFrame({k: [level_color(rules, v) if rules else None
                                       for v in ev.get(f"level_{k}", [None] * len(ev))] for k in loop.INDICATORS},
                                  index=shown.index)
            names = {i.key: i.name for i in rules.indicators} if rules else {}
            cfg = {"name": st.column_config.TextColumn(t("db_m_name")),
                   "issued": st.column_config.NumberColumn(t("db_m_issued"), format="%d"),
                   **{k: st.column_config.TextColumn(names.get(k, loop.INDICATORS[k])) for k in loop.INDICATORS}}
            st.dataframe(colored(shown, colors), column_config=cfg, hide_index=True, width="stretch",
                         key=f"db_m_{by}", height=table_height(len(shown), 12))
    st.caption(t("db_measures_note", path=rules.source if rules else loop.rules_path()))


def fmt_measure(key: str, v) -> str:
    if v is None or pd.isna(v):
        return "—"
    if key in loop.RATES:
        return f"{v:.1%}"
    if key == "avg_close_days":
        return t("db_days", v=f"{v:.1f}")
    return f"{int(v)}"


# --- the page ---

view = active_view()
version = data.data_version()
at = data.as_of()
demo_picker()
actor, actor_region, role = current_actor()
st.title(t("db_title"))
if not actor_region:
    st.warning(t("db_no_scope"))
    st.stop()
me = data.region(actor_region, version)
st.caption(t("db_actor", name=md(actor), region=md(me["name"])))
flash()
if level_of(actor_region) in ("city", "county", "township"):  # a village has no units below it in the 责任清单
    issue_form(view, actor, actor_region, version)
frame = listing(view, actor_region, at)
picked = list_table(frame, at)
export_button(frame, actor, actor_region, role, at)
if picked is not None:
    detail(picked, actor, actor_region, at)
measures(view, actor_region, at)
