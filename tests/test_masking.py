"""Issue 14: personal data in every common shape is masked, in its own column and inside free text.

Pure tests (no database): the shapes an attacker or a careless clerk writes, and what must come out.
The database and browser sides are in tests/test_hardening_db.py and tests/e2e/test_hardening.py.
"""
from __future__ import annotations

import pandas as pd
import pytest

from exports.safety import mask_name, mask_phone, mask_text, sanitize_frame, sanitize_raw_frame
from exports.tables import PERSONAL, safe_cases

PHONE_SHAPES = [
    ("电话13812341234。", "电话138****1234。"),
    ("电话138.1234.1234", "电话138.****.1234"),
    ("电话138 1234 1234", "电话138 **** 1234"),
    ("电话138-1234-1234", "电话138-****-1234"),
    ("联系+86 138 1234 1234", "联系+86 138 **** 1234"),
    ("联系+8613812341234", "联系+86138****1234"),
    ("(+86)13812341234", "(+86)138****1234"),
    ("0086-138-1234-1234", "0086-138-****-1234"),
    ("手机１３８１２３４１２３４", "手机１３８****１２３４"),          # full-width digits
    ("手机１３８－１２３４－１２３４", "手机１３８－****－１２３４"),
    ("手机＋８６　１３８　１２３４　１２３４", "手机＋８６　１３８　****　１２３４"),
    ("座机0578-2123456", "座机0578-***3456"),
    ("座机0578 212 3456", "座机0578 *** 3456"),
    ("座机（0578）2123456", "座机（0578）***3456"),
    ("座机０５７８－２１２３４５６", "座机０５７８－***３４５６"),
]


@pytest.mark.parametrize("raw, masked", PHONE_SHAPES)
def test_phones_in_free_text_in_every_shape(raw, masked):
    assert mask_text(raw) == masked


@pytest.mark.parametrize("raw, masked", [
    ("身份证331102199001011234", "身份证331102********1234"),
    ("证件33110219900101123x。", "证件331102********123x。"),
    ("旧证331102900101123", "旧证331102*****1123"),                 # 15-digit
    ("证件３３１１０２１９９００１０１１２３４", "证件３３１１０２********１２３４"),
])
def test_id_numbers_in_free_text(raw, masked):
    assert mask_text(raw) == masked


@pytest.mark.parametrize("raw", [
    "案件号20250101000123，金额12000元", "2025-03-01 13:00处理", "共 1,234 件，办结率 98.5%", "SJ202510010000123",
])
def test_ordinary_numbers_stay(raw):
    assert mask_text(raw) == raw


def test_names_in_free_text():
    assert mask_text("欧阳娜娜反映楼上噪音") == "欧***反映楼上噪音"         # two-character surname
    assert mask_text("司马光来电") == "司***电"                          # when in doubt, one character too many
    assert mask_text("联系人：张三丰，电话13812341234") == "联系人：张**，电话138****1234"
    assert mask_text("姓名李四 地址不详") == "姓名李* 地址不详"
    assert mask_text("王五反映王五家漏水", names=("王五",)) == "王*反映王*家漏水"   # the row's own name


@pytest.mark.parametrize("raw, masked", [
    ("欧阳娜娜", "欧***"), ("司马 光", "司* *"), ("张三、李四", "张*、**"), ("１３８１２３４１２３４", "１**********"),
])
def test_name_field_whatever_its_shape(raw, masked):
    assert mask_name(raw) == masked


@pytest.mark.parametrize("raw", ["１３８１２３４１２３４", "138.1234.1234", "+86 138-1234-1234", "(+86) 138 1234 1234"])
def test_phone_field_shapes(raw):
    assert mask_phone(raw) == "138****1234"


def test_case_exports_mask_handling_unit_and_descriptions_with_the_rows_name():
    df = pd.DataFrame({
        "citizen_name": ["欧阳娜娜", "王五"], "citizen_phone": ["138 1234 1234", "１３９００００１１１１"],
        "description": ["欧阳娜娜反映噪音，电话138.1234.1234", "王五称身份证331102199001011234"],
        "handling_unit": ["莲都区信访局 联系13812341234", "=HYPERLINK(\"http://evil.example\")"],
    })
    out = sanitize_frame(df, PERSONAL)
    text = out.to_csv()
    for secret in ("欧阳娜娜", "王五", "1234 1234", "1234.1234", "13812341234", "１１１１", "19900101"):
        assert secret not in text
    assert out["handling_unit"].tolist() == ["莲都区信访局 联系138****1234", "'=HYPERLINK(\"http://evil.example\")"]
    assert out["description"][1] == "王*称身份证331102********1234"


def test_sanitize_raw_frame_by_chinese_headers():
    df = pd.DataFrame({"行号": [2], "错误原因": ["网格编码不存在"], "群众姓名": ["欧阳娜娜"], "联系电话": ["+86 138 1234 1234"],
                       "事件描述": ["=HYPERLINK(\"http://evil.example\",\"欧阳娜娜 13812341234\")"],
                       "网格编码": ["331102001001001"]})
    out = sanitize_raw_frame(df)
    assert out.iloc[0].tolist() == [2, "网格编码不存在", "欧***", "138****1234",
                                    "'=HYPERLINK(\"http://evil.example\",\"欧*** 138****1234\")", "331102001001001"]
    assert sanitize_raw_frame(df, unmask=True)["群众姓名"][0] == "欧阳娜娜"


def test_safe_cases_masks_what_the_data_page_shows():
    df = pd.DataFrame({"status": ["closed"], "overdue": [False], "is_major": [False], "satisfaction": [3],
                       "citizen_name": ["诸葛亮"], "citizen_phone": ["0578-2123456"],
                       "description": ["诸葛亮 电话０５７８－２１２３４５６"], "handling_unit": ["某单位"]})
    row = safe_cases(df).iloc[0]
    assert (row["citizen_name"], row["citizen_phone"]) == ("诸**", "0578-***3456")
    assert row["description"] == "诸** 电话０５７８－***３４５６"
    assert safe_cases(df, unmask=True).iloc[0]["citizen_name"] == "诸葛亮"


def test_export_notes_mask_the_search_text():
    import datetime as dt
    from data_access.case_list import CaseQuery
    from data_access.view import View
    from exports.tables import case_meta
    q = CaseQuery(View("331102000000", dt.date(2026, 1, 1), dt.date(2026, 1, 31)), dt.datetime(2026, 2, 1),
                  text="13812341234 欧阳娜娜")
    masked = dict(case_meta(q, "莲都区", unmask=False))
    assert "138****1234 欧***" in masked.values()
    assert "13812341234 欧阳娜娜" in dict(case_meta(q, "莲都区", unmask=True)).values()
