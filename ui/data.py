"""The pages' only door to the data: cached calls into data_access, keyed by View and data version.

Caching: results are cached per (View, as-of minute, data version); any write bumps the data
version (data_access.meta), so imports invalidate every cached view at once. Errors become
``DataError`` with a Chinese message that pages show instead of a traceback.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading

import pandas as pd
import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from data_access import audit, meta, migrate, queries
from data_access.scope import OutsideScope, Scope, no_region_message
from data_access.engine import DatabaseUnavailable, check, database_url, get_engine
from data_access.view import View
from .memo import Memo


log = logging.getLogger(__name__)


class DataError(RuntimeError):
    """Something between the page and the database failed; str() is for people."""


class ScopeError(DataError):
    """The request reaches outside the signed-in user's region (data_access.scope.OutsideScope)."""


def session_scope() -> Scope:
    """The signed-in user's Scope (ui.auth.current_scope)."""
    from .auth import current_scope
    return current_scope()


def scoped(fn):
    """Run ``fn`` (a cached function) with the session's Scope: put into its View (first argument, or the View
    of a CaseQuery) and passed as ``scope=`` when ``fn`` takes one. The Scope is part of the arguments, so
    it is part of every cache key: two users never share a result."""
    import inspect
    takes_scope = "scope" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def wrapper(first, *args, **kwargs):
        s = session_scope()
        if isinstance(first, View):
            first = first.with_scope(s)
        elif isinstance(getattr(first, "view", None), View):
            first = dataclasses.replace(first, view=first.view.with_scope(s))
        if takes_scope:
            kwargs["scope"] = s
        return fn(first, *args, **kwargs)
    wrapper.clear = getattr(fn, "clear", None)
    return wrapper
class DatabaseDown(DataError):
    """The database does not answer (down, unreachable, refusing): pages say so in one sentence and retry
    (ui.outage). The driver's text, which names hosts and users, goes to the server log only."""

    def __init__(self) -> None:
        from .strings import t
        super().__init__(t("db_unavailable"))


@st.cache_resource(show_spinner=False)
def engine():
    """The engine, with migrations applied once per process (a failure is a DataError, and is not cached)."""
    def connect():
        eng = get_engine()
        check(eng)
        migrate.upgrade(eng)
        return eng
    return guarded(connect)


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    return threading.Lock()


def guarded(fn, *args):
    """Run ``fn``; database trouble becomes a DataError with a Chinese message and no driver text
    (DatabaseDown when the database does not answer; the details go to the server log)."""
    try:
        return fn(*args)
    except OutsideScope as exc:
        raise ScopeError(str(exc)) from exc
    except queries.UnknownRegion as exc:
        raise DataError(str(exc)) from exc
    except (DatabaseUnavailable, OperationalError, InterfaceError) as exc:
        log.warning("database unavailable: %s", exc)
        raise DatabaseDown() from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            log.warning("database connection lost: %s", exc)
            raise DatabaseDown() from exc
        log.exception("database query failed")
        raise DataError(_t("db_query_failed")) from exc
    except SQLAlchemyError as exc:
        log.exception("database query failed")
        raise DataError(_t("db_query_failed")) from exc


def _t(key: str) -> str:
    from .strings import t
    return t(key)


def database_answers() -> bool:
    """True when the database answers a SELECT 1 now (the outage probe; never raises)."""
    from sqlalchemy import text
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def _conn_call(fn, *args):
    def run():
        with engine().connect() as conn:
            return fn(conn, *args)
    return guarded(run)


@st.cache_data(ttl=5, show_spinner=False)
def data_version() -> int:
    return _conn_call(meta.version)


def as_of() -> dt.datetime:
    """The as-of time for overdue counts: now, to the minute (so cached results live a minute)."""
    return dt.datetime.now().replace(second=0, microsecond=0)


def today() -> dt.date:
    return as_of().date()


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def db_meta(_version: int) -> dict:
    return _conn_call(meta.read)


@scoped
@st.cache_data(ttl=3600, max_entries=2048, show_spinner=False)
def region(code: str, _version: int | None = None, scope: Scope | None = None) -> dict:
    return _conn_call(queries.region, code, scope)


@scoped
@st.cache_data(ttl=3600, max_entries=2048, show_spinner=False)
def children(code: str, _version: int | None = None, scope: Scope | None = None) -> pd.DataFrame:
    return _conn_call(queries.children, code, scope)


@st.cache_data(ttl=3600, show_spinner=False)
def city_code(_version: int | None = None) -> str:
    """The database's top region (the city), whoever asks: the open modes' scope."""
    return _conn_call(queries.root_code)


def root_code(_version: int | None = None) -> str:
    """The top of this user's navigation: their own region (a township user's 总览 starts at the township)."""
    s = session_scope()
    if not s.valid:
        raise ScopeError(no_region_message(s))
    return s.region


def visible_ancestors(code: str) -> list[str]:
    """The breadcrumb of ``code`` from the top of this user's region down (nothing above it is named)."""
    from data_access.codes import ancestors
    s = session_scope()
    return [c for c in ancestors(code) if s.allows(c)]


@scoped
@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def indicator_table(view: View, at: dt.datetime, version: int) -> pd.DataFrame:
    return _conn_call(queries.indicator_table, view, at)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def open_overdue(view: View, at: dt.datetime, version: int) -> dict[str, int]:
    return _conn_call(queries.open_overdue, view, at)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def monthly(view: View, at: dt.datetime, version: int) -> pd.DataFrame:
    return _conn_call(queries.monthly, view, at)


@st.cache_data(ttl=3600, show_spinner=False)
def distinct_values(column: str, version: int) -> list[str]:
    return _conn_call(queries.distinct_values, column)


# --- warning rules (shared by every page that shows a colour) ---
def rules_path():
    """config/warning_rules.toml, or WARNING_RULES."""
    import os
    from pathlib import Path
    return Path(os.environ.get("WARNING_RULES") or Path(__file__).resolve().parent.parent / "config" / "warning_rules.toml")


@st.cache_resource(show_spinner=False)
def _rules_store(path: str):
    from analytics.warnings import RulesStore
    return RulesStore(path)


def rules():
    """(rules, error or None): re-read when the file changes; a broken file keeps the last good rules."""
    return _rules_store(str(rules_path())).get()


#: evaluated tables and map decks, shared by every session of this process (ui/memo.py)
EVALUATED = Memo(max_entries=512, ttl=600)


def evaluated(view: View, at: dt.datetime, version: int) -> pd.DataFrame:
    """indicator_table for the view with warning levels and colours per indicator and overall.

    Memoised per (database, view, minute, data version, rules): every rerun of the view and every session gets the
    same frame (read-only), instead of a copy of the table evaluated again (4–15 ms a run)."""
    current, _error = rules()
    key = (database_url(), view.with_scope(session_scope()), at, version, id(current))  # never across users
    return EVALUATED.get(key, lambda: _judge(view, at, version, current), pin=current)


def _judge(view: View, at: dt.datetime, version: int, current) -> pd.DataFrame:
    """The view's table judged by ``current``, with the trailing window where cases are few (data_access.judged)."""
    from analytics.warnings import evaluate
    from data_access.judged import window_for
    table = indicator_table(view, at, version)
    window = window_for(view, table, current)
    return evaluate(table, current, None if window is None else indicator_table(window, at, version))


#: what pages draw from a view's data (plotly figures, styled tables), shared by every session of this process
DRAWN = Memo(max_entries=512, ttl=600)


def drawn(what: str, view: View, at: dt.datetime, version: int, make, *parts, rules_used=None):
    """``make()`` once per (database, view *with this user's scope*, minute, data version, rules, ``what``,
    ``parts``): 事件办结's charts and 三色预警's coloured tables are built once per view and shared read-only by every
    rerun and session, like the evaluated table. The scope is in the key, so one user's drawing (region names and
    figures) is never handed to another; ``make`` reads through the scoped calls here, so outside the scope it
    raises ScopeError as they do. ``parts``: whatever else the drawing depends on (a widget's choice);
    ``rules_used``: the rules ``make`` colours with, when the caller holds them (else the current rules)."""
    current = rules_used if rules_used is not None else rules()[0]
    key = (database_url(), view.with_scope(session_scope()), at, version, id(current), what, *parts)
    return DRAWN.get(key, make, pin=current)


def show_rules_error() -> None:
    """A visible warning when the rules file is broken (the last good rules stay in force)."""
    current, error = rules()
    if error:
        from analytics.warnings import DEFAULT_RULES
        from .strings import t
        from .escape import md
        st.warning(t("rules_error_default" if current is DEFAULT_RULES else "rules_error", error=md(error)))


# --- wall data (大屏): small, bounded caches; the wall refreshes them every minute for days ---
@scoped
@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def latest_cases(code: str, until: dt.date, version: int, n: int = 12, scope: Scope | None = None) -> pd.DataFrame:
    from data_access import wall
    return _conn_call(wall.latest_cases, code, until, n, 31, scope)


# --- import ---
def imports_dir():
    """Where uploaded files and their quarantine files are kept: YIPING_IMPORT_DIR, default data/imports/."""
    import os
    from pathlib import Path
    from data_access.engine import PROJECT_DIR
    folder = Path(os.environ.get("YIPING_IMPORT_DIR") or PROJECT_DIR / "data" / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- map data ---
def _geo_call(fn, *args):
    from shapely.errors import ShapelyError

    from geo.boundaries import ShapeError
    try:
        return _conn_call(fn, *args)
    except (ShapeError, ShapelyError, ValueError) as exc:  # unreadable geometry (shapely/GEOS)
        raise DataError(str(exc) if isinstance(exc, ShapeError) else f"边界数据无法读取：{exc}") from exc


@scoped
@st.cache_resource(ttl=3600, max_entries=256, show_spinner=False)
def map_shapes(code: str, version: int, scope: Scope | None = None):
    """geo.boundaries.ViewShapes around ``code``: children, siblings, outline, simplified for its zoom.

    A resource, not data: every rerun gets the same object instead of an unpickled copy (rebuilding the
    GeoDataFrames was a tenth of a map rerun under load). Callers only read it."""
    from geo.boundaries import view_shapes
    return _geo_call(view_shapes, code, scope)


@scoped
@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def map_points(view: View, at: dt.datetime, version: int):
    """data_access.points.CasePoints of the view (capped, newest first)."""
    from data_access import points
    return _conn_call(points.case_points, view, at)


# --- cases/warnings data ---
@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def _by_dimensions(view: View, at: dt.datetime, version: int) -> dict[str, pd.DataFrame]:
    from data_access import breakdowns
    return _conn_call(breakdowns.by_dimensions, view, at)


def by_dimension(view: View, column: str, at: dt.datetime, version: int) -> pd.DataFrame:
    """Every indicator per category or source of the view (both come from one cached query)."""
    return _by_dimensions(view, at, version)[column]


@scoped
@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def weekly(view: View, at: dt.datetime, version: int) -> pd.DataFrame:
    from data_access import breakdowns
    return _conn_call(breakdowns.weekly, view, at)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def resolution_levels(view: View, version: int) -> pd.DataFrame:
    from data_access import breakdowns
    return _conn_call(breakdowns.resolution_levels, view)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def ageing(view: View, at: dt.datetime, version: int) -> pd.DataFrame:
    from data_access import breakdowns
    return _conn_call(breakdowns.ageing, view, at)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def overdue_list(view: View, at: dt.datetime, version: int, limit: int = 20) -> pd.DataFrame:
    """The oldest overdue cases; 承办单位 is free text, so numbers and names in it are masked."""
    from data_access import breakdowns
    from exports.safety import sanitize_frame
    return sanitize_frame(_conn_call(breakdowns.overdue_list, view, at, limit), {"handling_unit": "text"})


@st.cache_data(ttl=3600, show_spinner=False)
def month_span(version: int) -> tuple[int, int] | None:
    from data_access import breakdowns
    return _conn_call(breakdowns.month_span)


@scoped
@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def warning_history(code: str, month: int, at: dt.datetime, version: int, today: dt.date,
                    scope: Scope | None = None) -> pd.DataFrame:
    """Indicators per (child, month) for the 12 months ending with ``month`` (one grouped query)."""
    from data_access import breakdowns
    return _conn_call(breakdowns.warning_history, code, month, at, 12, today, scope)


def history_evaluated(code: str, month: int, at: dt.datetime, version: int, today: dt.date) -> pd.DataFrame:
    """warning_history with warning levels (evaluated on every run, so rule edits show at once)."""
    from analytics.warnings import evaluate
    current, _error = rules()
    return evaluate(warning_history(code, month, at, version, today), current)


@scoped
@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def duty_list(code: str, version: int, scope: Scope | None = None) -> pd.DataFrame:
    """责任清单 data of the children of ``code``, phones already masked (138****1234)."""
    from data_access import breakdowns
    from exports.safety import mask_phone
    df = _conn_call(breakdowns.duty_list, code, scope)
    return df.assign(duty_phone=df["duty_phone"].map(mask_phone))


# --- query/export data ---
def case_query(view: View, at: dt.datetime, version: int, overdue_only: bool = False, text: str = "",
               warning: str | None = None):
    """The data page's CaseQuery. ``warning`` (a level name such as 红) keeps the child regions whose overall
    warning level it is, judged by the current rules over the same view. Bad input raises DataError."""
    from data_access.case_list import BadFilter, CaseQuery
    from exports.tables import children_with_level
    view = view.with_scope(session_scope())
    regions = None
    if warning:
        current, _error = rules()
        regions = children_with_level(evaluated(view, at, version), current, warning)
    try:
        return CaseQuery(view, at, overdue_only=overdue_only, text=text.strip(), regions=regions)
    except BadFilter as exc:
        raise DataError(str(exc)) from exc


@scoped
@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def case_count(q, version: int) -> int:
    from data_access import case_list
    return _conn_call(case_list.count, q)


def case_table(q, offset: int, limit: int, unmask: bool, version: int) -> pd.DataFrame:
    """One page of the case list; showing it unmasked is on record (once per query and page)."""
    if unmask:
        who = session_scope()
        if not (can_unmask()):
            unmask = False
        else:
            key = ("audit_unmask", q, offset)
            if st.session_state.get("audit_unmask_last") != key:
                st.session_state["audit_unmask_last"] = key
                with engine().begin() as conn:
                    audit.record(conn, who.user, "unmask", region=q.view.region,
                                 details=audit.view_details(q.view, page_offset=offset, rows=limit))
    return _case_table(q, offset, limit, unmask, version)


@scoped
@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def _case_table(q, offset: int, limit: int, unmask: bool, version: int) -> pd.DataFrame:
    """One page of the case list (paged in the database), readable and masked unless ``unmask``."""
    from data_access import case_list
    from exports.tables import safe_cases
    return safe_cases(_conn_call(case_list.page, q, offset, limit), unmask=unmask)


def can_unmask() -> bool:
    """Whether this installation offers 显示完整个人信息 (env YIPING_ALLOW_UNMASK=1)."""
    from exports.tables import allow_unmask
    return allow_unmask() and session_scope().may("admin")


def _to_bytes(write) -> bytes:
    """Run ``write(file)`` into a temp file and return its bytes (the writer itself streams)."""
    import tempfile
    with tempfile.TemporaryFile(prefix="yiping-export-") as f:
        write(f)
        f.seek(0)
        return f.read()


def case_export(q, fmt: str, unmask: bool, region_name: str, warning: str | None = None):
    """A callable for st.download_button(data=...): streams the selected cases into a file only on click.

    It runs outside the script thread, so it uses the engine directly, never Streamlit caches.
    """
    from exports.tables import export_cases
    eng = engine()
    who = session_scope()  # taken now: the callable runs outside the script thread
    q = dataclasses.replace(q, view=q.view.with_scope(who))

    def make() -> bytes:
        def write(f):
            with eng.connect() as conn:  # streams (a server-side cursor on PostgreSQL): the record goes apart
                rows = export_cases(conn, q, fmt, f, region_name=region_name, unmask=unmask, warning=warning)
            with eng.begin() as conn:  # no file leaves without its record: a failure here fails the download
                _audit_export(conn, who, q.view, "cases", fmt, rows, unmask=unmask, warning=warning,
                              overdue_only=q.overdue_only, text=q.text)
        return _to_bytes(write)
    return make


def _audit_export(conn, who: Scope, view: View, what: str, fmt: str, rows: int, *, unmask: bool = False, **filters):
    """Every export is on record: who, the filters, the format and the row count (and unmasking apart)."""
    details = audit.view_details(view, what=what, format=fmt, rows=rows, unmask=unmask, **filters)
    audit.record(conn, who.user, "export", region=view.region, details=details)
    if unmask:
        audit.record(conn, who.user, "unmask", region=view.region, details=details)


def indicator_export(view: View, at: dt.datetime, version: int, region_name: str):
    """A callable producing the children-indicator table (as on 总览, with 综合预警 and per-indicator levels) as XLSX."""
    from exports.tables import export_indicators
    table = evaluated(view, at, version)
    current, _error = rules()
    who, eng = session_scope(), engine()

    def make() -> bytes:
        def write(f):
            rows = export_indicators(table, view, "xlsx", f, region_name=region_name, as_of=at, rules=current)
            with eng.begin() as conn:
                _audit_export(conn, who, view, "indicators", "xlsx", rows)
        return _to_bytes(write)
    return make


def report_export(month: View, at: dt.datetime, region_name: str):
    """A callable producing the 平安报表 of ``month`` (a one-month View) as XLSX, computed on click."""
    from data_access.judged import warning_table
    from exports.tables import export_report
    current, _error = rules()
    eng = engine()
    who = session_scope()
    month = month.with_scope(who)

    def make() -> bytes:
        with eng.connect() as conn:
            table = warning_table(conn, month, at, current)

        def write(f):
            rows = export_report(table, current, month, "xlsx", f, region_name=region_name,
                                 as_of=at)
            with eng.begin() as conn:
                _audit_export(conn, who, month, "report", "xlsx", rows)
        return _to_bytes(write)
    return make


def report_months(view: View) -> list[tuple[int, int]]:
    """(year, month) of every month the view's period touches, newest first."""
    out, y, m = [], view.date_to.year, view.date_to.month
    while (y, m) >= (view.date_from.year, view.date_from.month):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out
