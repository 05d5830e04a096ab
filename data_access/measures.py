"""SQL expressions for the additive measures of analytics.indicators, shared by the rollup
builder and the raw-case queries so both count exactly the same way.

Portable SQL only (CASE, SUM, COUNT, substr, ||): SQLite and PostgreSQL run it unchanged.
"""
from __future__ import annotations

from analytics.indicators import DURATION_COLUMNS, DURATION_EDGES, LOCAL_LEVELS, BASICALLY_SATISFIED, SATISFIED

# Only columns of the covering indexes (schema.AGG_COLUMNS) appear here: aggregates never touch table rows.
CLOSED = "close_hours IS NOT NULL"


def _duration_case(i: int) -> str:
    lo = DURATION_EDGES[i - 1] if i > 0 else None
    hi = DURATION_EDGES[i] if i < len(DURATION_EDGES) else None
    cond = [CLOSED]
    if lo is not None:
        cond.append(f"close_hours > {lo}")
    if hi is not None:
        cond.append(f"close_hours <= {hi}")
    return f"SUM(CASE WHEN {' AND '.join(cond)} THEN 1 ELSE 0 END)"


_LOCAL = ", ".join(f"'{lvl}'" for lvl in LOCAL_LEVELS)

#: Measures stored in the rollup: name -> aggregate expression over ``cases``.
ROLLUP_SQL: dict[str, str] = {
    "received": "COUNT(*)",
    "closed": f"SUM(CASE WHEN {CLOSED} THEN 1 ELSE 0 END)",
    "on_time": "COALESCE(SUM(on_time), 0)",
    "local_resolved": f"SUM(CASE WHEN {CLOSED} AND resolution_level IN ({_LOCAL}) THEN 1 ELSE 0 END)",
    "close_hours": f"COALESCE(SUM(CASE WHEN {CLOSED} THEN close_hours ELSE 0 END), 0)",
    "sat_n": "SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END)",
    "sat_ok": f"SUM(CASE WHEN satisfaction IN ({SATISFIED}, {BASICALLY_SATISFIED}) THEN 1 ELSE 0 END)",
    **{col: _duration_case(i) for i, col in enumerate(DURATION_COLUMNS)},
}

#: ``open`` and ``overdue`` depend on the as-of time, so they are never rolled up: data_access.open_cases
#: counts them over the open cases it keeps in memory.


def select_list(measures: dict[str, str]) -> str:
    return ", ".join(f"{expr} AS {name}" for name, expr in measures.items())
