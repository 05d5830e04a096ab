"""The tables staff export, shared by the 数据查询导出 page and the ``python -m data_access export`` CLI.

* **事件明细** (case list): exactly the rows of a :class:`data_access.case_list.CaseQuery`, streamed from
  the database chunk by chunk, each chunk made readable (status in Chinese, 是/否, satisfaction words)
  and safe (``sanitize_frame``: personal data masked unless ``unmask``, formulas defused) before the
  streaming writers see it. Memory is bounded by the chunk size, whatever the row count.
* **下级区域指标** (children-indicator table): the region itself (合计) and every child with every indicator.
* **平安报表** (monthly safety report): the children's indicators for one month; each indicator cell and the
  overall cell is filled with the warning colour that ``analytics.warnings.evaluate`` gives it under the
  rules file (colours come only from the rules).

Every XLSX carries a second sheet (导出说明) with the region, period, filters, personal-data state, export
time and row count. Headers and words come from ``ui.strings`` (plain Python, no Streamlit).
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Connection

from analytics.indicators import INDICATORS
from analytics.warnings import Rules, level_color, level_name, load_rules
from data_access import case_list
from data_access.case_list import CaseQuery
from data_access.view import View
from exports.safety import mask_text, sanitize_frame
from exports.writers import EXCEL_MAX_ROWS, ColumnSpec, Target, export_filename, write_csv, write_xlsx
from ui.strings import PERCENT, label, t

#: Columns with personal data and their kind for ``sanitize_frame``.
PERSONAL = {"citizen_name": "name", "citizen_phone": "phone", "description": "text", "handling_unit": "text"}

#: format name -> (file extension, CSV encoding or None for XLSX)
FORMATS = {"xlsx": ("xlsx", None), "csv": ("csv", "utf-8-sig"), "csv-gb18030": ("csv", "gb18030")}
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "csv-gb18030": "text/csv"}
#: Data rows one sheet holds.
XLSX_ROW_LIMIT = EXCEL_MAX_ROWS - 1

#: Environment switch that lets the page offer unmasked personal data (the 显示完整个人信息 toggle).
UNMASK_ENV = "YIPING_ALLOW_UNMASK"

_CASE_COLUMNS = (  # (key, string key, kind)
    ("id", "case_col_id", "text"),
    ("reported_at", "case_col_reported_at", "datetime"),
    ("category", "case_col_category", "text"),
    ("source", "case_col_source", "text"),
    ("status", "case_col_status", "text"),
    ("overdue", "case_col_overdue", "text"),
    ("county_name", "case_col_county", "text"),
    ("township_name", "case_col_township", "text"),
    ("village_name", "case_col_village", "text"),
    ("grid_name", "case_col_grid", "text"),
    ("description", "case_col_description", "text"),
    ("handling_unit", "case_col_handling_unit", "text"),
    ("deadline", "case_col_deadline", "datetime"),
    ("dispatched_at", "case_col_dispatched_at", "datetime"),
    ("closed_at", "case_col_closed_at", "datetime"),
    ("resolution_level", "case_col_resolution_level", "text"),
    ("satisfaction", "case_col_satisfaction", "text"),
    ("is_major", "case_col_is_major", "text"),
    ("citizen_name", "case_col_citizen_name", "text"),
    ("citizen_phone", "case_col_citizen_phone", "text"),
    ("grid_code", "case_col_grid_code", "text"),
)

REPORT_INDICATORS = ("received", "closed", "closure_rate", "on_time_rate", "overdue", "open", "satisfaction_rate",
                     "local_rate", "median_close_hours", "per_10k")


def allow_unmask() -> bool:
    """True when this installation lets authorised staff see unmasked personal data."""
    return os.environ.get(UNMASK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def rules_path() -> Path:
    """The warning rules file the app uses: WARNING_RULES, default config/warning_rules.toml."""
    return Path(os.environ.get("WARNING_RULES") or Path(__file__).resolve().parent.parent / "config" / "warning_rules.toml")


def load_default_rules() -> Rules:
    return load_rules(rules_path())


# --- case list ---

def case_columns() -> list[ColumnSpec]:
    return [ColumnSpec(key, t(label_key), kind) for key, label_key, kind in _CASE_COLUMNS]


def present_cases(df: pd.DataFrame) -> pd.DataFrame:
    """Codes as words for people: status in Chinese, 是/否, satisfaction 满意/基本满意/不满意."""
    out = df.copy()
    out["status"] = out["status"].map(lambda s: t(f"status_{s}"), na_action="ignore")
    yes, no = t("export_yes"), t("export_no")
    out["overdue"] = out["overdue"].map({True: yes, False: no})
    out["is_major"] = out["is_major"].map({True: yes, False: no})
    out["satisfaction"] = out["satisfaction"].astype("object").map(
        lambda v: None if pd.isna(v) else t(f"export_sat_{int(v)}"))
    return out


def safe_cases(df: pd.DataFrame, unmask: bool = False) -> pd.DataFrame:
    """A case-list frame as it may be shown or handed out: readable, masked (unless unmask), defused."""
    return sanitize_frame(present_cases(df), PERSONAL, unmask=unmask)


def case_frames(conn: Connection, q: CaseQuery, unmask: bool = False,
                chunk_rows: int = case_list.CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    for chunk in case_list.iter_chunks(conn, q, chunk_rows):
        yield safe_cases(chunk, unmask)


# --- describing what was exported (the 导出说明 sheet) ---

def _listed(values, fmt=lambda v: v) -> str:
    return "、".join(fmt(v) for v in values) if values else t("export_meta_all")


def view_meta(view: View, region_name: str, period: tuple[dt.date, dt.date] | None = None) -> list[tuple[str, str]]:
    d0, d1 = period or (view.date_from, view.date_to)
    return [
        (t("export_meta_region"), f"{region_name}（{view.region}）"),
        (t("export_meta_period"), t("export_meta_period_value", date_from=d0.isoformat(), date_to=d1.isoformat())),
        (t("export_meta_categories"), _listed(view.categories)),
        (t("export_meta_sources"), _listed(view.sources)),
        (t("export_meta_statuses"), _listed(view.statuses, lambda s: t(f"status_{s}"))),
    ]


def case_meta(q: CaseQuery, region_name: str, *, unmask: bool, warning: str | None = None,
              now: dt.datetime | None = None) -> list[tuple[str, str]]:
    return [
        *view_meta(q.view, region_name),
        (t("export_meta_overdue"), t("export_yes") if q.overdue_only else t("export_no")),
        (t("export_meta_warning"), warning or t("export_meta_all")),
        (t("export_meta_text"), (q.text.strip() if unmask else mask_text(q.text.strip())) or "—"),
        (t("export_meta_personal"), t("export_meta_unmasked") if unmask else t("export_meta_masked")),
        (t("export_meta_as_of"), q.as_of.strftime("%Y-%m-%d %H:%M")),
        (t("export_meta_exported_at"), (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S")),
    ]


def write(fmt: str, chunks, columns: list[ColumnSpec], target: Target, *, sheet: str,
          meta: list[tuple[str, str]] = (), fills=None) -> int:
    """Write chunks as ``fmt`` (xlsx, csv = UTF-8 with BOM, csv-gb18030) and return the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"未知的导出格式 {fmt!r}，可选：{'、'.join(FORMATS)}")
    encoding = FORMATS[fmt][1]
    if encoding is None:
        return write_xlsx(chunks, columns, target, sheet_name=sheet, meta=meta, fills=fills)
    return write_csv(chunks, columns, target, encoding=encoding)


def export_cases(conn: Connection, q: CaseQuery, fmt: str, target: Target, *, region_name: str,
                 unmask: bool = False, warning: str | None = None, chunk_rows: int = case_list.CHUNK_ROWS,
                 now: dt.datetime | None = None) -> int:
    """Stream every case ``q`` selects into ``target``; returns the row count."""
    return write(fmt, case_frames(conn, q, unmask, chunk_rows), case_columns(), target, sheet=t("export_sheet_cases"),
                 meta=case_meta(q, region_name, unmask=unmask, warning=warning, now=now))


def filename(region_name: str, date_from: dt.date, date_to: dt.date, what: str, fmt: str) -> str:
    """丽水市_2025-01-01至2025-12-31_事件明细.xlsx (GB18030 files say so in the name)."""
    name = t(f"export_what_{what}") + ("_GB18030" if fmt == "csv-gb18030" else "")
    return export_filename(region_name, date_from, date_to, name, FORMATS[fmt][0])


# --- indicator table and 平安报表 ---

def _indicator_kind(ind: str) -> str:
    if ind in PERCENT:
        return "percent"
    if ind in ("mean_close_hours", "median_close_hours", "per_10k"):
        return "float"
    return "int"


def _indicator_spec(ind: str) -> ColumnSpec:
    header = label(ind, with_unit=ind in ("mean_close_hours", "median_close_hours", "per_10k"))
    return ColumnSpec(ind, header, _indicator_kind(ind))


def _named(table: pd.DataFrame) -> pd.DataFrame:
    """The region's own row (is_total) first, its name marked （合计）."""
    out = table.copy()
    if "is_total" in out.columns:
        total = out["is_total"].astype(bool)
        out.loc[total, "name"] = out.loc[total, "name"] + t("export_report_total")
        out = pd.concat([out[total], out[~total]], ignore_index=True)
    return out


def indicator_columns(rules: Rules | None = None) -> list[ColumnSpec]:
    """The indicator table's columns; with ``rules``: 综合预警, each rule indicator's level and 样本较少 first."""
    levels = [] if rules is None else [
        ColumnSpec("overall_name", t("col_overall_level")),
        *[ColumnSpec(f"level_name_{r.key}", t("col_level_of", name=r.name)) for r in rules.indicators],
        ColumnSpec("small_sample_text", t("fair_small_mark"))]
    return [ColumnSpec("name", t("col_name")), ColumnSpec("code", t("col_code")), *levels,
            *[_indicator_spec(i) for i in INDICATORS], ColumnSpec("population", t("col_population"), "int")]


def level_frame(evaluated: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """An evaluated table (analytics.warnings.evaluate) with level names and colours per rule indicator."""
    out = _named(evaluated)
    for r in rules.indicators:
        out[f"level_name_{r.key}"] = [level_name(rules, i) for i in out[f"level_{r.key}"]]
        out[f"color_{r.key}"] = [level_color(rules, i) for i in out[f"level_{r.key}"]]
    small = out["small_sample"].astype(bool) if "small_sample" in out.columns else pd.Series(False, index=out.index)
    window = out["window"].astype(bool) if "window" in out.columns else pd.Series(False, index=out.index)
    out["small_sample_text"] = [t("fair_window_mark", months=rules.window_months) if w else
                                t("fair_small_mark") if v else "" for v, w in zip(small, window)]
    return out


def export_indicators(table: pd.DataFrame, view: View, fmt: str, target: Target, *, region_name: str,
                      as_of: dt.datetime, now: dt.datetime | None = None, rules: Rules | None = None) -> int:
    """The children-indicator table (ui.data.indicator_table / queries.indicator_table) as a file.

    ``rules`` with a ``table`` evaluated under them: also each child's 综合预警 and per-indicator levels, for
    any period (XLSX cells filled with the colours), and the rules file in the metadata."""
    meta = [*view_meta(view, region_name), (t("export_meta_as_of"), as_of.strftime("%Y-%m-%d %H:%M")),
            (t("export_meta_exported_at"), (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S"))]
    if rules is None or "overall" not in table.columns:
        return write(fmt, [_named(table)], indicator_columns(), target, sheet=t("export_sheet_indicators"), meta=meta)
    fills = None
    if FORMATS[fmt][1] is None:
        fills = {**{f"level_name_{r.key}": f"color_{r.key}" for r in rules.indicators}, "overall_name": "overall_color"}
    return write(fmt, [level_frame(table, rules)], indicator_columns(rules), target,
                 sheet=t("export_sheet_indicators"), meta=[*meta, *rules_meta(rules)], fills=fills)


def report_columns(rules: Rules) -> list[ColumnSpec]:
    inds = list(REPORT_INDICATORS) + [r.key for r in rules.indicators if r.key not in REPORT_INDICATORS]
    return [ColumnSpec("name", t("col_name")), ColumnSpec("code", t("col_code")),
            *[_indicator_spec(i) for i in inds], ColumnSpec("overall_name", t("export_report_overall"))]


def report_frame(evaluated: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """An evaluated indicator table with a colour column per rule indicator (``color_<key>``)."""
    return level_frame(evaluated, rules)


def report_fills(rules: Rules) -> dict[str, str]:
    return {**{r.key: f"color_{r.key}" for r in rules.indicators}, "overall_name": "overall_color"}


def rules_meta(rules: Rules) -> list[tuple[str, str]]:
    levels = "；".join(f"{lv.name} {lv.color}" for lv in (*rules.levels, rules.no_data))
    return [(t("export_meta_rules"), str(rules.source)), (t("export_meta_levels"), levels)]


def month_period(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def month_view(view: View, year: int, month: int) -> View:
    """The view over one calendar month (same region and filters)."""
    d0, d1 = month_period(year, month)
    return View(view.region, d0, d1, view.categories, view.sources, view.statuses, scope=view.scope)


def export_report(evaluated: pd.DataFrame, rules: Rules, month: View, fmt: str, target: Target, *,
                  region_name: str, as_of: dt.datetime, now: dt.datetime | None = None) -> int:
    """平安报表 of ``month`` (a one-month View): indicator and overall cells filled with the warning colours."""
    meta = [*view_meta(month, region_name),
            (t("export_meta_month"), t("data_month", year=month.date_from.year, month=month.date_from.month)),
            *rules_meta(rules), (t("export_meta_as_of"), as_of.strftime("%Y-%m-%d %H:%M")),
            (t("export_meta_exported_at"), (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S"))]
    fills = report_fills(rules) if FORMATS[fmt][1] is None else None
    return write(fmt, [report_frame(evaluated, rules)], report_columns(rules), target, sheet=t("export_sheet_report"),
                 meta=meta, fills=fills)


def level_names(rules: Rules) -> list[str]:
    """Warning level names best to worst, then 数据不足: the choices of the colour filter."""
    return [lv.name for lv in rules.levels] + [rules.no_data.name]


def children_with_level(evaluated: pd.DataFrame, rules: Rules, name: str) -> tuple[str, ...]:
    """Codes of the child regions (not the region's own row) whose overall warning level is ``name``."""
    kids = evaluated[~evaluated["is_total"].astype(bool)] if "is_total" in evaluated.columns else evaluated
    hit = [level_name(rules, i) == name for i in kids["overall"]]
    return tuple(kids.loc[hit, "code"].astype(str))
