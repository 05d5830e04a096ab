"""Importing real cases from CSV or Excel: validate, quarantine, upsert, refresh rollups.

Why this shape: exports from the 基层治理四平台 and 12345 systems differ in headers, encodings and
habits (GB18030 CSVs, Excel dates, 满意/基本满意 as words). Every row either lands or goes to a
quarantine file next to the input with the reason (nothing is lost), and the good rows land in one
transaction together with the rollup refresh of the months they touch and a data-version bump
(so every cached view is invalidated at once).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Engine

from analytics.indicators import BASICALLY_SATISFIED, SATISFIED, UNSATISFIED
from exports.safety import sanitize_raw_frame  # quarantine files leave the server: masked and defused
from . import meta, rollup
from .schema import cases as cases_t, grids as grids_t
from .scope import filter_rows as scope_filter_rows
from .writes import derive_columns, insert_frame

#: Accepted headers (Chinese as exported by the platforms, or the column names) -> column.
HEADERS = {
    "事件编号": "id", "类别": "category", "事件类别": "category", "来源": "source", "事件来源": "source",
    "网格编码": "grid_code", "网格代码": "grid_code", "经度": "lon", "纬度": "lat", "上报时间": "reported_at",
    "受理时间": "reported_at", "派遣时间": "dispatched_at", "办结时间": "closed_at", "办理时限": "deadline",
    "截止时间": "deadline", "状态": "status", "事件状态": "status", "化解层级": "resolution_level",
    "办结层级": "resolution_level", "满意度": "satisfaction", "重大事件": "is_major", "承办单位": "handling_unit",
    "事件描述": "description", "描述": "description", "群众姓名": "citizen_name", "姓名": "citizen_name",
    "联系电话": "citizen_phone", "电话": "citizen_phone",
}
REQUIRED = ("id", "category", "source", "grid_code", "reported_at", "deadline")
STATUS = {"已受理": "reported", "处置中": "dispatched", "已派遣": "dispatched", "已办结": "closed",
          "重新打开": "reopened", "reported": "reported", "dispatched": "dispatched", "closed": "closed",
          "reopened": "reopened"}
SATISFACTION = {"满意": SATISFIED, "基本满意": BASICALLY_SATISFIED, "不满意": UNSATISFIED,
                "3": SATISFIED, "2": BASICALLY_SATISFIED, "1": UNSATISFIED}
LEVELS = {"村": "村", "社区": "村", "村（社区）": "村", "镇": "镇", "乡镇": "镇", "街道": "镇", "县": "县", "区": "县", "市": "市"}
TRUE = {"是", "1", "true", "True", "TRUE", "Y", "y"}


class ImportFailed(ValueError):
    """The file cannot be read as a case table at all; the message names the file and the problem."""


@dataclass(frozen=True)
class ImportReport:
    inserted: int
    updated: int
    rejected: int
    quarantine: Path | None
    months: tuple[int, ...]


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (UTF-8, UTF-8 with BOM or GB18030) or an Excel sheet, all cells as text."""
    if not path.exists():
        raise ImportFailed(f"文件 {path} 不存在。")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            except UnicodeDecodeError:
                continue
        raise ImportFailed(f"文件 {path.name} 的编码无法识别（支持 UTF-8 与 GB18030）。")
    except ImportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser error becomes one clear message
        raise ImportFailed(f"文件 {path.name} 无法读取为表格：{exc}") from exc


def normalise(raw: pd.DataFrame, source_name: str) -> pd.DataFrame:
    """Rename known headers to column names; fail with the missing required columns named."""
    df = raw.rename(columns={c: HEADERS.get(str(c).strip(), str(c).strip()) for c in raw.columns})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        names = {v: k for k, v in HEADERS.items()}
        listed = "、".join(f"{names.get(c, c)}（{c}）" for c in missing)
        raise ImportFailed(f"文件 {source_name} 缺少必填列：{listed}。")
    return df


def _time(series: pd.Series) -> pd.Series:
    text_ = series.astype(str).str.strip().replace({"": None, "nan": None, "NaT": None})
    return pd.to_datetime(text_, errors="coerce", format="mixed")


def validate(df: pd.DataFrame, known_grids: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good rows typed for the database, the reason for each rejected row by its index)."""
    out = pd.DataFrame({"id": df["id"].astype(str).str.strip()})
    reasons = pd.Series("", index=df.index)

    def fail(mask: pd.Series, why: str) -> None:
        reasons[mask & (reasons == "")] = why

    fail(out["id"].isin(["", "nan"]), "事件编号为空")
    fail(out["id"].duplicated(keep="last"), "事件编号在文件中重复（保留最后一行）")
    for col in ("category", "source"):
        out[col] = df[col].astype(str).str.strip()
        fail(out[col] == "", f"{col} 为空")
    out["grid_code"] = df["grid_code"].astype(str).str.strip()
    fail(~out["grid_code"].isin(known_grids), "网格编码不存在")
    for col in ("reported_at", "dispatched_at", "closed_at", "deadline"):
        out[col] = _time(df[col]) if col in df.columns else pd.NaT
        given = df[col].astype(str).str.strip().ne("") if col in df.columns else pd.Series(False, index=df.index)
        fail(given & out[col].isna(), f"{col} 不是有效时间")
    fail(out["reported_at"].isna(), "上报时间为空")
    fail(out["deadline"].isna(), "办理时限为空")
    fail(out["closed_at"].notna() & (out["closed_at"] < out["reported_at"]), "办结时间早于上报时间")
    fail(out["deadline"].notna() & (out["deadline"] < out["reported_at"]), "办理时限早于上报时间")
    status = df["status"].astype(str).str.strip() if "status" in df.columns else pd.Series("", index=df.index)
    out["status"] = status.map(STATUS)
    derived = out["closed_at"].notna().map({True: "closed", False: "dispatched"})
    out["status"] = out["status"].fillna(derived.where(status == "", None))
    fail(out["status"].isna(), "状态无法识别")
    fail((out["status"] == "closed") & out["closed_at"].isna(), "状态为已办结但没有办结时间")
    out.loc[out["status"].isin(["reported", "dispatched", "reopened"]), "closed_at"] = pd.NaT
    level = df["resolution_level"].astype(str).str.strip() if "resolution_level" in df.columns else pd.Series("", index=df.index)
    out["resolution_level"] = level.map(LEVELS)
    fail(level.ne("") & out["resolution_level"].isna(), "化解层级无法识别")
    sat = df["satisfaction"].astype(str).str.strip() if "satisfaction" in df.columns else pd.Series("", index=df.index)
    out["satisfaction"] = sat.map(SATISFACTION)
    fail(sat.ne("") & out["satisfaction"].isna(), "满意度无法识别")
    for col in ("lon", "lat"):
        out[col] = pd.to_numeric(df[col], errors="coerce") if col in df.columns else None
    out["is_major"] = df["is_major"].astype(str).str.strip().isin(TRUE) if "is_major" in df.columns else False
    for col in ("handling_unit", "description", "citizen_name", "citizen_phone"):
        out[col] = df[col].astype(str).str.strip().replace({"": None}) if col in df.columns else None
    bad = reasons != ""
    return derive_columns(out[~bad]), reasons[bad]


def quarantine_rows(raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The rejected rows exactly as they were in the file, with their line number and the reason."""
    rejected = raw.loc[reasons.index].copy()
    rejected.insert(0, "错误原因", reasons)
    rejected.insert(0, "行号", rejected.index + 2)  # the header is line 1
    return rejected


def import_cases(engine: Engine, path: str | Path, scope=None) -> ImportReport:
    """Import one file of cases; returns counts and the quarantine file (None when every row landed).

    Rows outside the importer's ``scope`` (a county importer: other counties) are quarantined with the reason."""
    path = Path(path)
    raw = read_table(path)
    df = normalise(raw, path.name)
    with engine.begin() as conn:
        known = set(conn.execute(select(grids_t.c.code)).scalars())
        good, reasons = validate(df, known)
        good, outside = scope_filter_rows(good, "grid_code", scope)
        reasons = pd.concat([reasons, outside]).sort_index()
        ids = good["id"].tolist()
        old_months: set[int] = set()
        existing = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            stmt = text("SELECT month FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
            rows = conn.execute(stmt, {"ids": chunk}).scalars().all()
            existing += len(rows)
            old_months.update(rows)
            conn.execute(text("DELETE FROM cases WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                         {"ids": chunk})
        insert_frame(conn, cases_t, good)
        months = tuple(sorted(old_months | set(good["month"].astype(int))))
        rollup.refresh(conn, months)
        meta.bump_version(conn)
    quarantine = None
    if len(reasons):
        quarantine = path.with_name(f"{path.stem}.rejected.{dt.datetime.now():%Y%m%d%H%M%S%f}.csv")
        sanitize_raw_frame(quarantine_rows(raw, reasons)).to_csv(quarantine, index=False, encoding="utf-8-sig")
    return ImportReport(len(good) - existing, existing, len(reasons), quarantine, months)
