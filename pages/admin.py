"""账号与审计 (admin only): the audit log with filters and a CSV export, the accounts (disable/enable) and the
wall tokens (revoke). New accounts, passwords and tokens are made from the shell (python -m data_access),
so no password or token ever passes through a web form here."""
import datetime as dt

import streamlit as st

from data_access import audit, tokens, users
from exports.safety import sanitize_frame
from ui import auth, data
from ui.strings import t

who = auth.require("admin")
st.title(t("admin_title"))
eng = data.engine()
tab_audit, tab_users, tab_tokens = st.tabs([t("admin_tab_audit"), t("admin_tab_users"), t("admin_tab_tokens")])

with tab_audit:
    today = dt.date.today()
    c1, c2, c3, c4 = st.columns(4)
    since = c1.date_input(t("admin_since"), today - dt.timedelta(days=30), key="adm_since", format="YYYY-MM-DD")
    until = c2.date_input(t("admin_until"), today, key="adm_until", format="YYYY-MM-DD")
    actor = c3.text_input(t("admin_actor"), key="adm_actor", max_chars=64).strip() or None
    action = c4.selectbox(t("admin_action"), [None, *audit.ACTIONS], key="adm_action",
                          format_func=lambda a: t("admin_any") if a is None else a)
    with eng.connect() as conn:
        log = audit.read(conn, since=since, until=until + dt.timedelta(days=1), actor=actor, action=action)
    st.markdown(t("admin_audit_count", n=len(log)))
    shown = sanitize_frame(log, {})
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "at": st.column_config.DatetimeColumn(t("admin_col_at"), format="YYYY-MM-DD HH:mm:ss"),
        "actor": t("admin_col_actor"), "action": t("admin_col_action"), "region": t("admin_col_region"),
        "details": st.column_config.TextColumn(t("admin_col_details"), width="large")})

    def audit_csv() -> bytes:
        with eng.begin() as conn:
            audit.record(conn, who.user, "export", details={"what": "audit_log", "format": "csv", "rows": len(log),
                                                             "from": str(since), "to": str(until)})
        return shown.to_csv(index=False).encode("utf-8-sig")
    st.download_button(t("admin_audit_export"), audit_csv, file_name=f"审计日志_{since}至{until}.csv", mime="text/csv",
                       on_click="ignore", key="adm_audit_dl", icon=":material/download:")

with tab_users:
    st.caption(t("admin_users_hint"))
    with eng.connect() as conn:
        accounts = users.listing(conn)
    st.dataframe(accounts, hide_index=True, width="stretch")
    if not accounts.empty:
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        name = c1.selectbox(t("admin_pick_user"), accounts["name"].tolist(), key="adm_user")
        for col, label, disabled, action in ((c2, "admin_disable", True, "user_disable"),
                                             (c3, "admin_enable", False, "user_enable")):
            if col.button(t(label), key=f"adm_{action}"):
                with eng.begin() as conn:
                    users.set_disabled(conn, name, disabled)
                    audit.record(conn, who.user, action, details={"user": name})
                st.success(t("admin_user_done", user=name))
                st.rerun()

with tab_tokens:
    st.caption(t("admin_tokens_hint"))
    with eng.connect() as conn:
        issued = tokens.listing(conn)
    st.dataframe(issued, hide_index=True, width="stretch")
    live = issued[issued["revoked_at"].isna()] if not issued.empty else issued
    if not live.empty:
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        token_id = c1.selectbox(t("admin_pick_token"), live["id"].tolist(), key="adm_token",
                                format_func=lambda i: f"{i} · {live.set_index('id').loc[i, 'name']}")
        if c2.button(t("admin_revoke"), key="adm_revoke"):
            with eng.begin() as conn:
                row = tokens.revoke(conn, token_id)
                audit.record(conn, who.user, "token_revoke", region=row["region"], details={"token_id": int(token_id)})
            st.success(t("admin_token_done", id=token_id))
            st.rerun()
