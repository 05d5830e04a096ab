"""Wall kiosk tokens: a long random token opens /wall for one region, read-only, and nothing else.

Only the SHA-256 of a token is stored (a token is 256 random bits, so no slow hash is needed); the token is
shown once, when it is made. Revoking sets ``revoked_at``; the wall checks its token on every refresh.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from .codes import is_code
from .schema import tokens
from .scope import Scope


class TokenError(ValueError):
    """A bad region, name or token id; str() is for people."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add(conn: Connection, region: str, name: str, created_by: str) -> tuple[int, str]:
    """(id, token): the token is returned once and never stored."""
    if not (is_code(region) and len(region) == 12):
        raise TokenError(f"区划代码 {region!r} 无效，应为 12 位数字，如 331102000000。")
    if not name or len(name) > 64:
        raise TokenError("令牌名称应为 1–64 个字符。")
    token = secrets.token_urlsafe(32)
    conn.execute(tokens.insert().values(name=name, region=region, token_hash=digest(token), created_by=created_by,
                                        created_at=dt.datetime.now().replace(microsecond=0)))
    token_id = conn.execute(select(tokens.c.id).where(tokens.c.token_hash == digest(token))).scalar_one()
    return int(token_id), token


def revoke(conn: Connection, token_id: int) -> dict:
    row = conn.execute(select(tokens).where(tokens.c.id == int(token_id))).mappings().first()
    if row is None:
        raise TokenError(f"令牌 {token_id} 不存在。")
    if row["revoked_at"] is None:
        conn.execute(update(tokens).where(tokens.c.id == int(token_id)).values(
            revoked_at=dt.datetime.now().replace(microsecond=0)))
    return dict(row)


def listing(conn: Connection) -> pd.DataFrame:
    cols = [tokens.c.id, tokens.c.name, tokens.c.region, tokens.c.created_by, tokens.c.created_at,
            tokens.c.revoked_at, tokens.c.last_used_at]
    rows = conn.execute(select(*cols).order_by(tokens.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in cols])


def scope_for(conn: Connection, token: str | None) -> tuple[Scope | None, int | None]:
    """(a viewer Scope of the token's region, its id), or (None, None) for an unknown or revoked token."""
    if not token or len(token) > 200:
        return None, None
    row = conn.execute(select(tokens).where(tokens.c.token_hash == digest(token))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None, None
    return Scope(f"token:{row['id']}", "viewer", row["region"], via="token"), int(row["id"])


def touch(conn: Connection, token_id: int) -> None:
    conn.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=dt.datetime.now().replace(microsecond=0)))
