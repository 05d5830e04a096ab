"""The 督办 list as XLSX: one row per instruction with its state, unit, deadline and feedback.

Free text (the instruction, the feedback) may hold phone or ID numbers: masked like case descriptions, and
every cell is defused against formula injection (exports.safety)."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from data_access import duban_states as states
from ui.strings import t
from .safety import sanitize_frame
from .writers import ColumnSpec, Target, write_xlsx

COLUMNS = (("id", "int"), ("state", "text"), ("title", "text"), ("region_name", "text"), ("origin", "text"),
           ("unit_name", "text"), ("unit_person", "text"), ("deadline", "datetime"), ("author", "text"),
           ("created_at", "datetime"), ("first_feedback_at", "datetime"), ("closed_at", "datetime"),
           ("returns", "int"), ("body", "text"), ("feedback", "text"))
PERSONAL = {"body": "text", "feedback": "text"}


def columns() -> list[ColumnSpec]:
    return [ColumnSpec(k, t(f"db_x_{k}"), kind) for k, kind in COLUMNS]


def frame(listing: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    df = listing.copy()
    df["state"] = [t(f"db_state_{s}") + (t("db_x_overdue") if states.is_overdue(s, pd.Timestamp(d), now) else "")
                   for s, d in zip(df["status"], df["deadline"])]
    df["origin"] = [t(f"db_origin_{o}") for o in df["origin"]]
    return sanitize_frame(df, PERSONAL)


def export_listing(listing: pd.DataFrame, target: Target, *, meta: list[tuple[str, str]], now: dt.datetime) -> int:
    """Write the listing to ``target`` as XLSX; returns the row count."""
    return write_xlsx([frame(listing, now)], columns(), target, sheet_name=t("db_x_sheet"), meta=meta)
