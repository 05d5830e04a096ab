"""Tables of 一屏统管, as SQLAlchemy Core metadata (SQLite and PostgreSQL run the same code).

Conventions, chosen so both databases index and compare them the same way:
- Region codes are the 12-digit statistical division codes (统计用区划代码); a grid code is its
  village's code plus 3 digits (15 characters). A subtree is a code *range*, never a LIKE.
- Times are naive datetimes in Asia/Shanghai local time (what the source systems record).
- Geometry is WKB bytes (portable, compact); ``label_lon/label_lat`` is a point inside the shape.
- ``cases.month`` (yyyymm), ``cases.day`` (yyyymmdd) of reported_at and ``cases.close_hours`` are derived on write by
  ``data_access.cases.derive_columns`` so aggregates need no date functions (which differ per database).
- ``case_rollup`` holds additive measures per (level, region, month, category, source); it is
  rebuilt for the touched months after every write (see ``data_access.rollup``), with city rows
  (since revision 0003) that are the sums of the county rows.
"""
from sqlalchemy import (
    Boolean, Column, DateTime, Float, Index, Integer, LargeBinary, MetaData, SmallInteger, String,
    Table, Text, text,
)

from analytics.indicators import DURATION_COLUMNS

metadata = MetaData()

regions = Table(
    "regions", metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(10), nullable=False),
    Column("parent_code", String(12), index=True),
    Column("population", Integer, nullable=False, server_default="0"),
    Column("geometry", LargeBinary),
    Column("label_lon", Float),
    Column("label_lat", Float),
    Column("duty_unit", String(64)),
    Column("duty_person", String(32)),
    Column("duty_phone", String(32)),
)

grids = Table(
    "grids", metadata,
    Column("code", String(15), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("village_code", String(12), nullable=False, index=True),
    Column("population", Integer, nullable=False, server_default="0"),
    Column("geometry", LargeBinary),
    Column("label_lon", Float),
    Column("label_lat", Float),
    Column("worker_name", String(32)),
    Column("worker_phone", String(32)),
    Column("source_code", String(32)),  # the county's own grid code (CJ/T 349, local), since revision 0005
)

cases = Table(
    "cases", metadata,
    Column("id", String(32), primary_key=True),
    Column("category", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("reported_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    Column("closed_at", DateTime),
    Column("deadline", DateTime, nullable=False),
    Column("status", String(12), nullable=False),
    Column("resolution_level", String(2)),
    Column("satisfaction", SmallInteger),
    Column("is_major", Boolean, nullable=False, server_default="0"),
    Column("handling_unit", String(64)),
    Column("description", Text),
    Column("citizen_name", String(32)),
    Column("citizen_phone", String(32)),
    Column("month", Integer, nullable=False),
    Column("day", Integer, nullable=False),
    Column("close_hours", Float),
    Column("on_time", SmallInteger),
    Column("updated_at", DateTime),  # the source system's last change: a newer version wins (revision 0005)
)
#: Everything an aggregate reads, so raw aggregations are index-only scans (no row lookups).
AGG_COLUMNS = ("category", "source", "status", "close_hours", "on_time", "resolution_level", "satisfaction")
# Long periods low in the tree: a subtree's entries are contiguous; the day range filters inside the index.
Index("ix_cases_grid_day", cases.c.grid_code, cases.c.day, *[cases.c[c] for c in AGG_COLUMNS])
# Short periods (the partial months at a period's ends) high in the tree: those days' entries are contiguous.
Index("ix_cases_day_grid", cases.c.day, cases.c.grid_code, *[cases.c[c] for c in AGG_COLUMNS])
Index("ix_cases_reported", cases.c.reported_at)
#: Closed cases not due yet (data_access.open_cases.load_not_due): deadline first, so only the cases due after the
#: as-of day are read (the last weeks'), covering the grouping and filter columns (revision 0008). Partial, on the
#: closed cases: without the predicate PostgreSQL walked it in deadline order for the overdue list (open cases,
#: ORDER BY deadline LIMIT 20) instead of the open-case index, 119 ms instead of 12 at 2 M cases.
EARLY_COLUMNS = ("deadline", "grid_code", "day", "category", "source", "status", "on_time", "closed_at")
Index(
    "ix_cases_deadline", *[cases.c[c] for c in EARLY_COLUMNS],
    sqlite_where=text("closed_at IS NOT NULL"), postgresql_where=text("closed_at IS NOT NULL"),
)
# Open cases are a few percent of all: their own covering index holds what data_access.open_cases loads and
# (with the id) which cases head the overdue list, so only those few rows are read from the table. closed_at
# (always NULL here) is in it because SQLite counts a partial index as covering only if it holds the columns
# of its own WHERE clause; without it every entry cost a table lookup.
OPEN_COLUMNS = ("grid_code", "day", "deadline", "category", "source", "status", "id", "closed_at")
Index(
    "ix_cases_open", *[cases.c[c] for c in OPEN_COLUMNS],
    sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL"),
)

ROLLUP_MEASURES = ("received", "closed", "on_time", "local_resolved", "close_hours", "sat_n", "sat_ok") + DURATION_COLUMNS

case_rollup = Table(
    "case_rollup", metadata,
    Column("level", String(10), primary_key=True),
    Column("code", String(12), primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("category", String(16), primary_key=True),
    Column("source", String(16), primary_key=True),
    *[Column(m, Float if m == "close_hours" else Integer, nullable=False, server_default="0") for m in ROLLUP_MEASURES],
)

#: Day grain for county rows only: the partial months at the ends of a city view (今日, 本月 …).
case_rollup_day = Table(
    "case_rollup_day", metadata,
    Column("level", String(10), primary_key=True),
    Column("day", Integer, primary_key=True),  # day before code: queries read a few days of every county
    Column("code", String(12), primary_key=True),
    Column("category", String(16), primary_key=True),
    Column("source", String(16), primary_key=True),
    *[Column(m, Float if m == "close_hours" else Integer, nullable=False, server_default="0") for m in ROLLUP_MEASURES],
)

#: Totals over every category and source, per county/township, by month (day = 0) and by day: the
#: unfiltered views (the wall, the default 总览) read a few hundred of these rows instead of thousands.
case_rollup_all = Table(
    "case_rollup_all", metadata,
    Column("level", String(10), primary_key=True),
    Column("day", Integer, primary_key=True),  # 0 on month rows
    Column("month", Integer, primary_key=True),
    Column("code", String(12), primary_key=True),
    *[Column(m, Float if m == "close_hours" else Integer, nullable=False, server_default="0") for m in ROLLUP_MEASURES],
)

#: Closed cases per resolution level (村/镇/县/市, '' when unrecorded): month rows (day = 0) for counties and
#: townships, day rows for counties. The 事件办结 page's 小事不出村 split of a city view reads these, not 2 M cases.
RESOLUTION_MEASURES = ("closed", "on_time", "close_hours")
case_rollup_res = Table(
    "case_rollup_res", metadata,
    Column("level", String(10), primary_key=True),
    Column("day", Integer, primary_key=True),  # 0 on month rows
    Column("month", Integer, primary_key=True),
    Column("code", String(12), primary_key=True),
    Column("resolution_level", String(8), primary_key=True),
    *[Column(m, Float if m == "close_hours" else Integer, nullable=False, server_default="0") for m in RESOLUTION_MEASURES],
)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

# --- issue 18: the yearly village table (村社年度表) of the 强基善治指数 (migration 0006) ---
#: One row per (village, year): the index's indicators that no case measures (analytics.index_config.VILLAGE_COLUMNS).
village_year = Table(
    "village_year", metadata,
    Column("village_code", String(12), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("collective_income", Float),    # 村级集体经济经营性收入（万元）
    Column("income_growth", Float),        # 农村居民人均可支配收入增幅（%）
    Column("environment_score", Float),    # 人居环境测评得分
    Column("households", Integer),
    Column("linked_households", Integer),  # households a party member is paired with
    Column("party_members", Integer),
    Column("young_members", Integer),      # party members under 35
)
Index("ix_village_year_year", village_year.c.year, village_year.c.village_code)
# --- issue 19: 督办 (supervised instructions), revision 0007 ---
#: One row per instruction (督办事项). ``unit_code`` is the responsible unit's region (its 责任清单 row in
#: ``regions``: duty_unit, duty_person); ``author_region`` the issuing centre's. Derived on each step so the
#: loop's measures are plain SUM/COUNT: ``first_feedback_at``, ``feedback_on_time`` (1/0, set once at the first
#: feedback) and ``close_hours`` (created → accepted, set at acceptance).
duban = Table(
    "duban", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("region_code", String(12), nullable=False),
    Column("origin", String(12), nullable=False),  # warning / case / region
    Column("indicator", String(32)),
    Column("month", Integer),
    Column("level_name", String(16)),
    Column("case_ids", Text),
    Column("unit_code", String(12), nullable=False),
    Column("unit_name", String(64), nullable=False),
    Column("unit_person", String(32)),
    Column("title", String(200), nullable=False),
    Column("body", Text),
    Column("deadline", DateTime, nullable=False),
    Column("author", String(64), nullable=False),
    Column("author_region", String(12), nullable=False),
    Column("status", String(12), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("first_feedback_at", DateTime),
    Column("feedback_on_time", SmallInteger),
    Column("feedback", Text),
    Column("closed_at", DateTime),
    Column("close_hours", Float),
    Column("returns", Integer, nullable=False, server_default="0"),
)
Index("ix_duban_unit", duban.c.unit_code, duban.c.status)
Index("ix_duban_author", duban.c.author_region, duban.c.status)
Index("ix_duban_region", duban.c.region_code, duban.c.indicator)

#: Every step of every instruction: who, when, from which state to which, and what they wrote.
duban_events = Table(
    "duban_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("duban_id", Integer, nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_region", String(12), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_state", String(12)),
    Column("to_state", String(12), nullable=False),
    Column("text", Text),
)

#: Files a unit attaches to its feedback (bytes in the database, so backups and replicas carry them).
duban_files = Table(
    "duban_files", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("duban_id", Integer, nullable=False, index=True),
    Column("event_id", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
)

# --- issue 15: sign-in, wall tokens and the audit log (migration 0004) ---
#: Local accounts. ``password_hash`` is argon2 (never the password); ``region`` None = sees nothing.
users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255)),
    Column("role", String(16), nullable=False),
    Column("region", String(12)),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed", Integer, nullable=False, server_default="0"),   # failed sign-ins in a row
    Column("locked_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Wall kiosk tokens: only the SHA-256 of the token is stored; ``revoked_at`` stops it at the next refresh.
tokens = Table(
    "tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("region", String(12), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("last_used_at", DateTime),
)

#: Append-only (a trigger refuses UPDATE and DELETE): who did what, when, where; details as JSON text.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("region", String(15)),
    Column("details", Text, nullable=False, server_default="{}"),
)

# --- issue 16 (revision 0005): every import on record, its rejected rows, saved column mappings ---
import_runs = Table(
    "import_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # cases / boundaries / open311 …
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64)),
    Column("status", String(8), nullable=False),  # ok / failed
    Column("rows_read", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("seconds", Float),
    Column("message", Text),
    Column("details", Text),  # JSON: skipped sheets, code/point disagreements, cases left without a grid …
)

import_rejects = Table(
    "import_rejects", metadata,
    Column("run_id", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("row_ref", String(64), nullable=False),  # line number, or 工作表!行号
    Column("raw", Text),  # the row's values as in the file, JSON {header: value}
    Column("reason", Text, nullable=False),
)

column_mappings = Table(
    "column_mappings", metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("mapping", Text, nullable=False),  # JSON {file header: field}
    Column("saved_by", String(64)),
    Column("saved_at", DateTime),
)
