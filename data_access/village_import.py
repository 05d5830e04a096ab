"""Importing the yearly village table (村社年度表) from CSV or Excel: validate, quarantine, upsert.

Why its own module: the index's non-case indicators (collective income, party members …) arrive once a year
as a spreadsheet per county. It follows the house rule of every import — nothing is lost: each row read is
inserted, updated, left unchanged (same values already stored) or rejected with its reason into a quarantine
CSV beside the input; ``read == inserted + updated + unchanged + rejected`` always. The file's reading
(encodings, Excel) is the case importer's (``data_access.importer.read_table``); the lead may fold this into
the shared import pipeline later.

An empty cell means "not reported": it never overwrites a value already stored.

    python -m data_access.village_import 2025年村社年度表.xlsx [more files …]
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from analytics.index_config import VILLAGE_COLUMNS
from . import meta
from exports.safety import sanitize_raw_frame  # the quarantine file leaves the server: formulas defused
from .importer import ImportFailed, quarantine_rows, read_table
from .schema import village_year

HEADERS = {
    "村（社区）代码": "village_code", "村社代码": "village_code", "村代码": "village_code", "区划代码": "village_code",
    "village_code": "village_code", "年度": "year", "年份": "year", "year": "year",
    **{v: k for k, v in VILLAGE_COLUMNS.items()}, **{k: k for k in VILLAGE_COLUMNS},
    "村级集体经济经营性收入": "collective_income", "人均可支配收入增幅": "income_growth",
}
INTEGER = ("households", "linked_households", "party_members", "young_members")
#: Columns that may be negative (a fall in income is news, not an error).
SIGNED = ("income_growth",)
YEARS = (2000, 2100)


@dataclass(frozen=True)
class VillageImportReport:
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    quarantine: Path | None
    years: tuple[int, ...]


def normalise(raw: pd.DataFrame, source_name: str) -> pd.DataFrame:
    """Known headers renamed to column names; the key columns and at least one value column must be there."""
    df = raw.rename(columns={c: HEADERS.get(str(c).strip(), str(c).strip()) for c in raw.columns})
    missing = [c for c in ("village_code", "year") if c not in df.columns]
    if missing:
        names = {"village_code": "村（社区）代码", "year": "年度"}
        raise ImportFailed(f"文件 {source_name} 缺少必填列：{'、'.join(names[c] for c in missing)}。")
    if not any(c in df.columns for c in VILLAGE_COLUMNS):
        raise ImportFailed(f"文件 {source_name} 没有任何可导入的指标列（可用：{'、'.join(VILLAGE_COLUMNS.values())}）。")
    return df


def validate(df: pd.DataFrame, known_villages: set[str]) -> tuple[pd.DataFrame, pd.Series]:
    """(good rows typed for the database, the reason for each rejected row by its index)."""
    reasons = pd.Series("", index=df.index)

    def fail(mask, why: str) -> None:
        reasons[mask & (reasons == "")] = why

    out = pd.DataFrame({"village_code": df["village_code"].astype(str).str.strip()}, index=df.index)
    fail(out["village_code"] == "", "村（社区）代码为空")
    fail(~out["village_code"].isin(known_villages), "村（社区）代码不存在（须为 12 位村级区划代码）")
    year = pd.to_numeric(df["year"].astype(str).str.strip().str.removesuffix("年"), errors="coerce")
    fail(year.isna() | (year % 1 != 0) | (year < YEARS[0]) | (year > YEARS[1]), "年度无效（应为 2000—2100 的整数）")
    out["year"] = year.fillna(0).astype(int)
    for col, header in VILLAGE_COLUMNS.items():
        if col not in df.columns:
            out[col] = None
            continue
        cell = df[col].astype(str).str.strip().str.replace(",", "", regex=False).str.removesuffix("%")
        value = pd.to_numeric(cell.where(cell != ""), errors="coerce")
        fail((cell != "") & value.isna(), f"{header} 不是数字")
        if col not in SIGNED:
            fail(value < 0, f"{header} 不能为负数")
        if col in INTEGER:
            fail(value.notna() & (value % 1 != 0), f"{header} 应为整数")
        if col == "environment_score":
            fail(value > 100, f"{header} 应在 0—100 之间")
        out[col] = value.astype(object).where(value.notna(), None)
    fail(_gt(out, "linked_households", "households"), "党员联系户数多于户数")
    fail(_gt(out, "young_members", "party_members"), "35岁以下党员人数多于党员人数")
    fail(out.duplicated(["village_code", "year"], keep="last") & (reasons == ""), "同一村同一年度在文件中重复（保留最后一行）")
    bad = reasons != ""
    good = out[~bad].copy()
    for col in INTEGER:
        good[col] = good[col].map(lambda v: None if v is None else int(v))
    return good, reasons[bad]


def _gt(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    x, y = pd.to_numeric(df[a]), pd.to_numeric(df[b])
    return (x > y).fillna(False).astype(bool)


def _existing(conn: Connection, years: list[int]) -> dict[tuple[str, int], dict]:
    cols = ", ".join(VILLAGE_COLUMNS)
    out = {}
    for y in years:
        for row in conn.execute(text(f"SELECT village_code, year, {cols} FROM village_year WHERE year = :y"), {"y": y}).mappings():
            out[(row["village_code"], int(row["year"]))] = dict(row)
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))


def upsert(conn: Connection, good: pd.DataFrame) -> tuple[int, int, int]:
    """(inserted, updated, unchanged): new rows inserted; given (non-empty) values overwrite stored ones."""
    years = sorted({int(y) for y in good["year"]})
    old = _existing(conn, years)
    inserts, updates, unchanged = [], [], 0
    for rec in good.to_dict("records"):
        key = (rec["village_code"], int(rec["year"]))
        given = {c: rec[c] for c in VILLAGE_COLUMNS if rec[c] is not None and not pd.isna(rec[c])}
        if key not in old:
            inserts.append({"village_code": key[0], "year": key[1], **{c: given.get(c) for c in VILLAGE_COLUMNS}})
        elif all(_same(v, old[key][c]) for c, v in given.items()):
            unchanged += 1
        else:
            updates.append((key, given))
    if inserts:
        conn.execute(village_year.insert(), inserts)
    for (code, year), given in updates:
        sets = ", ".join(f"{c} = :{c}" for c in given)
        conn.execute(text(f"UPDATE village_year SET {sets} WHERE village_code = :code AND year = :year"),
                     {**given, "code": code, "year": year})
    return len(inserts), len(updates), unchanged


def _record(conn: Connection, actor: str, report: dict) -> None:
    """The import on record in the audit log (data_access.audit, issue 15) when this installation has it."""
    try:
        from . import audit
    except ImportError:  # the audit log arrives with issue 15; until then the run is logged on stderr only
        return
    audit.record(conn, actor, "import_village_year", details=report)


def import_villages(engine: Engine, path: str | Path, actor: str = "cli") -> VillageImportReport:
    """Import one file of the yearly village table; returns the counts and the quarantine file (or None)."""
    path = Path(path)
    raw = read_table(path)
    df = normalise(raw, path.name)
    with engine.begin() as conn:
        known = set(conn.execute(text("SELECT code FROM regions WHERE level = 'village'")).scalars())
        good, reasons = validate(df, known)
        inserted, updated, unchanged = upsert(conn, good)
        _record(conn, actor, {"file": path.name, "read": len(raw), "inserted": inserted, "updated": updated,
                              "unchanged": unchanged, "rejected": len(reasons)})
        if inserted or updated:
            meta.bump_version(conn)
    quarantine = None
    if len(reasons):
        quarantine = path.with_name(f"{path.stem}.rejected.{dt.datetime.now():%Y%m%d%H%M%S%f}.csv")
        sanitize_raw_frame(quarantine_rows(raw, reasons)).to_csv(quarantine, index=False, encoding="utf-8-sig")
    report = VillageImportReport(len(raw), inserted, updated, unchanged, len(reasons), quarantine,
                                 tuple(sorted({int(y) for y in good["year"]})))
    assert report.read == report.inserted + report.updated + report.unchanged + report.rejected
    return report


def main(argv: list[str] | None = None) -> int:
    from .engine import get_engine
    files = sys.argv[1:] if argv is None else argv
    if not files:
        print("用法：python -m data_access.village_import 文件.xlsx [更多文件 …]", file=sys.stderr)
        return 2
    from . import migrate
    engine, status = get_engine(), 0
    migrate.upgrade(engine)
    for f in files:
        try:
            r = import_villages(engine, f)
        except ImportFailed as exc:
            print(f"错误：{exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{f}：读取 {r.read} 行 = 新增 {r.inserted} + 更新 {r.updated} + 未变 {r.unchanged} + 隔离 {r.rejected}"
              + (f"；隔离文件 {r.quarantine}" if r.quarantine else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
