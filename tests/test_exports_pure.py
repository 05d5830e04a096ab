"""Exports without a database: masking, formula defusal, and XLSX/CSV files read back from disk."""
from __future__ import annotations

import datetime as dt
import io
import tracemalloc

import numpy as np
import openpyxl
import pandas as pd
import pytest

from exports import writers
from exports.safety import (
    defuse_formula, mask_id_number, mask_name, mask_phone, mask_text, sanitize_frame,
)
from exports.writers import (
    ColumnSpec, ExportTooLarge, display_width, export_filename, write_csv, write_xlsx,
)

COLUMNS = [
    ColumnSpec("case_id", "事件编号"),
    ColumnSpec("region", "所属区域"),
    ColumnSpec("received", "受理量", "int"),
    ColumnSpec("closure_rate", "办结率", "percent"),
    ColumnSpec("hours", "平均办结时长", "float"),
    ColumnSpec("reported_at", "上报时间", "datetime"),
    ColumnSpec("day", "日期", "date"),
    ColumnSpec("warning", "预警"),
]
WARNING_COLOURS = {"红": "#FF0000", "黄": "FFFF00", "绿": "#00B050"}


def frame(start: int = 0, n: int = 3) -> pd.DataFrame:
    """n rows; the third of every three has missing values everywhere but the id."""
    rows = []
    for i in range(start, start + n):
        full = i % 3 != 2
        rows.append({
            "case_id": f"SJ{i:06d}",
            "region": ["莲都区", "丽水市经济技术开发区"][i % 2] if full else None,
            "received": i if full else None,
            "closure_rate": 0.912 if full else np.nan,
            "hours": 12.5 if full else np.nan,
            "reported_at": pd.Timestamp("2025-03-01 08:30:15") + pd.Timedelta(hours=i) if full else pd.NaT,
            "day": dt.date(2025, 3, 1) if full else None,
            "warning": ["红", "黄", None][i % 3],
        })
    return pd.DataFrame(rows)


def read_xlsx(path):
    wb = openpyxl.load_workbook(path)
    return wb, wb.worksheets[0]


# --- masking -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, masked", [
    ("13812341234", "138****1234"),
    (" 138-1234-1234 ", "138****1234"),
    ("+86 138 1234 1234", "138****1234"),
    (13812341234, "138****1234"),
    (13812341234.0, "138****1234"),          # read from a numeric column with NaN
    ("0578-2123456", "0578-***3456"),        # Lishui landline: area code and last 4 kept
    ("(0578)2123456", "0578-***3456"),
    ("05782123456", "0578-***3456"),
    ("010-12345678", "010-****5678"),        # 3-digit area code
    ("2123456", "***3456"),                  # local number without area code
    ("110", "***"),
    ("12345", "****5"),
    ("不详", "**"),                          # odd strings are starred, not passed through
    ("13812341234/0578-2123456", "138****1234/0578-***3456"),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_masks_pass_missing_values_through(missing):
    for mask in (mask_phone, mask_name, mask_id_number, mask_text):
        assert mask(missing) is missing


def test_mask_name_and_id():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳小明") == "欧***"
    assert mask_name(" 李四 ") == "李*"
    assert mask_id_number("331102199001011234") == "331102********1234"
    assert mask_id_number("33110219900101123X") == "331102********123X"
    assert mask_id_number("331102900101123") == "331102*****1123"   # old 15-digit number
    assert "1234" not in mask_id_number("12345678")                 # not ID-shaped: starred


def test_mask_text_finds_numbers_in_descriptions():
    text = "张三（身份证331102199001011234，电话13812341234、0578-2123456）反映欠薪12000元，案件号20250101000123，2025-03-01处理"
    assert mask_text(text) == (
        "张三（身份证331102********1234，电话138****1234、0578-***3456）反映欠薪12000元，"
        "案件号20250101000123，2025-03-01处理"
    )


def test_sanitize_frame_masks_by_kind_and_defuses():
    df = pd.DataFrame({
        "name": ["张三", "欧阳小明", None],
        "phone": ["13812341234", "0578-2123456", None],
        "id": ["331102199001011234", None, "331102199001011234"],
        "desc": ["=HYPERLINK(\"http://x\") 电话13812341234", "正常", None],
        "received": [-1, 2, 3],
    })
    out = sanitize_frame(df, {"name": "name", "phone": "phone", "id": "id", "desc": "text", "absent": "name"})
    assert out["name"].tolist()[:2] == ["张*", "欧***"]
    assert out["phone"].tolist()[:2] == ["138****1234", "0578-***3456"]
    assert out["id"][0] == "331102********1234"
    assert out["desc"][0] == "'=HYPERLINK(\"http://x\") 电话138****1234"
    assert out[["name", "phone", "id", "desc"]].isna().sum().tolist() == [1, 1, 1, 1]
    assert out["received"].tolist() == [-1, 2, 3] and out["received"].dtype == df["received"].dtype
    assert df["name"][0] == "张三"                                   # the input is not modified

    kept = sanitize_frame(df, {"name": "name", "desc": "text"}, unmask=True)
    assert kept["name"][0] == "张三"
    assert kept["desc"][0].startswith("'=HYPERLINK")                  # defused even when unmasked
    with pytest.raises(ValueError, match="未知"):
        sanitize_frame(df, {"name": "surname"})


def test_sanitize_frame_vectorised_matches_scalar_masks():
    phones = ["13812341234", " 139 0000 1111", "0578-2123456", "110", None, "不详", "8613812341234"]
    names = ["张三", "欧阳小明", "阿卜杜·热合曼", "", None, "李", " 王五"]
    for dtype in ("str", object):
        df = pd.DataFrame({"phone": phones, "name": names}, dtype=dtype)
        out = sanitize_frame(df, {"phone": "phone", "name": "name"})
        assert out["phone"].tolist()[:4] == [mask_phone(p) for p in phones[:4]]
        assert out["phone"].tolist()[5:] == [mask_phone(p) for p in phones[5:]]
        assert out["name"].tolist()[:4] == [mask_name(n) for n in names[:4]]
        assert out["name"].tolist()[5:] == [mask_name(n) for n in names[5:]]


# --- formula injection ---------------------------------------------------------------------

@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_defuse_formula_every_trigger(trigger):
    value = trigger + "cmd|'/C calc'!A0"
    assert defuse_formula(value) == "'" + value
    df = pd.DataFrame({"s": [value, "正常"], "o": pd.Series([value, 1], dtype=object)})
    out = sanitize_frame(df, {})
    assert out["s"].tolist() == ["'" + value, "正常"]
    assert out["o"].tolist() == ["'" + value, 1]


def test_defuse_formula_leaves_numbers_and_plain_text():
    assert defuse_formula(-5) == -5
    assert defuse_formula(-0.25) == -0.25
    assert defuse_formula(None) is None
    assert defuse_formula("莲都区=丽水") == "莲都区=丽水"
    df = pd.DataFrame({"i": [-1, -2], "f": [-0.5, np.nan]})
    pd.testing.assert_frame_equal(sanitize_frame(df, {}), df)


# --- XLSX ----------------------------------------------------------------------------------

def test_xlsx_round_trip(tmp_path):
    path = tmp_path / "out.xlsx"
    meta = [("地区", "丽水市"), ("时间段", "2025-01-01至2025-12-31"), ("导出时间", "2026-01-05 09:00")]
    n = write_xlsx(iter([frame()]), COLUMNS, path, sheet_name="事件明细", meta=meta,
                   fills={"warning": WARNING_COLOURS.get})
    assert n == 3

    wb, ws = read_xlsx(path)
    assert wb.sheetnames == ["事件明细", "导出说明"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:H4"

    first = [c.value for c in ws[2]]
    assert first[:5] == ["SJ000000", "莲都区", 0, 0.912, 12.5]
    assert first[5] == dt.datetime(2025, 3, 1, 8, 30, 15)
    assert first[6] == dt.datetime(2025, 3, 1)
    assert ws["D2"].number_format == "0.0%"
    assert ws["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["G2"].number_format == "yyyy-mm-dd"
    assert [c.value for c in ws[4]] == ["SJ000002"] + [None] * 7     # NaN/None/NaT → empty cells

    assert ws["H2"].fill.fgColor.rgb == "FFFF0000"                    # 红
    assert ws["H3"].fill.fgColor.rgb == "FFFFFF00"                    # 黄, given without '#'
    assert ws["H4"].fill.fill_type is None                            # no colour for a missing value
    assert ws["G2"].fill.fill_type is None                            # other columns untouched

    # CJK counts double: "丽水市经济技术开发区" (10 characters) needs ≥ 20 units.
    assert ws.column_dimensions["B"].width >= 20 > ws.column_dimensions["A"].width

    info = {row[0]: row[1] for row in wb["导出说明"].iter_rows(min_row=2, values_only=True)}
    assert info == {"地区": "丽水市", "时间段": "2025-01-01至2025-12-31",
                    "导出时间": "2026-01-05 09:00", "行数": 3}


def test_xlsx_text_is_never_a_formula(tmp_path):
    path = tmp_path / "f.xlsx"
    write_xlsx(iter([pd.DataFrame({"t": ["=1+1", "331102001001"]})]), [ColumnSpec("t", "文本")], path)
    _, ws = read_xlsx(path)
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["A3"].value == "331102001001"                            # region code stays text


def test_xlsx_multiple_chunks_to_file_object():
    buf = io.BytesIO()
    chunks = (frame(start, 4) for start in range(0, 12, 4))
    assert write_xlsx(chunks, COLUMNS, buf) == 12
    wb, ws = read_xlsx(io.BytesIO(buf.getvalue()))
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [f"SJ{i:06d}" for i in range(12)]
    assert ws.auto_filter.ref == "A1:H13"
    assert wb["导出说明"]["B2"].value == 12


def test_xlsx_empty_export_has_header_and_zero_rows(tmp_path):
    path = tmp_path / "empty.xlsx"
    assert write_xlsx(iter([]), COLUMNS, path) == 0
    wb, ws = read_xlsx(path)
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert wb["导出说明"]["B2"].value == 0


def test_xlsx_row_limit_raises_before_writing(tmp_path):
    path = tmp_path / "big.xlsx"
    too_many = pd.DataFrame({"received": np.zeros(writers.EXCEL_MAX_ROWS, dtype="int64")})
    with pytest.raises(ExportTooLarge, match="Excel 单个工作表上限"):
        write_xlsx(iter([too_many]), [ColumnSpec("received", "受理量", "int")], path)
    assert not path.exists()


def test_xlsx_row_limit_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "EXCEL_MAX_ROWS", 8)                  # 7 data rows fit
    path = tmp_path / "big.xlsx"
    with pytest.raises(ExportTooLarge, match="已写入 6 行"):
        write_xlsx((frame(s, 3) for s in range(0, 30, 3)), COLUMNS, path)
    assert not path.exists()


def test_xlsx_missing_column_is_reported_in_chinese():
    with pytest.raises(KeyError, match="缺少列"):
        write_xlsx(iter([frame()]), [*COLUMNS, ColumnSpec("grid", "网格")], io.BytesIO())
    with pytest.raises(ValueError):
        ColumnSpec("x", "X", "money")


# --- CSV -----------------------------------------------------------------------------------

def test_csv_utf8_bom_round_trip(tmp_path):
    path = tmp_path / "out.csv"
    assert write_csv((frame(s, 3) for s in (0, 3)), COLUMNS, path) == 6
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\xef\xbb\xbf") == 1                           # one BOM, not one per chunk
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(df.columns) == [c.header for c in COLUMNS]
    assert df["事件编号"].tolist() == [f"SJ{i:06d}" for i in range(6)]
    assert df.loc[0, "上报时间"] == "2025-03-01 08:30:15"
    assert df.loc[0, "日期"] == "2025-03-01"
    assert df.loc[1, "受理量"] == "1"                                 # ints stay ints, not 1.0
    assert df.loc[2].tolist()[1:] == [""] * 7


def test_csv_gb18030_and_file_object():
    buf = io.BytesIO()
    assert write_csv(iter([frame()]), COLUMNS, buf, encoding="gb18030") == 3
    assert not buf.closed                                             # the caller's file stays open
    raw = buf.getvalue()
    assert not raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(raw), encoding="gb18030")
    assert df.columns[1] == "所属区域" and df.loc[1, "所属区域"] == "丽水市经济技术开发区"


def test_csv_of_sanitized_chunks_is_defused(tmp_path):
    path = tmp_path / "d.csv"
    df = pd.DataFrame({"desc": ["=HYPERLINK(\"http://x\",\"点击\")", "-2+3", "电话13812341234"]})
    write_csv(iter([sanitize_frame(df, {"desc": "text"})]), [ColumnSpec("desc", "描述")], path)
    back = pd.read_csv(path, encoding="utf-8-sig")["描述"].tolist()
    assert back == ["'=HYPERLINK(\"http://x\",\"点击\")", "'-2+3", "电话138****1234"]


def test_csv_failure_leaves_no_partial_file(tmp_path):
    def chunks():
        yield frame()
        raise RuntimeError("数据库连接中断")

    path = tmp_path / "partial.csv"
    with pytest.raises(RuntimeError):
        write_csv(chunks(), COLUMNS, path)
    assert not path.exists()


# --- names ---------------------------------------------------------------------------------

def test_export_filename():
    assert export_filename("丽水市", dt.date(2025, 1, 1), "2025-12-31", "事件明细", "xlsx") == \
        "丽水市_2025-01-01至2025-12-31_事件明细.xlsx"
    name = export_filename('莲都区/紫金街道:"A"*?', pd.Timestamp("2025-01-01"),
                           dt.datetime(2025, 2, 1, 13), "平安报表<|>", ".csv")
    assert name == "莲都区紫金街道A_2025-01-01至2025-02-01_平安报表.csv"
    assert display_width("丽水市ab") == 8


# --- bounded memory ------------------------------------------------------------------------

def _peak_bytes(write, n_chunks: int, rows: int) -> int:
    def chunks():
        for k in range(n_chunks):
            rng = np.random.default_rng(k)
            yield pd.DataFrame({
                "case_id": [f"SJ{k:03d}{i:07d}" for i in range(rows)],
                "region": rng.choice(["莲都区", "青田县", "缙云县"], rows).astype(object),
            })
    tracemalloc.start()
    try:
        assert write(chunks()) == n_chunks * rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_many_chunks_stay_in_bounded_memory(tmp_path):
    """Peak traced memory for 8 chunks stays near the peak for one: nothing accumulates.

    Holding all 80,000 rows would take ~8× a chunk; the bound is 3× a one-chunk export.
    Two text columns only: strings are what would pile up, and tracemalloc slows xlsxwriter's
    per-cell work about fourfold. (500,000 real rows: benchmarks/export_bench.py.)
    """
    cols = [ColumnSpec("case_id", "事件编号"), ColumnSpec("region", "所属区域")]
    xlsx = lambda chunks: write_xlsx(chunks, cols, tmp_path / "m.xlsx")  # noqa: E731
    csv = lambda chunks: write_csv(chunks, cols, tmp_path / "m.csv")     # noqa: E731
    for write in (xlsx, csv):
        one = _peak_bytes(write, 1, 10_000)
        eight = _peak_bytes(write, 8, 10_000)
        print(f"peak traced memory: one chunk {one / 1e6:.1f} MB, 80k rows {eight / 1e6:.1f} MB")
        assert eight < 3 * one
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True).worksheets[0]
    assert ws.max_row == 80_001
