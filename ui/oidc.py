"""OIDC sign-in through Streamlit's own ``st.login`` (Authlib), for a city with an identity provider.

The provider is configured in ``.streamlit/secrets.toml`` under ``[auth]`` (README: worked example). The
user's name, region and role come from ID-token claims whose names are set in config/auth.toml ``[oidc]``;
a claim the provider does not send is looked up in the local users table by user name (an account there
with no password is fine). A user with neither gets no region: nothing is shown (fail closed).
"""
from __future__ import annotations

import time

import streamlit as st

from data_access import audit, users
from data_access.scope import Scope
from . import data
from .strings import t

SESSION = "auth"


def claims() -> dict:
    """The signed-in user's ID-token claims (empty when nobody is signed in)."""
    return st.user.to_dict() if st.user.is_logged_in else {}


def scope_from_claims(found: dict, cfg: dict, row: dict | None) -> Scope | None:
    """The Scope from claims, falling back to the local account ``row`` per missing claim (pure: tested alone)."""
    name = str(found.get(cfg.get("user_claim", "preferred_username")) or found.get("sub") or "").strip()
    if not name:
        return None
    region = found.get(cfg.get("region_claim", "yiping_region"))
    role = found.get(cfg.get("role_claim", "yiping_role"))
    if row is not None and row.get("disabled"):
        return Scope(name, "", None, via="oidc")
    if row is not None:
        region = region or row["region"]
        role = role or row["role"]
    return Scope(name, str(role or ""), str(region) if region else None, via="oidc")


def gate(cfg) -> Scope:
    """Sign in through the provider; returns the Scope (the run stops on the sign-in screen)."""
    if not st.user.is_logged_in:
        st.title(t("auth_title"))
        notice = st.session_state.pop("auth_notice", None)
        if notice:
            st.info(notice)
        if st.button(t("auth_oidc_button"), type="primary", key="auth_oidc"):
            st.login()
        st.stop()
    found = claims()
    oidc_cfg = cfg.oidc
    name = str(found.get(oidc_cfg.get("user_claim", "preferred_username")) or found.get("sub") or "").strip()
    if not name:
        st.error(t("auth_oidc_no_user", claim=oidc_cfg.get("user_claim", "preferred_username")))
        st.stop()
    sess = st.session_state.get(SESSION)
    now = time.time()
    if sess and now - float(sess.get("last", 0)) > cfg.idle_minutes * 60:
        from .auth import sign_out
        sign_out(reason="idle")
        st.logout()
    with data.engine().connect() as conn:
        scope = scope_from_claims(found, oidc_cfg, users.get(conn, name))
    if not sess or sess.get("user") != name:
        with data.engine().begin() as conn:
            audit.record(conn, name, "login", region=scope.region, details={"via": "oidc", "role": scope.role})
        st.session_state[SESSION] = {"user": name, "via": "oidc", "last": now}
    else:
        sess["last"] = now
    return scope
