"""Local accounts: argon2 password hashes, roles, regions, lock-out after repeated failures.

The password itself is never stored, logged or passed on argv: only argon2id hashes (argon2-cffi) reach the
database. ``authenticate`` counts failures in a row and locks the account for a while after too many.
Every change is written to the audit log by the caller (CLI, admin page), in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from .codes import is_code
from .schema import users
from .scope import ROLES, Scope

_hasher = PasswordHasher()
#: A hash to verify against when the user does not exist, so both answers take the same time.
_DUMMY = _hasher.hash("not-a-password")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A bad user name, role, region or password; str() is for people."""


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: a Scope, or the Chinese reason."""
    scope: Scope | None
    reason: str = ""


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def check_fields(name: str, role: str, region: str | None) -> None:
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise UserError(f"用户名 {name!r} 无效：1–64 个字符，不含空格。")
    if role not in ROLES:
        raise UserError(f"角色 {role!r} 无效，可选：{'、'.join(ROLES)}。")
    if region is not None and not (is_code(region) and len(region) == 12):
        raise UserError(f"区划代码 {region!r} 无效，应为 12 位数字，如 331102000000。")


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符。")


def add(conn: Connection, name: str, password: str, role: str, region: str | None) -> None:
    check_fields(name, role, region)
    check_password(password)
    if get(conn, name) is not None:
        raise UserError(f"用户 {name} 已存在。")
    now = _now()
    conn.execute(users.insert().values(name=name, password_hash=_hasher.hash(password), role=role, region=region,
                                       disabled=False, failed=0, created_at=now, updated_at=now))


def set_password(conn: Connection, name: str, password: str) -> None:
    check_password(password)
    _require(conn, name)
    conn.execute(update(users).where(users.c.name == name).values(
        password_hash=_hasher.hash(password), failed=0, locked_until=None, updated_at=_now()))


def set_disabled(conn: Connection, name: str, disabled: bool = True) -> None:
    _require(conn, name)
    conn.execute(update(users).where(users.c.name == name).values(disabled=disabled, updated_at=_now()))


def get(conn: Connection, name: str) -> dict | None:
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    return dict(row) if row else None


def _require(conn: Connection, name: str) -> dict:
    row = get(conn, name)
    if row is None:
        raise UserError(f"用户 {name} 不存在。")
    return row


def listing(conn: Connection) -> pd.DataFrame:
    """Every account without its hash: name, role, region, disabled, failed, locked_until, created_at."""
    cols = [users.c.name, users.c.role, users.c.region, users.c.disabled, users.c.failed, users.c.locked_until,
            users.c.created_at]
    rows = conn.execute(select(*cols).order_by(users.c.name)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in cols])


def scope_of(row: dict | None, via: str = "local") -> Scope | None:
    """The Scope of an account row (None when missing or disabled)."""
    if row is None or row["disabled"]:
        return None
    return Scope(row["name"], row["role"], row["region"], via=via)


def authenticate(conn: Connection, name: str, password: str, *, max_failures: int = 5,
                 lock_minutes: int = 15) -> SignIn:
    """Check a password; count failures, lock after ``max_failures`` in a row. The caller commits and audits."""
    row = get(conn, name) if name else None
    now = _now()
    if row is None:
        _verify(_DUMMY, password)
        return SignIn(None, "用户名或密码不正确。")
    if row["locked_until"] is not None and row["locked_until"] > now:
        return SignIn(None, f"连续输错密码次数过多，账号已锁定至 {row['locked_until']:%H:%M}，请稍后再试或联系管理员。")
    if not _verify(row["password_hash"], password):
        failed = int(row["failed"] or 0) + 1
        locked = now + dt.timedelta(minutes=lock_minutes) if failed >= max_failures else None
        conn.execute(update(users).where(users.c.name == name).values(
            failed=0 if locked else failed, locked_until=locked))
        if locked:
            return SignIn(None, f"连续 {failed} 次输错密码，账号已锁定 {lock_minutes} 分钟。")
        return SignIn(None, "用户名或密码不正确。")
    if row["disabled"]:
        return SignIn(None, "该账号已停用，请联系管理员。")
    if row["failed"] or row["locked_until"]:
        conn.execute(update(users).where(users.c.name == name).values(failed=0, locked_until=None))
    if _hasher.check_needs_rehash(row["password_hash"]):
        conn.execute(update(users).where(users.c.name == name).values(password_hash=_hasher.hash(password)))
    return SignIn(scope_of(row))


def _verify(hashed: str | None, password: str) -> bool:
    try:
        return bool(hashed) and _hasher.verify(hashed, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
