"""A view's children judged by the warning rules, with the trailing window the rules ask for small numbers.

Every place that colours regions (pages, the wall, the map, exports, the CLI) calls :func:`warning_table`, so a
village is judged the same way everywhere: on its own cases in the period when they are enough, else on the
last ``window_months`` months (analytics.warnings.judged_values). The window is read only when some row needs
it, so a city's month view costs one query as before.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Connection

from analytics.warnings import Rules, evaluate, needs_window
from .queries import indicator_table
from .view import View


def window_for(view: View, table: pd.DataFrame, rules: Rules) -> View | None:
    """The trailing window to read when ``table`` (the view's indicator table) has too few cases somewhere;
    None when no row needs one or the period is already as long as the window."""
    if not needs_window(table, rules):
        return None
    window = view.trailing(rules.window_months)
    return window if window.date_from < view.date_from else None


def warning_table(conn: Connection, view: View, as_of: dt.datetime, rules: Rules) -> pd.DataFrame:
    """indicator_table for the view, evaluated by ``rules`` (levels per indicator and overall)."""
    table = indicator_table(conn, view, as_of)
    window = window_for(view, table, rules)
    return evaluate(table, rules, None if window is None else indicator_table(conn, window, as_of))
