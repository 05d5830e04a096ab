"""Sign-in in the UI: who this session is (``current_scope``), the sign-in form, sign-out, idle expiry, the
wall's kiosk token, and which pages a role may open.

The Scope lives in session state and is re-checked against the database at the start of every run (a
disabled account or a revoked token stops at once); ``ui.data`` puts it into every query and cache key,
and ``data_access`` refuses anything outside it. Modes come from data_access.authconfig (config/auth.toml,
YIPING_AUTH): local accounts, OIDC through st.login, or open (the demo database, or an explicit ``off``).
"""
from __future__ import annotations

import logging
import time

import streamlit as st

from data_access import audit, authconfig, tokens, users
from data_access.scope import NOBODY, RANK, Scope, no_region_message
from . import data
from .strings import t

log = logging.getLogger(__name__)
SESSION = "auth"          # {"user", "via", "last"} of a signed-in person
SCOPE = "auth_scope"      # the Scope of this run (a person, a token, or the open modes)
TOKEN = "auth_token_id"   # the wall token's id, when the session came in with one
#: The least role each page needs (pages not named here: viewer).
PAGE_ROLE = {"data": "exporter", "import": "importer", "admin": "admin"}
OPEN_MODES = ("off", "demo")


def current_scope() -> Scope:
    """The signed-in user's Scope for this session; NOBODY (sees nothing) when there is none."""
    try:
        scope = st.session_state.get(SCOPE)
    except Exception:  # noqa: BLE001 - outside a script run (no session): nobody
        return NOBODY
    return scope if isinstance(scope, Scope) else NOBODY


def may_open(scope: Scope, url_path: str) -> bool:
    """Whether ``scope`` may open the page at ``url_path`` (a token opens only the wall)."""
    if scope.via == "token":
        return url_path == "wall"
    if scope.via in OPEN_MODES:
        return True
    return scope.may(PAGE_ROLE.get(url_path, "viewer"))


def _engine():
    return data.engine()


@st.cache_resource(show_spinner=False)
def _logged_open_mode(mode: str, source: str) -> bool:
    """Write the open mode to the server log once per process (an ``off`` deployment must be visible)."""
    log.warning("YIPING sign-in is OFF (mode=%s, from %s): everyone who reaches this server sees all data", mode, source)
    return True


def gate() -> Scope:
    """This run's Scope; draws the sign-in form and stops the run when nobody is signed in.

    The open modes return a Scope without a region: :func:`settle_open_scope` gives it the city once the
    database is built (the demo's first run builds it)."""
    try:
        cfg = authconfig.settings()
    except authconfig.ConfigError as exc:
        st.error(t("auth_config_error", error=exc))
        st.stop()
    token = st.query_params.get("token")
    if token:
        return _token_gate(token)
    if cfg.mode in OPEN_MODES:
        _logged_open_mode(cfg.mode, cfg.source)
        st.session_state[SCOPE] = NOBODY
        return Scope("演示用户" if cfg.mode == "demo" else "anonymous", "admin", None, via=cfg.mode)
    if cfg.mode == "oidc":
        from . import oidc
        scope = oidc.gate(cfg)
    else:
        scope = _local_gate(cfg)
    st.session_state[SCOPE] = scope
    if not scope.valid:
        st.error(no_region_message(scope))
        sign_out_button(scope)
        st.stop()
    return scope


def settle_open_scope(scope: Scope) -> None:
    """The open modes see the whole city (as admin): the region, now that the database has one."""
    if scope.via in OPEN_MODES:
        st.session_state[SCOPE] = Scope(scope.user, scope.role, data.city_code(data.data_version()), via=scope.via)


def _token_gate(token: str) -> Scope:
    with _engine().begin() as conn:
        scope, token_id = tokens.scope_for(conn, token)
        if scope is not None and st.session_state.get(TOKEN) != token_id:
            tokens.touch(conn, token_id)
            audit.record(conn, scope.user, "token_use", region=scope.region, details={"token_id": token_id})
    if scope is None:
        st.session_state[SCOPE] = NOBODY
        st.error(t("auth_token_invalid"))
        st.stop()
    st.session_state[TOKEN] = token_id
    st.session_state[SCOPE] = scope
    return scope


def token_still_valid() -> bool:
    """For the wall's refresh: re-check a token session's token (a revoked token stops the wall)."""
    if current_scope().via != "token":
        return True
    with _engine().connect() as conn:
        scope, _id = tokens.scope_for(conn, st.query_params.get("token"))
    if scope is None:
        st.session_state[SCOPE] = NOBODY
        return False
    return True


def _local_gate(cfg) -> Scope:
    sess = st.session_state.get(SESSION)
    if sess:
        now = time.time()
        if now - float(sess.get("last", 0)) > cfg.idle_minutes * 60:
            sign_out(reason="idle")
            st.session_state["auth_notice"] = t("auth_idle", minutes=cfg.idle_minutes)
        else:
            with _engine().connect() as conn:
                scope = users.scope_of(users.get(conn, sess["user"]), via="local")
            if scope is not None:
                sess["last"] = now
                return scope
            sign_out(reason="disabled")
            st.session_state["auth_notice"] = t("auth_account_gone", user=sess["user"])
    sign_in_form(cfg)
    st.stop()


def sign_in_form(cfg) -> None:
    """用户名 / 密码 / 登录. Failures are counted (lock-out) and every attempt is written to the audit log."""
    st.title(t("auth_title"))
    notice = st.session_state.pop("auth_notice", None)
    if notice:
        st.info(notice)
    with st.form("auth_form", clear_on_submit=True, width=420):
        name = st.text_input(t("auth_user"), key="auth_name", max_chars=64)
        password = st.text_input(t("auth_password"), type="password", key="auth_password", max_chars=256)
        submitted = st.form_submit_button(t("auth_submit"), type="primary")
    st.caption(t("auth_help"))
    if not submitted:
        return
    name = (name or "").strip()
    if not name or not password:
        st.error(t("auth_missing"))
        return
    with _engine().begin() as conn:
        result = users.authenticate(conn, name, password, max_failures=cfg.max_failures,
                                    lock_minutes=cfg.lock_minutes)
        audit.record(conn, name, "login" if result.scope else "login_failed",
                     region=result.scope.region if result.scope else None,
                     details={"via": "local"} if result.scope else {"via": "local", "reason": result.reason})
    if result.scope is None:
        st.error(result.reason)
        return
    signed_in(result.scope)


def signed_in(scope: Scope) -> None:
    """Start a session for ``scope`` (a fresh session state: nothing of a previous user stays)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[SESSION] = {"user": scope.user, "via": scope.via, "last": time.time()}
    st.session_state[SCOPE] = scope
    st.rerun()


def sign_out(reason: str = "user") -> None:
    scope = current_scope()
    if scope.user and scope.via in ("local", "oidc"):
        with _engine().begin() as conn:
            audit.record(conn, scope.user, "logout", region=scope.region, details={"reason": reason})
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if scope.via == "oidc" and reason == "user":
        st.logout()


def sign_out_button(scope: Scope) -> None:
    """Who is signed in, and 退出登录 (only when someone signed in)."""
    if scope.via not in ("local", "oidc"):
        return
    with st.sidebar:
        st.caption(t("auth_signed_in_as", user=scope.user, role=t(f"role_{scope.role}") if scope.role in RANK else
                     scope.role, region=scope.region or "—"))
        st.button(t("auth_sign_out"), key="auth_sign_out", on_click=sign_out, icon=":material/logout:")


def banner(scope: Scope) -> None:
    """The open modes say so on every page: 演示模式, or sign-in switched off."""
    if scope.via == "demo":
        st.info(t("auth_demo_banner"), icon=":material/science:")
    elif scope.via == "off":
        st.warning(t("auth_off_banner"), icon=":material/lock_open:")


def require(role: str) -> Scope:
    """A page's own check (besides the navigation): stop with a message unless the role suffices."""
    scope = current_scope()
    if not scope.may(role) or scope.via == "token":
        st.error(t("auth_forbidden", role=scope.role or "—"))
        st.stop()
    return scope
