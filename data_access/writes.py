"""Writing cases: derive the stored helper columns, bulk-insert fast on either database."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Integer, Table
from sqlalchemy.engine import Connection


def derive_columns(cases: pd.DataFrame) -> pd.DataFrame:
    """Add ``month`` (yyyymm) and ``day`` (yyyymmdd) of reported_at; ``close_hours`` and ``on_time``
    (closed by the deadline: 1/0), both None while open. Every write of a case goes through this."""
    df = cases.copy()
    rep = pd.to_datetime(df["reported_at"])
    df["month"] = (rep.dt.year * 100 + rep.dt.month).astype(int)
    df["day"] = (df["month"] * 100 + rep.dt.day).astype(int)
    closed = pd.to_datetime(df["closed_at"])
    df["close_hours"] = ((closed - rep).dt.total_seconds() / 3600.0)
    on_time = (closed <= pd.to_datetime(df["deadline"])).astype("Int64")
    df["on_time"] = on_time.where(closed.notna(), pd.NA)
    return df


def _py(value):
    """A value the DB drivers accept: NaN/NaT -> None, numpy scalars -> Python."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(df: pd.DataFrame, table: Table, columns: list[str]):
    """Rows as tuples of plain Python values typed as the table's columns (COPY is strict)."""
    cols = []
    for c in columns:
        s = df[c]
        kind = table.c[c].type
        if pd.api.types.is_datetime64_any_dtype(s):
            cols.append([None if pd.isna(v) else v.to_pydatetime() for v in s])
            continue
        values = [_py(v) for v in s.astype(object)]
        if isinstance(kind, Boolean):
            values = [None if v is None else bool(v) for v in values]
        elif isinstance(kind, Integer):
            values = [None if v is None else int(v) for v in values]
        cols.append(values)
    return list(zip(*cols))


def insert_frame(conn: Connection, table: Table, df: pd.DataFrame) -> int:
    """Insert ``df``'s columns that ``table`` has; COPY on PostgreSQL, executemany on SQLite."""
    columns = [c.name for c in table.columns if c.name in df.columns]
    if df.empty:
        return 0
    rows = _records(df, table, columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in columns)
        conn.connection.driver_connection.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})", rows
        )
    return len(rows)
