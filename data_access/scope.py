"""Who is asking, and which part of the city they may see: the Scope, enforced where data is read.

Every data_access entry point takes a Scope (a View carries it in ``View.scope``; functions that take a region
code take ``scope=``) and narrows the region to it through :func:`check` before any SQL runs. It fails
closed: a Scope without a region, with an unknown role, or no Scope at all (an untrusted process) sees
nothing — the caller gets :class:`OutsideScope` with a Chinese message instead of rows.

A region scope is a code prefix: a township user (331102001000) may read 331102001…, nothing else. The
command-line tools run as the operating-system user who already holds the database; they declare that once
with :func:`trust_process` (the city, role admin) or use ``--user NAME`` for a person's scope.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .codes import code_range, is_code, level_of

ROLES = ("viewer", "exporter", "importer", "admin")
#: What each role may do beyond viewing pages (each role includes the ones before it).
RANK = {role: i for i, role in enumerate(ROLES)}


#: The region of an operator who may read every region in the database (only benchmarks and admins'
#: tooling use it; a person's account names their own city, county or township).
EVERYWHERE = "000000000000"


class OutsideScope(Exception):
    """The request reaches outside the signed-in user's region (or the user has none); str() is for people."""


@dataclass(frozen=True)
class Scope:
    """The signed-in user: name, role (viewer/exporter/importer/admin) and region (12-digit code, None = nothing)."""
    user: str
    role: str
    region: str | None
    #: How the user signed in (local, oidc, token, off, demo, cli): written to the audit log.
    via: str = "local"

    @property
    def valid(self) -> bool:
        return self.role in RANK and self.region is not None and is_code(self.region) and len(self.region) == 12

    def may(self, role: str) -> bool:
        """Whether this scope's role includes ``role`` (exporter includes viewer, admin includes all)."""
        return self.valid and RANK[self.role] >= RANK[role]

    def allows(self, code: str | None) -> bool:
        """Whether ``code`` (a region or grid) lies inside this scope's region."""
        if not self.valid or not code or not is_code(code):
            return False
        if self.region == EVERYWHERE:
            return True
        lo, hi = code_range(self.region)
        return lo <= code < hi

    def narrow(self, code: str) -> str:
        """``code`` itself when allowed, else raise OutsideScope (Chinese message)."""
        if not self.valid:
            raise OutsideScope(no_region_message(self))
        if not self.allows(code):
            raise OutsideScope(f"区划 {code} 不在您的权限范围内（{self.user} 只能查看 {self.region} 及其下级），未显示任何数据。")
        return code

    @property
    def level(self) -> str | None:
        return level_of(self.region) if self.valid else None


def no_region_message(scope: Scope | None) -> str:
    if scope is None:
        return "未登录或没有权限范围，不显示任何数据。"
    if scope.role not in RANK:
        return f"账号 {scope.user} 的角色 {scope.role!r} 无法识别，不显示任何数据。请联系管理员。"
    return f"账号 {scope.user} 没有分配区域，不显示任何数据。请联系管理员。"


#: Nobody: sees nothing (what an unsigned session or an untrusted process gets).
NOBODY = Scope("", "", None, via="none")
_trusted: Scope | None = None


def trust_process(scope: Scope) -> None:
    """Declare this process's own scope (the CLI as the operator, tests): used when no Scope is passed."""
    global _trusted
    _trusted = scope


def default() -> Scope:
    """The scope of a call that brings none: the process's declared scope, else NOBODY (fail closed)."""
    return _trusted if _trusted is not None else NOBODY


def of(scope: Scope | None) -> Scope:
    return scope if scope is not None else default()


def check(code: str, scope: Scope | None) -> str:
    """``code`` narrowed to ``scope`` (or the process default): raises OutsideScope outside it."""
    return of(scope).narrow(code)


def check_view(view):
    """The View, after checking its region against its scope (``view.scope`` or the process default)."""
    check(view.region, getattr(view, "scope", None))
    return view


def keep_allowed(codes, scope: Scope | None) -> list[str]:
    """Only the codes inside the scope (siblings on a map, a crafted list of regions …)."""
    s = of(scope)
    return [c for c in codes if s.allows(c)]


def filter_rows(df: pd.DataFrame, code_column: str, scope: Scope | None) -> tuple[pd.DataFrame, pd.Series]:
    """(rows inside the scope, the Chinese reason for each row outside it, by index) — for imports."""
    s = of(scope)
    codes = df[code_column].astype(str)
    inside = codes.map(s.allows).astype(bool) if len(df) else pd.Series(dtype=bool)
    why = f"不属于导入人 {s.user or '（未登录）'} 的区域 {s.region or '（无）'}"
    return df[inside], pd.Series(why, index=df.index[~inside], dtype=object)


def row_filter(scope: Scope | None, code_column: str = "grid_code"):
    """An import's row filter (data_access.imports' ``row_filter``): the Chinese reason for each row whose
    ``code_column`` lies outside ``scope``, '' for a row inside it — outside rows are quarantined, never written."""
    def reasons(df: pd.DataFrame) -> pd.Series:
        _inside, why = filter_rows(df, code_column, scope)
        return why.reindex(df.index).fillna("").astype(str)
    return reasons
