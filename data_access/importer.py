"""Importing cases: kept as the old entry point; the pipeline lives in :mod:`data_access.imports`.

``read_table`` and ``quarantine_rows`` remain for small whole-file tables (the yearly village table of
data_access.village_import), which are read at once rather than in chunks.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .imports import ImportFailed, ImportReport, import_cases  # noqa: F401
from .imports.cases import LEVELS, SATISFACTION, STATUS, SYNONYMS  # noqa: F401

#: Accepted headers -> column (kept for callers of the old module).
HEADERS = {h: f for f, names in SYNONYMS.items() for h in names}


def read_table(path: Path) -> pd.DataFrame:
    """A small CSV (UTF-8, UTF-8 with BOM or GB18030) or an Excel sheet, all cells as text."""
    path = Path(path)
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


def quarantine_rows(raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The rejected rows exactly as they were in the file, with their line number and the reason."""
    rejected = raw.loc[reasons.index].copy()
    rejected.insert(0, "错误原因", reasons)
    rejected.insert(0, "行号", rejected.index + 2)  # the header is line 1
    return rejected
