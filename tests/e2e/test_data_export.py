"""数据查询导出 in a real browser: the total equals the database count, paging works by touch-sized buttons,
and the XLSX and CSV downloads hold exactly the filtered rows (masked by default)."""
import datetime as dt
import io
import re

import openpyxl
import pandas as pd
import pytest

from data_access import case_list
from data_access.case_list import CaseQuery
from data_access.view import View

from .conftest import open_app, shoot, wait_ready

COUNTY = "331127000000"
PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}
VIEW = View(COUNTY, dt.date(2026, 1, 1), dt.date(2026, 10, 31))
VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080}, "1024x768": {"width": 1024, "height": 768}}


def db_count(engine, **kw) -> int:
    with engine.connect() as conn:
        return case_list.count(conn, CaseQuery(VIEW, dt.datetime.now().replace(second=0, microsecond=0), **kw))


def open_data_page(page):
    """Open the app on the county, then the page from the sidebar navigation (as people do)."""
    open_app(page, "", region=COUNTY, **PERIOD)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="数据查询导出").click()
    page.wait_for_function("() => location.pathname.endsWith('/data')", timeout=20000)
    wait_ready(page)
    page.get_by_text("本页筛选").wait_for()


def shown_total(page) -> int:
    text = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile(r"共 .* 条事件")).first.inner_text()
    return int(re.search(r"共\s*([\d,]+)\s*条事件", text).group(1).replace(",", ""))


def download(page, label: str):
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    dl = info.value
    return dl.suggested_filename, open(dl.path(), "rb").read()


@pytest.mark.parametrize("viewport", list(VIEWPORTS.values()), ids=list(VIEWPORTS))
def test_filter_count_and_downloads(page, small_sqlite, viewport):
    open_data_page(page)
    assert shown_total(page) == db_count(small_sqlite)

    # a free-text filter on the description, entered like a person would
    box = page.get_by_label("事件描述关键词")
    box.fill("消防")
    box.press("Enter")
    wait_ready(page)
    want = db_count(small_sqlite, text="消防")
    page.wait_for_function(f"() => document.body.innerText.includes('共 {want:,} 条事件')", timeout=20000)
    assert 0 < want == shown_total(page) < db_count(small_sqlite)
    size = f"{viewport['width']}x{viewport['height']}"
    shoot(page, f"data_export_{COUNTY}_{size}")

    # XLSX: every filtered row, Chinese headers, the filters recorded on the second sheet
    name, body = download(page, "导出 Excel")
    assert name == "景宁畲族自治县_2026-01-01至2026-10-31_事件明细.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    rows = list(wb["事件明细"].iter_rows(values_only=True))
    assert rows[0][:3] == ("事件编号", "上报时间", "事件类别")
    assert len(rows) - 1 == want
    assert all("消防" in r[rows[0].index("事件描述")] for r in rows[1:])
    assert isinstance(rows[1][1], dt.datetime)
    info = dict(wb["导出说明"].iter_rows(values_only=True))
    assert info["描述关键词"] == "消防" and info["行数"] == want and info["个人信息"] == "已脱敏"

    # CSV (UTF-8 with BOM): the same rows; phone numbers masked
    name, body = download(page, "导出 CSV（UTF-8）")
    assert name.endswith("_事件明细.csv") and body.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str)
    assert len(df) == want
    assert set(df["事件编号"]) == {r[0] for r in rows[1:]}
    assert not df["联系电话"].str.fullmatch(r"1\d{10}").any()
    assert df["联系电话"].str.fullmatch(r"1\d\d\*{4}\d{4}").all()


def test_paging_and_overdue_only(page, small_sqlite):
    open_data_page(page)
    total = db_count(small_sqlite)
    pages = -(-total // 50)
    assert page.get_by_text(f"第 1 / {pages} 页").count() == 1
    nxt = page.get_by_role("button", name="下一页")
    box = nxt.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # usable by touch
    nxt.click()
    wait_ready(page)
    page.get_by_text(f"第 2 / {pages} 页").wait_for()
    page.get_by_role("button", name="末页").click()
    wait_ready(page)
    page.get_by_text(f"第 {pages} / {pages} 页").wait_for()
    # only 50 rows a page reach the browser: the grid reports its row count
    assert page.locator('[data-testid="stDataFrame"]').count() == 1

    page.get_by_text("仅看逾期未办结").click()
    wait_ready(page)
    want = db_count(small_sqlite, overdue_only=True)
    page.wait_for_function(f"() => document.body.innerText.includes('共 {want:,} 条事件')", timeout=20000)
    assert page.get_by_text(f"第 1 / {max(1, -(-want // 50))} 页").count() == 1  # filters reset the page
    name, body = download(page, "导出 CSV（GB18030）")
    df = pd.read_csv(io.BytesIO(body), encoding="gb18030", dtype=str)
    assert len(df) == want and (df["是否逾期"] == "是").all() and (df["状态"] != "已办结").all()
