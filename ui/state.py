"""URL query parameters <-> View, as pure functions (tested without Streamlit).

?region=331102000000&from=2025-01-01&to=2025-12-31&cat=矛盾纠纷,治安&src=…&status=…
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from data_access.codes import is_code
from data_access.view import View
from .strings import t

LIST_PARAMS = {"cat": "categories", "src": "sources", "status": "statuses"}


def presets(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Named periods relative to ``today`` (the data's as-of date)."""
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    q_first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year_ago = (dt.date(today.year - 1, today.month, 1) + dt.timedelta(days=31)).replace(day=1)
    return {
        "preset_this_month": (first, today),
        "preset_last_month": (last_month_end.replace(day=1), last_month_end),
        "preset_this_quarter": (q_first, today),
        "preset_this_year": (dt.date(today.year, 1, 1), today),
        "preset_last_12": (year_ago, today),
        "preset_last_year": (dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
    }


def default_view(root: str, today: dt.date) -> View:
    date_from, date_to = presets(today)["preset_this_year"]
    return View(root, date_from, date_to)


#: The dates a URL may ask for: no data exists before 2000, and a year ahead covers every deadline.
MIN_DATE = dt.date(2000, 1, 1)
MAX_DAYS_AHEAD = 366
#: At most this many values in one list parameter (cat, src, status).
MAX_LIST_VALUES = 50


def date_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The sane range of ?from= and ?to=: 2000-01-01 to a year after ``today``."""
    return MIN_DATE, today + dt.timedelta(days=MAX_DAYS_AHEAD)


def view_from_params(params: Mapping[str, str], root: str, today: dt.date,
                     known: Mapping[str, object] | None = None) -> tuple[View, list[str]]:
    """The View a URL asks for, and messages (Chinese) for every parameter that had to be replaced.

    Dates outside :func:`date_range` fall back to the default period (9999-12-31 would overflow every date
    computation after it). ``known`` (optional) maps ``cat``/``src``/``status`` to their valid values: unknown
    values are named in a message and ignored, instead of selecting nothing in silence. Messages quote the raw
    values; pages escape them as a whole (ui.escape.md)."""
    base = default_view(root, today)
    notes: list[str] = []
    region = params.get("region") or root
    if not is_code(region):
        notes.append(t("bad_param", name="region", value=region))
        region = root
    lo, hi = date_range(today)
    dates = {}
    for name, fallback in (("from", base.date_from), ("to", base.date_to)):
        raw = params.get(name)
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else fallback
        except ValueError:
            notes.append(t("bad_param", name=name, value=raw))
            dates[name] = fallback
        if not lo <= dates[name] <= hi:
            notes.append(t("param_date_range", name=name, value=raw, lo=lo.isoformat(), hi=hi.isoformat()))
            dates[name] = fallback
    if dates["from"] > dates["to"]:
        notes.append(t("bad_period"))
        dates["from"], dates["to"] = dates["to"], dates["from"]
    lists = {}
    for key, field in LIST_PARAMS.items():
        values = tuple(dict.fromkeys(v.strip() for v in (params.get(key) or "").split(",") if v.strip()))
        if len(values) > MAX_LIST_VALUES:
            notes.append(t("param_too_many", name=key, n=MAX_LIST_VALUES))
            values = values[:MAX_LIST_VALUES]
        valid = None if known is None else known.get(key)
        if valid is not None:
            unknown = [v for v in values if v not in valid]
            if unknown:
                notes.append(t("param_unknown_values", name=key, values="、".join(unknown)))
                values = tuple(v for v in values if v in valid)
        lists[field] = values
    return View(region, dates["from"], dates["to"], **lists), notes


def params_from_view(view: View) -> dict[str, str]:
    out = {"region": view.region, "from": view.date_from.isoformat(), "to": view.date_to.isoformat()}
    for key, field in LIST_PARAMS.items():
        values = getattr(view, field)
        if values:
            out[key] = ",".join(values)
    return out
