"""The one import pipeline every table kind shares.

    read (any format, chunk by chunk) → map columns → validate row by row → row filter → write
    → quarantine with reasons → log the run → refresh and bump the data version

all in ONE transaction (killed half-way, the database is as before on SQLite and PostgreSQL), so
``read = inserted + updated + rejected + unchanged`` holds for every run and is written to ``import_runs``.
A table kind (cases today; Open311 is cases through another column map; a yearly village table is another
kind) supplies only its synonyms, its validation and its write. ``row_filter`` is the one place where a
caller narrows what may land (e.g. a county importer may only import its county's rows): it receives the
validated rows and returns a reason per row ('' = keep).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from . import runlog
from .columns import Mapping, fail, lookup, resolve, scorer
from .readers import ERR, REF, Block, ImportFailed, open_table

RowFilter = Callable[[pd.DataFrame], pd.Series]


class TableKind(Protocol):
    name: str
    synonyms: dict[str, tuple[str, ...]]
    #: field -> masking kind of exports.safety ("name", "phone", "id", "text"), for quarantine and the page.
    personal: dict[str, str]

    def missing(self, mapping: Mapping) -> list[str]: ...
    def begin(self, conn: Connection, options: dict) -> object: ...
    def validate(self, rows: pd.DataFrame, mapping: Mapping, reasons: pd.Series, ctx) -> pd.DataFrame: ...
    def write(self, conn: Connection, good: pd.DataFrame, ctx) -> tuple[int, int, int, pd.Series]: ...
    def finish(self, conn: Connection, ctx) -> dict: ...


@dataclass
class ImportReport:
    inserted: int
    updated: int
    rejected: int
    quarantine: Path | None
    months: tuple[int, ...]
    unchanged: int = 0
    read: int = 0
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    quarantines: list[Path] = field(default_factory=list)


class _Quarantine:
    """Rejected rows beside the input file, masked and formula-defused (one file per sheet layout)."""

    def __init__(self, path: Path, stamp: str):
        self.path, self.stamp = path, stamp
        self.files: dict[tuple, Path] = {}

    def add(self, block: Block, bad: pd.DataFrame, personal: dict[str, str]) -> None:
        from exports.safety import sanitize_raw_frame
        key = tuple(block.headers)
        if key not in self.files:
            n = len(self.files)
            tag = "" if n == 0 else f".{n + 1}"
            self.files[key] = self.path.with_name(f"{self.path.stem}.rejected{tag}.{self.stamp}.csv.part")
            first = True
        else:
            first = False
        sanitize_raw_frame(bad, known=personal).to_csv(self.files[key], mode="w" if first else "a", header=first,
                                             index=False, encoding="utf-8-sig" if first else "utf-8")

    def commit(self) -> list[Path]:
        out = []
        for p in self.files.values():
            final = p.with_suffix("")
            p.replace(final)
            out.append(final)
        return out

    def discard(self) -> None:
        for p in self.files.values():
            p.unlink(missing_ok=True)


def personal_headers(kind: TableKind, mapping: Mapping) -> dict[str, str]:
    return {h: k for f, k in kind.personal.items() for h in mapping.sources.get(f, [])}


def run_import(engine: Engine, path: str | Path, kind: TableKind, *, user: str | None = None,
               mapping: dict[str, str] | None = None, row_filter: RowFilter | None = None,
               options: dict | None = None, quarantine: bool = True) -> ImportReport:
    """Import one file of ``kind``; ImportFailed (and a 'failed' run on record) when it is not a table."""
    path = Path(path)
    actor = user or runlog.cli_user()
    t0 = time.perf_counter()
    table = lookup(kind.synonyms, mapping)
    stamp = f"{dt.datetime.now():%Y%m%d%H%M%S%f}"
    q = _Quarantine(path, stamp)
    try:
        source, blocks = open_table(path, scorer(table))
        digest = runlog.sha256(path)
        with engine.begin() as conn:
            run_id = runlog.start(conn, kind.name, actor, path, digest)
            ctx = kind.begin(conn, dict(options or {}))
            read = inserted = updated = unchanged = rejected = 0
            seq = 0
            personal: dict[str, str] = {}
            for block in blocks:
                rows = block.rows
                m = resolve(block.headers, table)
                reasons = rows[ERR].astype(object).copy()
                missing = kind.missing(m)
                if missing:
                    listed = "、".join(missing)
                    if source.kind == "csv" or not len(rows):
                        raise ImportFailed(f"文件 {path.name} 缺少必填列：{listed}"
                                           f"（找到的列：{'、'.join(block.headers[:12])}）。")
                    fail(reasons, pd.Series(True, index=rows.index), f"工作表「{block.sheet}」缺少必填列：{listed}")
                    good = pd.DataFrame(index=rows.index)
                else:
                    good = kind.validate(rows, m, reasons, ctx)
                if row_filter is not None and reasons.eq("").any():
                    ok = reasons.eq("")
                    extra = row_filter(good[ok]).reindex(good[ok].index).fillna("").astype(str)
                    reasons.loc[extra.index] = extra
                ok = reasons.eq("")
                ins, upd, same, late = kind.write(conn, good[ok], ctx) if ok.any() else (0, 0, 0, pd.Series(dtype=object))
                if len(late):
                    reasons.loc[late.index] = late
                bad = reasons.ne("")
                read += len(rows)
                inserted, updated, unchanged = inserted + ins, updated + upd, unchanged + same
                rejected += int(bad.sum())
                if bad.any():
                    raw = rows.loc[bad, block.headers]
                    refs = rows.loc[bad, REF].tolist()
                    seq = runlog.add_rejects(conn, run_id, seq, refs, raw.to_dict("records"), reasons[bad].tolist())
                    heads = personal_headers(kind, m)
                    personal.update(heads)
                    if quarantine:
                        out = raw.copy()
                        out.insert(0, "错误原因", reasons[bad].values)
                        out.insert(0, "行号", refs)
                        q.add(block, out, heads)
            details = kind.finish(conn, ctx)
            details["notes"] = source.notes + details.get("notes", [])
            details["personal"] = personal
            details["encoding"] = source.encoding
            assert read == inserted + updated + rejected + unchanged, "every row is accounted for"
            runlog.finish(conn, run_id, status="ok", read=read, inserted=inserted, updated=updated,
                          rejected=rejected, unchanged=unchanged, seconds=time.perf_counter() - t0,
                          message="；".join(details["notes"])[:2000], details=details)
            runlog.on_record(conn, actor, f"import:{kind.name}", {
                "run_id": run_id, "file": path.name, "sha256": digest, "read": read, "inserted": inserted,
                "updated": updated, "rejected": rejected, "unchanged": unchanged})
    except ImportFailed as exc:
        q.discard()
        runlog.failed(engine, kind.name, actor, path, str(exc), time.perf_counter() - t0)
        raise
    except BaseException:
        q.discard()
        raise
    files = q.commit()
    return ImportReport(inserted, updated, rejected, files[0] if files else None,
                        tuple(details.get("months", ())), unchanged, read, run_id, details["notes"], details, files)
