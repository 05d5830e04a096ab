"""Streaming XLSX and CSV writers for staff exports (事件明细, 平安报表 …).

Why they look like this:

* **Bounded memory.** An export of a whole city for a year is ~500,000 cases. The writers take
  an *iterator* of DataFrame chunks (e.g. from a database cursor) and never hold more than one
  chunk. XLSX goes through xlsxwriter with ``constant_memory=True``: each row is flushed to a
  temp file as soon as the next one starts and strings are written inline, so memory does not
  grow with the row count. The price is that rows must be written strictly in order, top to
  bottom, which is what a stream does anyway.
* **Excel on Chinese Windows.** Excel reads a CSV without a byte-order mark in the ANSI code
  page (GBK), so UTF-8 without BOM shows mojibake. The default is therefore ``utf-8-sig``
  (UTF-8 with BOM); ``gb18030`` is offered for old tools that only read GB encodings. XLSX has
  no such problem, and real dates, percent formats, a frozen header and an autofilter make it
  the format for monthly reports.
* **Row limit.** An Excel sheet holds 1,048,576 rows including the header. Rather than write a
  silently truncated file, ``write_xlsx`` raises ``ExportTooLarge`` (in Chinese) before a chunk
  would cross the limit, and leaves no file behind.
* **Formula injection** is handled before the writers, by ``exports.safety.sanitize_frame``;
  besides, XLSX text is stored with ``write_string`` and is never parsed as a formula.

Timezone-aware datetimes are shown in China Standard Time (Asia/Shanghai), since Excel has no
timezones. Infinite numbers are written as empty cells, since Excel has no infinity either.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import xlsxwriter

KINDS = ("text", "int", "float", "percent", "datetime", "date")

#: Rows in one Excel sheet, header included.
EXCEL_MAX_ROWS = 1_048_576

DISPLAY_TZ = "Asia/Shanghai"
META_SHEET = "导出说明"

_NUM_FORMATS = {
    "text": "@", "int": "0", "float": "0.00", "percent": "0.0%",
    "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd",
}
_CSV_DATE_FORMATS = {"datetime": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d"}
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_WIDTH_SAMPLE = 500
_MAX_WIDTH = 60

Target = str | os.PathLike | IO[bytes]
FillFunction = Callable[[Any], str | None]
#: How a column is painted: a function of the cell's value, or the name of a DataFrame column that holds
#: each row's colour (e.g. the warning colour of the indicator, which the value alone does not decide).
Fill = FillFunction | str


class ExportTooLarge(ValueError):
    """The export does not fit in one Excel sheet."""


@dataclass(frozen=True)
class ColumnSpec:
    """One exported column: ``key`` in the DataFrame, Chinese ``header``, and how to format it."""

    key: str
    header: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"列 {self.key!r} 的类型 {self.kind!r} 无效，应为 {', '.join(KINDS)} 之一")


def display_width(text: str) -> int:
    """Width in Excel character units: CJK (wide/fullwidth) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _prepare(chunk: pd.DataFrame, col: ColumnSpec) -> pd.Series:
    """The column converted for its kind: numbers, naive local timestamps, or text as is."""
    try:
        s = chunk[col.key]
    except KeyError:
        raise KeyError(f"导出数据缺少列 {col.key!r}（{col.header}）") from None
    if col.kind in ("datetime", "date"):
        if not pd.api.types.is_datetime64_any_dtype(s):
            s = pd.to_datetime(s, format="ISO8601")  # database strings, date objects
        if s.dt.tz is not None:
            s = s.dt.tz_convert(DISPLAY_TZ).dt.tz_localize(None)
        return s.dt.normalize() if col.kind == "date" else s
    if col.kind in ("int", "float", "percent"):
        s = pd.to_numeric(s).astype("float64")
        return s.where(np.isfinite(s))
    return s


def _excel_values(s: pd.Series, kind: str) -> list:
    """Python values ready for xlsxwriter, None where the cell stays empty."""
    if kind in ("datetime", "date"):
        # Excel serial days; a date format on the cell turns it back into a date.
        s = (s - _EXCEL_EPOCH) / pd.Timedelta(days=1)
    elif kind == "int":
        s = s.round()
    elif kind == "text":
        s = s.map(_cell_text, na_action="ignore")
    return s.astype(object).where(s.notna(), None).tolist()


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sample_text(s: pd.Series, kind: str) -> list[str]:
    """How the first values will look, for the column width."""
    s = s.iloc[:_WIDTH_SAMPLE].dropna()
    if kind == "datetime":
        return ["2025-01-01 00:00"] if len(s) else []
    if kind == "date":
        return ["2025-01-01"] if len(s) else []
    if kind == "percent":
        return [f"{v:.1%}" for v in s]
    if kind == "float":
        return [f"{v:.2f}" for v in s]
    return [_cell_text(v) for v in s]


def write_xlsx(
    chunks: Iterable[pd.DataFrame],
    columns: list[ColumnSpec],
    target: Target,
    *,
    sheet_name: str = "数据",
    meta: Iterable[tuple[str, str]] = (),
    fills: Mapping[str, Fill] | None = None,
) -> int:
    """Write the chunks to one sheet of an XLSX workbook and return the number of data rows.

    ``meta`` pairs (筛选条件, 导出时间 …) go to a second sheet "导出说明", followed by "行数".
    ``fills`` maps a column key to a function of the cell's original value that returns a hex
    colour ("#FF0000") or None, or to the name of a chunk column holding each row's colour (hex or
    None); it paints e.g. the three-colour warning cells. Text on a dark fill is written in white.
    """
    fills = dict(fills or {})
    unknown = set(fills) - {c.key for c in columns}
    if unknown:
        raise KeyError(f"fills 中的列不在导出列中：{', '.join(sorted(unknown))}")
    # Our own temp dir: constant_memory row files are removed even when the export is aborted.
    with tempfile.TemporaryDirectory(prefix="xlsx-export-", ignore_cleanup_errors=True) as tmpdir:
        wb = xlsxwriter.Workbook(target, {"constant_memory": True, "tmpdir": tmpdir})
        formats = _Formats(wb)
        ws = wb.add_worksheet(sheet_name)
        for c, col in enumerate(columns):
            ws.write_string(0, c, col.header, formats.header)
        ws.freeze_panes(1, 0)

        widths = [display_width(c.header) for c in columns]
        rows = 0
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            if rows + len(chunk) > EXCEL_MAX_ROWS - 1:
                raise ExportTooLarge(
                    f"导出行数超过 Excel 单个工作表上限（{EXCEL_MAX_ROWS - 1:,} 行数据），已写入 {rows:,} 行、"
                    f"本批 {len(chunk):,} 行。请缩小筛选范围（地区或时间段），或改用 CSV 导出。"
                )
            _write_chunk(ws, chunk, columns, rows + 1, formats, fills, widths if rows == 0 else None)
            rows += len(chunk)

        for c, w in enumerate(widths):
            ws.set_column(c, c, min(w + 2, _MAX_WIDTH))
        ws.autofilter(0, 0, rows, len(columns) - 1)

        info = wb.add_worksheet(META_SHEET)
        info.set_column(0, 0, 14)
        info.set_column(1, 1, 60)
        for r, (name, value) in enumerate([("项目", "内容"), *meta, ("行数", rows)]):
            info.write_string(r, 0, str(name), formats.header if r == 0 else None)
            if isinstance(value, int):
                info.write_number(r, 1, value)
            else:
                info.write_string(r, 1, str(value), formats.header if r == 0 else None)
        wb.close()
    return rows


class _Formats:
    """xlsxwriter formats by (kind, fill colour), created once each: a workbook allows ~64,000."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, str | None], Any] = {}
        self.header = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                                     "text_wrap": True, "valign": "vcenter"})

    def get(self, kind: str, colour: str | None = None) -> Any:
        if (kind, colour) not in self.cache:
            props = {"num_format": _NUM_FORMATS[kind]}
            if colour:
                props.update(bg_color=colour if colour.startswith("#") else "#" + colour, pattern=1)
                if _dark(colour):
                    props.update(font_color="#FFFFFF")
            self.cache[kind, colour] = self.wb.add_format(props)
        return self.cache[kind, colour]


def _same(value: Any) -> Any:
    return value if isinstance(value, str) and value.strip() else None


def _dark(colour: str) -> bool:
    """True for a fill on which black text is hard to read (relative luminance below ~0.4)."""
    h = colour.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", h):
        return False
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.4


def _write_chunk(ws, chunk, columns, first_row, formats, fills, widths) -> None:
    """Write one chunk row by row (constant_memory flushes a row once the next one starts).

    ``widths``, when given, is raised to fit the chunk's first values.
    """
    kinds = [col.kind for col in columns]
    prepared = [_prepare(chunk, col) for col in columns]
    if widths is not None:
        for c, (kind, s) in enumerate(zip(kinds, prepared)):
            widths[c] = max([widths[c], *map(display_width, _sample_text(s, kind))])
    values = [_excel_values(s, kind) for kind, s in zip(kinds, prepared)]
    painters = []  # (column index, colour function, original values with None for missing)
    for c, col in enumerate(columns):
        if col.key in fills:
            paint = fills[col.key]
            source = col.key
            if isinstance(paint, str):  # a column of colours
                source, paint = paint, _same
                if source not in chunk.columns:
                    raise KeyError(f"导出数据缺少颜色列 {source!r}（{col.header}）")
            painters.append((c, paint, chunk[source].astype(object).where(chunk[source].notna(), None).tolist()))
    base = [formats.get(kind) for kind in kinds]
    for i, row in enumerate(zip(*values)):
        r = first_row + i
        cell_fmts = base
        if painters:
            cell_fmts = base.copy()
            for c, paint, raw in painters:
                colour = paint(raw[i])
                if colour:
                    cell_fmts[c] = formats.get(kinds[c], colour.strip())
        for c, v in enumerate(row):
            if v is None:
                if cell_fmts[c] is not base[c]:  # keep the fill of an empty painted cell
                    ws.write_blank(r, c, None, cell_fmts[c])
            elif kinds[c] == "text":
                ws.write_string(r, c, v, cell_fmts[c])
            else:
                ws.write_number(r, c, v, cell_fmts[c])


def write_csv(
    chunks: Iterable[pd.DataFrame],
    columns: list[ColumnSpec],
    target: Target,
    *,
    encoding: str = "utf-8-sig",
) -> int:
    """Write the chunks as CSV with Chinese headers and return the number of data rows.

    ``utf-8-sig`` (UTF-8 with BOM) opens in Excel on Chinese Windows without mojibake;
    ``gb18030`` is the alternative. Numbers are written unformatted (0.912, not 91.2%), so the
    CSV stays the lossless, machine-readable form; datetimes as ``YYYY-MM-DD HH:MM:SS``.
    """
    if isinstance(target, (str, os.PathLike)):
        try:
            with open(target, "w", encoding=encoding, newline="") as f:
                return _write_csv_text(chunks, columns, f)
        except BaseException:
            Path(target).unlink(missing_ok=True)  # a partial CSV would look like a complete one
            raise
    # A binary file object of the caller's: wrap it, and detach so that it stays open.
    f = io.TextIOWrapper(target, encoding=encoding, newline="", write_through=True)
    try:
        return _write_csv_text(chunks, columns, f)
    finally:
        f.flush()
        f.detach()


def _write_csv_text(chunks: Iterable[pd.DataFrame], columns: list[ColumnSpec], f: IO[str]) -> int:
    csv.writer(f).writerow([c.header for c in columns])
    rows = 0
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        out = {}
        for c, col in enumerate(columns):
            s = _prepare(chunk, col)
            if col.kind in _CSV_DATE_FORMATS:
                s = s.dt.strftime(_CSV_DATE_FORMATS[col.kind])
            elif col.kind == "int":
                s = s.round().astype("Int64")
            elif col.kind == "text" and s.dtype.kind == "f":
                s = s.map(_cell_text, na_action="ignore")
            out[c] = s.reset_index(drop=True)
        pd.DataFrame(out).to_csv(f, header=False, index=False, lineterminator="\r\n")
        rows += len(chunk)
    return rows


_ILLEGAL_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def _day(value: Any) -> str:
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def export_filename(region_name: str, date_from: Any, date_to: Any, what: str, ext: str) -> str:
    """``丽水市_2025-01-01至2025-12-31_事件明细.xlsx``, safe as a Windows file name."""
    stem = f"{region_name}_{_day(date_from)}至{_day(date_to)}_{what}"
    stem = _ILLEGAL_FILENAME.sub("", stem).strip(" .")
    return f"{stem}.{ext.lstrip('.')}"
