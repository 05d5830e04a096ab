"""督办 (supervised instructions): create, step through their life, list, and measure — scoped where read.

Scope (until issue 15's ``data_access.scope.Scope`` is merged, every entry point takes the acting user's name
``actor`` and region ``actor_region`` explicitly; the lead narrows them to ``scope.user`` / ``scope.region``):

- a centre sees the instructions it (or a centre inside it) sent, and those sent to it or to units inside it:
  ``unit_code`` or ``author_region`` in the actor's subtree. No region (or not a 12-digit code): nothing;
- only the responsible unit (``actor_region == unit_code``) signs and feeds back; only the issuing centre
  (``actor_region == author_region``) accepts or sends back (data_access.duban_states decides the steps);
- an instruction goes from a centre to a unit strictly inside it.

Every step is one transaction: the row's new state (guarded by its old state, so two people cannot both
take the same step), one ``duban_events`` row (who, when, from, to, text), attachments, and the audit hook.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.engine import Connection

from . import audit, duban_states as states
from .codes import CHILD_LEVEL, PREFIX_LEN, code_range, is_code, level_of, pad
from .schema import duban, duban_events, duban_files

#: Largest attachment (bytes) and most attachments per feedback.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
MAX_TITLE = 200
ORIGINS = ("warning", "case", "region")
BOXES = ("all", "todo", "sent", "received", "units")
#: SQL: the unit still owes feedback (see duban_states.OWING_STATES); past the deadline it is overdue.
OWING_SQL = "d.status IN (" + ", ".join(f"'{s}'" for s in states.OWING_STATES) + ")"

LIST_COLUMNS = ("id", "status", "overdue", "title", "region_code", "region_name", "origin", "indicator", "month",
                "level_name", "case_ids", "unit_code", "unit_name", "unit_person", "deadline", "author",
                "author_region", "created_at", "updated_at", "first_feedback_at", "feedback", "closed_at",
                "returns", "body")
EVENT_COLUMNS = ("id", "at", "actor", "actor_region", "action", "from_state", "to_state", "text")
MEASURE_SUMS = ("issued", "open", "closed", "overdue", "due", "fed_back", "on_time_feedback", "close_hours")


class DubanError(ValueError):
    """Bad input, a step not allowed, or an instruction out of the actor's scope; ``str()`` is Chinese."""


def _audit(conn: Connection, actor: str, action: str, region: str | None, details: dict) -> None:
    """Every write and export of 督办 goes on the audit log, inside its own transaction (besides duban_events)."""
    audit.record(conn, actor, action, region=region, details=details)


# --- scope ---

def _valid_region(actor_region: str | None) -> bool:
    return bool(actor_region) and is_code(actor_region) and len(actor_region) == 12


def _within(code: str, actor_region: str) -> bool:
    lo, hi = code_range(actor_region)
    return lo <= code < hi


def _scope_sql(actor_region: str, alias: str = "d") -> tuple[str, dict]:
    """The rows an actor may see: unit or author in the actor's subtree."""
    lo, hi = code_range(actor_region)
    return (f"(({alias}.unit_code >= :s_lo AND {alias}.unit_code < :s_hi) OR "
            f"({alias}.author_region >= :s_lo AND {alias}.author_region < :s_hi))", {"s_lo": lo, "s_hi": hi})


def side_of(row: dict, actor_region: str) -> str | None:
    """The actor's side of an instruction: states.UNIT, states.AUTHOR, or None (may see, may not act)."""
    if actor_region == row["unit_code"]:
        return states.UNIT
    if actor_region == row["author_region"]:
        return states.AUTHOR
    return None


def _frame(conn: Connection, sql: str, params: dict, columns: Iterable[str] | None = None) -> pd.DataFrame:
    result = conn.execute(text(sql), params)
    df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return df if columns is None or not df.empty else pd.DataFrame(columns=list(columns))


# --- creating ---

def unit_row(conn: Connection, unit_code: str) -> dict | None:
    """The 责任清单 row of a unit (its region): duty_unit and duty_person."""
    row = conn.execute(text("SELECT code, name, level, duty_unit, duty_person FROM regions WHERE code = :c"),
                       {"c": unit_code}).mappings().first()
    return dict(row) if row else None


def common_region(grid_codes: Iterable[str]) -> str:
    """The smallest region holding every grid (village, township, county or city code)."""
    codes = list(grid_codes)
    for level in ("village", "township", "county", "city"):
        n = PREFIX_LEN[level]
        if len({c[:n] for c in codes}) == 1:
            return pad(codes[0][:n])
    return pad(codes[0][:2])


def case_region(conn: Connection, case_ids: Iterable[str], actor_region: str) -> str:
    """Region of the cases an instruction is about; every case must exist inside the actor's region."""
    ids = sorted({str(c).strip() for c in case_ids if str(c).strip()})
    if not ids:
        raise DubanError("请至少选择一件事件")
    lo, hi = code_range(actor_region)
    found = dict(conn.execute(text("SELECT id, grid_code FROM cases WHERE id IN :ids")
                              .bindparams(_expanding("ids", ids))).all())
    missing = [i for i in ids if i not in found or not (lo <= found[i] < hi)]
    if missing:
        raise DubanError(f"事件 {'、'.join(missing[:5])} 不存在或不在本辖区")
    return common_region(found.values())


def create(conn: Connection, *, actor: str, actor_region: str, region_code: str, unit_code: str, title: str,
           deadline: dt.datetime, body: str = "", origin: str = "region", indicator: str | None = None,
           month: int | None = None, level_name: str | None = None, case_ids: Iterable[str] = (),
           now: dt.datetime | None = None) -> int:
    """Issue an instruction (已下发) from ``actor``'s centre to a unit inside it; returns its id."""
    now = now or dt.datetime.now().replace(microsecond=0)
    if not actor or not _valid_region(actor_region):
        raise DubanError("当前用户没有辖区，不能下发督办")
    if origin not in ORIGINS:
        raise DubanError(f"未知的督办来源 {origin!r}")
    ids = sorted({str(c).strip() for c in case_ids if str(c).strip()})
    if origin == "case":
        region_code = case_region(conn, ids, actor_region)
    if not is_code(region_code or "") or not _within(region_code, actor_region):
        raise DubanError(f"地区 {region_code} 不在本辖区（{actor_region}）内")
    if not is_code(unit_code or "") or len(unit_code) != 12 or not _within(unit_code, actor_region) \
            or unit_code == actor_region:
        raise DubanError(f"责任单位 {unit_code} 须是本辖区（{actor_region}）下属的单位")
    unit = unit_row(conn, unit_code)
    if unit is None:
        raise DubanError(f"责任清单中没有单位 {unit_code}")
    title = (title or "").strip()
    if not title:
        raise DubanError("请填写督办事项的标题")
    if len(title) > MAX_TITLE:
        raise DubanError(f"标题过长（{len(title)} 字，最多 {MAX_TITLE} 字）")
    if deadline is None or deadline <= now:
        raise DubanError(f"办理时限 {deadline} 须晚于当前时间 {now:%Y-%m-%d %H:%M}")
    values = dict(region_code=region_code, origin=origin, indicator=indicator, month=month, level_name=level_name,
                  case_ids=",".join(ids) or None, unit_code=unit_code,
                  unit_name=unit["duty_unit"] or unit["name"], unit_person=unit["duty_person"], title=title,
                  body=(body or "").strip(), deadline=deadline, author=actor, author_region=actor_region,
                  status=states.ISSUED, created_at=now, updated_at=now, returns=0)
    new_id = int(conn.execute(duban.insert().values(**values)).inserted_primary_key[0])
    _event(conn, new_id, now, actor, actor_region, "issue", None, states.ISSUED, values["body"] or title)
    _audit(conn, actor, "duban.issue", region_code, {"id": new_id, "unit": unit_code, "title": title})
    return new_id


def _event(conn, duban_id, at, actor, actor_region, action, source, target, words) -> int:
    res = conn.execute(duban_events.insert().values(duban_id=duban_id, at=at, actor=actor, actor_region=actor_region,
                                                    action=action, from_state=source, to_state=target,
                                                    text=words or None))
    return int(res.inserted_primary_key[0])


# --- one step ---

def get(conn: Connection, duban_id: int, actor_region: str) -> dict:
    """One instruction the actor may see; DubanError otherwise (the same message whether absent or hidden)."""
    if _valid_region(actor_region):
        where, params = _scope_sql(actor_region, alias="duban")
        row = conn.execute(select(duban).where(duban.c.id == int(duban_id), text(where).bindparams(**params))
                           ).mappings().first()
        if row:
            return dict(row)
    raise DubanError(f"督办事项 {duban_id} 不存在或不在本辖区")


def act(conn: Connection, duban_id: int, action: str, *, actor: str, actor_region: str, text_: str = "",
        files: Iterable[tuple[str, bytes]] = (), now: dt.datetime | None = None) -> str:
    """Take one step (sign / feedback / accept / return); returns the new state. ``files``: (name, bytes)."""
    now = now or dt.datetime.now().replace(microsecond=0)
    if not actor:
        raise DubanError("没有当前用户，不能办理")
    row = get(conn, duban_id, actor_region)
    side = side_of(row, actor_region)
    if side is None:
        raise DubanError(f"督办事项 {duban_id} 不是本单位下发或承办的，只能查看")
    files = list(files)
    if files and action != states.FEEDBACK:
        raise DubanError("只有反馈时可以上传附件")
    if len(files) > MAX_FILES:
        raise DubanError(f"附件最多 {MAX_FILES} 个，实际 {len(files)} 个")
    for name, data in files:
        if len(data) > MAX_FILE_BYTES:
            raise DubanError(f"附件 {name} 大小 {len(data) / 1048576:.1f} MB，超过上限 {MAX_FILE_BYTES // 1048576} MB")
        if not data:
            raise DubanError(f"附件 {name} 是空文件")
    try:
        target = states.step(row["status"], action, side, text_)
    except states.Forbidden as exc:
        raise DubanError(str(exc)) from None
    values: dict = {"status": target, "updated_at": now}
    words = (text_ or "").strip()
    if action == states.FEEDBACK:
        values["feedback"] = words
        if row["first_feedback_at"] is None:
            values["first_feedback_at"] = now
            values["feedback_on_time"] = int(now <= row["deadline"])
    elif action == states.ACCEPT:
        values["closed_at"] = now
        values["close_hours"] = (now - row["created_at"]).total_seconds() / 3600.0
    elif action == states.RETURN:
        values["returns"] = duban.c.returns + 1
    done = conn.execute(update(duban).where(duban.c.id == row["id"], duban.c.status == row["status"])
                        .values(**values)).rowcount
    if done != 1:
        raise DubanError(f"督办事项 {duban_id} 刚被他人处理，请刷新后再试")
    event_id = _event(conn, row["id"], now, actor, actor_region, action, row["status"], target, words)
    for name, data in files:
        conn.execute(duban_files.insert().values(duban_id=row["id"], event_id=event_id, name=str(name)[:200],
                                                 size=len(data), data=bytes(data), at=now, actor=actor))
    _audit(conn, actor, f"duban.{action}", row["region_code"],
           {"id": row["id"], "from": row["status"], "to": target, "files": [n for n, _ in files]})
    return target


# --- reading ---

def listing(conn: Connection, *, actor_region: str, now: dt.datetime, box: str = "all", region: str | None = None,
            statuses: Iterable[str] = (), overdue_only: bool = False, unit_code: str | None = None,
            words: str = "", limit: int = 2000) -> pd.DataFrame:
    """Instructions the actor may see, newest first. ``box``: all / todo (the actor's next step) / sent /
    received / units (sent to units inside the actor); ``region``: only those about or to this subtree."""
    if not _valid_region(actor_region):
        return pd.DataFrame(columns=list(LIST_COLUMNS))
    if box not in BOXES:
        raise DubanError(f"未知的列表 {box!r}")
    where, params = _scope_sql(actor_region)
    clauses = [where]
    params.update({"me": actor_region, "now": now, "n": int(limit)})
    if box == "sent":
        clauses.append("d.author_region = :me")
    elif box == "received":
        clauses.append("d.unit_code = :me")
    elif box == "units":
        clauses.append("d.unit_code >= :s_lo AND d.unit_code < :s_hi AND d.unit_code <> :me")
    elif box == "todo":
        unit_states = ", ".join(f"'{s}'" for s in (states.ISSUED, states.SIGNED, states.RETURNED))
        clauses.append(f"((d.unit_code = :me AND d.status IN ({unit_states})) OR "
                       f"(d.author_region = :me AND d.status = '{states.FED_BACK}'))")
    if region:
        lo, hi = code_range(region)
        clauses.append("((d.unit_code >= :r_lo AND d.unit_code < :r_hi) OR "
                       "(d.region_code >= :r_lo AND d.region_code < :r_hi))")
        params.update(r_lo=lo, r_hi=hi)
    picked = [s for s in statuses if s in states.STATES]
    if picked:
        clauses.append(f"d.status IN ({', '.join(repr(s) for s in picked)})")
    if overdue_only:
        clauses.append(f"{OWING_SQL} AND d.deadline < :now")
    if unit_code:
        clauses.append("d.unit_code = :unit")
        params["unit"] = unit_code
    if words.strip():
        clauses.append("(d.title LIKE :w OR d.body LIKE :w OR d.feedback LIKE :w OR d.unit_name LIKE :w)")
        params["w"] = f"%{words.strip()}%"
    sql = (f"SELECT d.*, r.name AS region_name, CASE WHEN {OWING_SQL} AND d.deadline < :now "
           "THEN 1 ELSE 0 END AS overdue FROM duban d LEFT JOIN regions r ON r.code = d.region_code "
           f"WHERE {' AND '.join(clauses)} ORDER BY d.created_at DESC, d.id DESC LIMIT :n")
    df = _frame(conn, sql, params, LIST_COLUMNS)
    if not df.empty:
        df["overdue"] = df["overdue"].astype(bool)
    return df[list(LIST_COLUMNS)]


def events(conn: Connection, duban_id: int, actor_region: str) -> pd.DataFrame:
    """The trail of one instruction (oldest first); only for an actor who may see it."""
    get(conn, duban_id, actor_region)
    return _frame(conn, "SELECT id, at, actor, actor_region, action, from_state, to_state, text FROM duban_events "
                  "WHERE duban_id = :id ORDER BY at, id", {"id": int(duban_id)}, EVENT_COLUMNS)


def attachments(conn: Connection, duban_id: int, actor_region: str) -> pd.DataFrame:
    """Attachments of one instruction (without their bytes)."""
    get(conn, duban_id, actor_region)
    return _frame(conn, "SELECT id, event_id, name, size, at, actor FROM duban_files WHERE duban_id = :id "
                  "ORDER BY id", {"id": int(duban_id)}, ("id", "event_id", "name", "size", "at", "actor"))


def attachment(conn: Connection, file_id: int, actor_region: str) -> tuple[str, bytes]:
    """(name, bytes) of one attachment, if its instruction is in the actor's scope."""
    row = conn.execute(select(duban_files.c.duban_id, duban_files.c.name, duban_files.c.data)
                       .where(duban_files.c.id == int(file_id))).first()
    if row is None:
        raise DubanError(f"附件 {file_id} 不存在")
    get(conn, row[0], actor_region)
    return row[1], bytes(row[2])


def problem_status(conn: Connection, *, actor_region: str, month: int, region_codes: Iterable[str]) -> pd.DataFrame:
    """For the 问题清单: per (region, indicator) the newest instruction about it — for that month, or still
    open from an earlier one. Columns region_code, indicator, id, status, deadline."""
    codes = sorted(set(region_codes))
    cols = ("region_code", "indicator", "id", "status", "deadline")
    if not _valid_region(actor_region) or not codes:
        return pd.DataFrame(columns=list(cols))
    where, params = _scope_sql(actor_region)
    names = {f"c{i}": c for i, c in enumerate(codes)}
    sql = (f"SELECT d.region_code, d.indicator, d.id, d.status, d.deadline FROM duban d WHERE {where} "
           f"AND d.origin = 'warning' AND d.region_code IN ({', '.join(':' + k for k in names)}) "
           f"AND (d.month = :m OR d.status <> '{states.CLOSED}') ORDER BY d.created_at, d.id")
    df = _frame(conn, sql, {**params, **names, "m": int(month)}, cols)
    return df.drop_duplicates(["region_code", "indicator"], keep="last").reset_index(drop=True)


def open_by_child(conn: Connection, code: str, *, actor_region: str, now: dt.datetime) -> pd.DataFrame:
    """Open and overdue instructions whose unit is inside ``code``, per child of ``code`` (for the wall):
    columns code (the child), open, overdue. A unit at ``code`` itself counts under ``code``."""
    cols = ("code", "open", "overdue")
    if not _valid_region(actor_region) or not is_code(code):
        return pd.DataFrame(columns=list(cols))
    child = CHILD_LEVEL.get(level_of(code))
    n = PREFIX_LEN[child] if child in PREFIX_LEN and len(code) == 12 else len(code)
    lo, hi = code_range(code)
    where, params = _scope_sql(actor_region)
    sql = (f"SELECT SUBSTR(d.unit_code, 1, {n}) AS p, COUNT(*) AS n_open, "
           f"SUM(CASE WHEN {OWING_SQL} AND d.deadline < :now THEN 1 ELSE 0 END) AS n_overdue FROM duban d "
           f"WHERE {where} AND d.unit_code >= :lo AND d.unit_code < :hi AND d.status <> '{states.CLOSED}' "
           "GROUP BY SUBSTR(d.unit_code, 1, " + str(n) + ") ORDER BY 1")
    df = _frame(conn, sql, {**params, "lo": lo, "hi": hi, "now": now})
    if df.empty:
        return pd.DataFrame(columns=list(cols))
    out = pd.DataFrame({"code": [pad(p) if len(p) < 12 else p for p in df["p"]],
                        "open": df["n_open"].astype(int), "overdue": df["n_overdue"].fillna(0).astype(int)})
    return out.groupby("code", as_index=False).sum()


def measures(conn: Connection, *, actor_region: str, code: str, date_from: dt.date, date_to: dt.date,
             now: dt.datetime, by: str = "unit") -> pd.DataFrame:
    """Sums of the loop's measures for instructions issued in [date_from, date_to] whose unit is inside
    ``code``, grouped by responsible unit (``by="unit"``), by child region of ``code`` (``"region"``), or one
    total row (``"total"``). Columns: key, name, and MEASURE_SUMS (analytics.duban derives the rates)."""
    cols = ("key", "name", *MEASURE_SUMS)
    if not _valid_region(actor_region) or not is_code(code):
        return pd.DataFrame(columns=list(cols))
    lo, hi = code_range(code)
    where, params = _scope_sql(actor_region)
    if by == "unit":
        key, name_sql = "d.unit_code", "MAX(d.unit_name)"
    elif by == "region":
        child = CHILD_LEVEL.get(level_of(code))
        n = PREFIX_LEN[child] if child in PREFIX_LEN and len(code) == 12 else len(code)
        key, name_sql = f"SUBSTR(d.unit_code, 1, {n})", "''"
    elif by == "total":
        key, name_sql = "''", "''"
    else:
        raise DubanError(f"未知的分组 {by!r}")
    closed = f"d.status = '{states.CLOSED}'"
    sql = (f"SELECT {key} AS k, {name_sql} AS name, COUNT(*) AS issued, "
           f"SUM(CASE WHEN {closed} THEN 0 ELSE 1 END) AS n_open, "
           f"SUM(CASE WHEN {closed} THEN 1 ELSE 0 END) AS closed, "
           f"SUM(CASE WHEN {OWING_SQL} AND d.deadline < :now THEN 1 ELSE 0 END) AS overdue, "
           "SUM(CASE WHEN d.first_feedback_at IS NOT NULL OR d.deadline < :now THEN 1 ELSE 0 END) AS due, "
           "SUM(CASE WHEN d.first_feedback_at IS NOT NULL THEN 1 ELSE 0 END) AS fed_back, "
           "SUM(COALESCE(d.feedback_on_time, 0)) AS on_time_feedback, "
           "SUM(COALESCE(d.close_hours, 0)) AS close_hours "
           f"FROM duban d WHERE {where} AND d.unit_code >= :lo AND d.unit_code < :hi "
           "AND d.created_at >= :t0 AND d.created_at < :t1 "
           + ("" if by == "total" else f"GROUP BY {key} ORDER BY 1"))
    t0 = dt.datetime.combine(date_from, dt.time())
    t1 = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())
    df = _frame(conn, sql, {**params, "lo": lo, "hi": hi, "now": now, "t0": t0, "t1": t1})
    df = df[pd.to_numeric(df["issued"]) > 0] if not df.empty else df  # the ungrouped total of nothing
    if df.empty:
        return pd.DataFrame(columns=list(cols))
    df = df.rename(columns={"k": "key", "n_open": "open"})
    for c in MEASURE_SUMS:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype(float if c == "close_hours" else int)
    if by == "region":
        df["key"] = [pad(k) for k in df["key"]]
        df = df.groupby("key", as_index=False).agg({"name": "first", **{c: "sum" for c in MEASURE_SUMS}})
        names = dict(conn.execute(text("SELECT code, name FROM regions WHERE code IN :codes")
                                  .bindparams(_expanding("codes", list(df["key"])))).all())
        df["name"] = [names.get(k, k) for k in df["key"]]
    return df[list(cols)].reset_index(drop=True)


def _expanding(name: str, values: list):
    return bindparam(name, values, expanding=True)


def count_all(conn: Connection) -> int:
    """Rows in ``duban`` (all scopes: for tests and the CLI only)."""
    return int(conn.execute(select(func.count()).select_from(duban)).scalar())


def log_export(conn: Connection, *, actor: str, actor_region: str, rows: int, what: str = "duban.export") -> None:
    """An export of the 督办 list is on record (audit hook)."""
    _audit(conn, actor, what, actor_region, {"rows": int(rows)})
