"""Readers: any table file to chunks of text cells with the file's own row references.

Why: what counties hand over is CSV in UTF-8 or GB18030 (sometimes tab-separated, sometimes with a title
row above the header), Excel workbooks with data on several sheets, old ``.xls`` files. A reader never
stops on one bad row: a line with an undecodable byte, too many fields or too few (a truncated last row)
comes out as a row with ``__err__`` set, to be quarantined with its reason; only a file that is not a
table at all (empty, an image, a zip, no header anywhere) raises :class:`ImportFailed`. Rows come in
chunks of ``CHUNK`` so a file of any size is read in bounded memory.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

CHUNK = 20_000
#: Rows looked at for the header (a title row or two often sits above it).
HEADER_SCAN = 20
REF, ERR = "__ref__", "__err__"

_MAGIC = {
    b"\x89PNG": "PNG 图片", b"\xff\xd8\xff": "JPEG 图片", b"GIF8": "GIF 图片", b"%PDF": "PDF 文档",
    b"BM": "BMP 图片", b"Rar!": "RAR 压缩包", b"7z\xbc\xaf": "7z 压缩包", b"\x1f\x8b": "gzip 压缩包",
}


class ImportFailed(ValueError):
    """The file cannot be read as a table at all; the message names the file and the problem (Chinese)."""


@dataclass
class Block:
    """One chunk of one sheet: ``rows`` has the file's headers as columns (all text), plus REF and ERR."""
    sheet: str
    headers: list[str]
    rows: pd.DataFrame


@dataclass
class Source:
    """What was found in a file: notes (skipped sheets, title rows) filled in while the blocks are read."""
    path: Path
    kind: str  # csv / xlsx / xls
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None


def sniff(path: Path) -> str:
    """'csv', 'xlsx' or 'xls' from the bytes (not the name); ImportFailed for what is not a table."""
    if not path.exists():
        raise ImportFailed(f"文件 {path} 不存在。")
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise ImportFailed(f"文件 {path.name} 是空文件（0 字节）。")
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ImportFailed(f"文件 {path.name} 实际是{what}，不是表格；请导出为 CSV 或 Excel 后再导入。")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile:
            raise ImportFailed(f"文件 {path.name} 是损坏的 ZIP/Excel 文件，无法读取。") from None
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
        shown = "、".join(names[:5])
        raise ImportFailed(f"文件 {path.name} 实际是 ZIP 压缩包（内含 {shown}），不是表格；请解压后导入其中的表格文件。")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    with path.open("rb") as f:
        start = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def header_row(rows: list[list[str]], score: Callable[[list[str]], int]) -> int | None:
    """Index of the first row that names at least two known columns (the rows above are titles)."""
    best, at = 1, None
    for i, row in enumerate(rows[:HEADER_SCAN]):
        s = score(row)
        if s > best:
            best, at = s, i
            if s >= 3:
                break
    return at


def _unique(headers: list[str]) -> list[str]:
    out, seen = [], {}
    for i, h in enumerate(headers):
        h = (h or "").strip() or f"第{i + 1}列"
        if h in seen:
            seen[h] += 1
            h = f"{h}({seen[h]})"
        else:
            seen[h] = 1
        out.append(h)
    return out


def _frame(headers: list[str], rows: list[list[str]], refs: list[str], errs: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=headers, dtype=object) if rows else pd.DataFrame(columns=headers, dtype=object)
    df = df.fillna("").astype(str)
    df[REF] = refs
    df[ERR] = errs
    return df


def _shape(row: list[str], width: int) -> tuple[list[str], str]:
    """The row cut or padded to the header's width, with the reason when its field count is wrong."""
    n = len(row)
    if n == width:
        return row, ""
    if n > width:
        if all(not (c or "").strip() for c in row[width:]):
            return row[:width], ""
        return row[:width], f"本行有 {n} 个字段，多于表头的 {width} 列（多出的值：{'、'.join(c for c in row[width:] if c)[:60]}）"
    return row + [""] * (width - n), f"本行只有 {n} 个字段，少于表头的 {width} 列（行可能被截断）"


def _blocks(source: Source, sheet: str, records: Iterator[tuple[str, list[str], str]],
            score: Callable[[list[str]], int], ref_prefix: str = "") -> Iterator[Block]:
    """Find the header among the first records, then yield the rest in chunks."""
    head: list[tuple[str, list[str], str]] = []
    for rec in records:
        head.append(rec)
        if len(head) >= HEADER_SCAN:
            break
    nonblank = [r for r in head if any((c or "").strip() for c in r[1])]
    if not nonblank:
        source.notes.append(f"工作表「{sheet}」为空，已跳过。" if sheet else "文件中没有任何数据行。")
        return
    at = header_row([r[1] for r in nonblank], score)
    if at is None:
        rest = sum(1 for _ in records) + len(nonblank)
        if source.kind in ("csv", "json"):
            raise ImportFailed(f"文件 {source.path.name} 的前 {HEADER_SCAN} 行中找不到可识别的表头"
                               f"（如 事件编号、事件类别、上报时间）；请在数据导入页面设置列对应关系后导入。")
        source.notes.append(f"工作表「{sheet}」中找不到可识别的表头，已跳过（{rest} 行）。")
        return
    title = nonblank[:at]
    if title:
        shown = "；".join(" ".join(c for c in r[1] if c)[:40] for r in title)
        source.notes.append(f"{ref_prefix}第 {title[0][0]}–{title[-1][0]} 行为标题行（{shown}），未作为数据导入。"
                            if len(title) > 1 else f"{ref_prefix}第 {title[0][0]} 行为标题行（{shown}），未作为数据导入。")
    header = nonblank[at]
    headers = _unique([str(c) if c is not None else "" for c in header[1]])
    width = len(headers)
    after = head[head.index(header) + 1:]

    def all_records():
        yield from after
        yield from records

    rows, refs, errs = [], [], []
    blank = 0
    for ref, cells, err in all_records():
        if not any((c or "").strip() for c in cells) and not err:
            blank += 1
            continue
        shaped, why = _shape(cells, width)
        rows.append(shaped)
        refs.append(f"{ref_prefix}{ref}")
        errs.append(err or why)
        if len(rows) >= CHUNK:
            yield Block(sheet, headers, _frame(headers, rows, refs, errs))
            rows, refs, errs = [], [], []
    if rows or not refs:
        yield Block(sheet, headers, _frame(headers, rows, refs, errs))
    if blank:
        source.notes.append(f"{ref_prefix or ''}跳过 {blank} 个空行。")


# ---- text (CSV / TSV) ----

def _encoding(path: Path) -> str:
    """utf-8-sig, utf-16 or gb18030: UTF-8 unless more than a few sample lines fail to decode as UTF-8."""
    with path.open("rb") as f:
        sample = f.read(1 << 20)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    lines = sample.split(b"\n")[:-1] or [sample]
    bad = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    return "utf-8-sig" if bad <= max(1, len(lines) // 100) else "gb18030"


def _delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


ENCODING_NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}


def read_text(path: Path, source: Source, score) -> Iterator[Block]:
    enc = _encoding(path)
    source.encoding = enc
    name = ENCODING_NAMES[enc]
    bad_lines: set[int] = set()

    def lines() -> Iterator[str]:
        if enc == "utf-16":
            yield from path.read_text(encoding="utf-16", errors="replace").splitlines(keepends=True)
            return
        codec = "utf-8" if enc == "utf-8-sig" else enc
        with path.open("rb") as f:
            for n, raw in enumerate(f, start=1):
                if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    yield raw.decode(codec)
                except UnicodeDecodeError:
                    bad_lines.add(n)
                    yield raw.decode(codec, errors="replace")

    it = lines()
    first = []
    for line in it:
        first.append(line)
        if len(first) >= 10:
            break
    delim = _delimiter(first)

    def chained():
        yield from first
        yield from it

    reader = csv.reader(chained(), delimiter=delim)

    def records():
        prev = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                now = reader.line_num
                yield str(prev + 1), [], f"第 {prev + 1} 行无法按 CSV 解析（{exc}）"
                prev = now
                continue
            now = reader.line_num
            span = range(prev + 1, now + 1)
            err = ""
            hit = [n for n in span if n in bad_lines]
            if hit:
                err = f"第 {hit[0]} 行含无法按 {name} 识别的字节（文件可能损坏或被截断）"
            yield str(prev + 1), cells, err
            prev = now

    yield from _blocks(source, "", records(), score)


# ---- Excel ----

def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def read_xlsx(path: Path, source: Source, score) -> Iterator[Block]:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parser error is one clear message
        raise ImportFailed(f"文件 {path.name} 无法读取为 Excel 工作簿：{exc}") from exc
    try:
        many = len(wb.sheetnames) > 1
        for ws in wb.worksheets:
            def records(ws=ws):
                for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    yield str(n), [_cell(v) for v in row], ""
            yield from _blocks(source, ws.title, records(), score, f"{ws.title}!" if many else "")
    finally:
        wb.close()


def read_xls(path: Path, source: Source, score) -> Iterator[Block]:
    try:
        import xlrd
    except ImportError:  # pragma: no cover - xlrd is in requirements.txt
        raise ImportFailed(f"文件 {path.name} 是旧版 Excel（.xls），服务器缺少 xlrd；请另存为 .xlsx 后导入。") from None
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(f"文件 {path.name} 无法读取为旧版 Excel（.xls）工作簿：{exc}") from exc
    many = book.nsheets > 1
    for i in range(book.nsheets):
        sh = book.sheet_by_index(i)

        def records(sh=sh):
            for r in range(sh.nrows):
                cells = []
                for c in sh.row(r):
                    if c.ctype == xlrd.XL_CELL_DATE:
                        try:
                            cells.append(_cell(xlrd.xldate_as_datetime(c.value, book.datemode)))
                        except Exception:  # noqa: BLE001 - an impossible date stays a number
                            cells.append(_cell(c.value))
                    else:
                        cells.append(_cell(c.value))
                yield str(r + 1), cells, ""
        yield from _blocks(source, sh.name, records(), score, f"{sh.name}!" if many else "")
        book.unload_sheet(i)


# ---- JSON (an array of flat or nested objects, e.g. Open311 GeoReport v2) ----

def read_json(path: Path, source: Source, score) -> Iterator[Block]:
    import json
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"文件 {path.name} 不是有效的 JSON：{exc}") from None
    if isinstance(data, dict):  # {"service_requests": [...]} or one object
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if lists else [data]
    if not isinstance(data, list):
        raise ImportFailed(f"文件 {path.name} 的 JSON 不是对象数组。")
    objects = [d for d in data if isinstance(d, dict)]
    if len(objects) < len(data):
        source.notes.append(f"{len(data) - len(objects)} 个数组元素不是对象，已作为错误行记录。")
    flat = pd.json_normalize(objects) if objects else pd.DataFrame()
    headers = [str(c) for c in flat.columns]

    def records():
        yield "0", headers, ""
        for n, d in enumerate(data, start=1):
            if not isinstance(d, dict):
                yield str(n), [""] * len(headers), f"第 {n} 个元素不是对象：{str(d)[:60]}"
        for n, row in enumerate(flat.itertuples(index=False), start=1):
            yield str(n), [_cell(None if (isinstance(v, float) and v != v) else v) for v in row], ""
    yield from _blocks(source, "", records(), score)


def open_table(path: Path, score: Callable[[list[str]], int]) -> tuple[Source, Iterator[Block]]:
    """(what was found, the blocks): blocks are read lazily, notes grow while they are read."""
    path = Path(path)
    kind = sniff(path)
    source = Source(path, kind)
    reader = {"csv": read_text, "xlsx": read_xlsx, "xls": read_xls, "json": read_json}[kind]
    return source, reader(path, source, score)


def preview(path: Path, rows: int = 8) -> pd.DataFrame:
    """The first rows of a file as they are (no header detection): what the column-mapping step shows."""
    source, _ = open_table(Path(path), lambda r: 0)
    if source.kind == "json":
        import json
        flat = pd.json_normalize(json.loads(path.read_bytes().decode("utf-8-sig")))
        out = [list(flat.columns)] + [[_cell(v) for v in r] for r in flat.head(rows).itertuples(index=False)]
    elif source.kind == "csv":
        enc = _encoding(path)
        text = path.read_bytes()[: 1 << 16].decode("utf-8" if enc == "utf-8-sig" else enc, errors="replace")
        lines = text.lstrip("\ufeff").splitlines()[: rows + 1]
        out = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=_delimiter(lines)))
    elif source.kind == "xlsx":
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True, data_only=True)
        out = [[_cell(v) for v in r] for _, r in zip(range(rows + 1), wb.worksheets[0].iter_rows(values_only=True))]
        wb.close()
    else:
        import xlrd
        sh = xlrd.open_workbook(str(path)).sheet_by_index(0)
        out = [[_cell(c.value) for c in sh.row(r)] for r in range(min(rows + 1, sh.nrows))]
    width = max((len(r) for r in out), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in out])
