"""Importing cases from CSV/Excel: good rows land, bad rows are quarantined with reasons, updates replace,
rollups stay equal to a rebuild from scratch, and broken files get one clear Chinese message."""
import pandas as pd
import pytest
from sqlalchemy import text

from data_access import rollup
from data_access.importer import ImportFailed, import_cases

from .test_queries import _rollup_from_scratch


def _grid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT MIN(code) FROM grids")).scalar()


def _rows(grid):
    return pd.DataFrame([
        {"事件编号": "IMP-1", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid, "上报时间": "2026-03-05 09:00",
         "办结时间": "2026-03-06 09:00", "办理时限": "2026-03-10 00:00", "状态": "已办结", "化解层级": "村",
         "满意度": "满意", "事件描述": "夜间噪音扰民", "联系电话": "13812341234"},
        {"事件编号": "IMP-2", "事件类别": "安全隐患", "事件来源": "网格员上报", "网格编码": grid, "上报时间": "2026/04/01 10:30",
         "办结时间": "", "办理时限": "2026-04-04", "状态": "处置中", "化解层级": "", "满意度": "", "事件描述": "", "联系电话": ""},
        {"事件编号": "IMP-3", "事件类别": "治安", "事件来源": "12345热线", "网格编码": "999999999999999", "上报时间": "2026-03-05",
         "办结时间": "", "办理时限": "2026-03-10", "状态": "", "化解层级": "", "满意度": "", "事件描述": "", "联系电话": ""},
        {"事件编号": "IMP-4", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid, "上报时间": "不是时间",
         "办结时间": "", "办理时限": "2026-03-10", "状态": "", "化解层级": "", "满意度": "", "事件描述": "", "联系电话": ""},
        {"事件编号": "IMP-5", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid, "上报时间": "2026-03-05",
         "办结时间": "2026-03-01", "办理时限": "2026-03-10", "状态": "已办结", "化解层级": "村", "满意度": "很好",
         "事件描述": "", "联系电话": ""},
    ])


@pytest.fixture
def cleanup(small_db):
    engine, _ = small_db
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id LIKE 'IMP-%'"))
        rollup.refresh(conn, [202603, 202604])


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gb18030", "xlsx"])
def test_import_lands_good_rows_and_quarantines_bad_ones(cleanup, tmp_path, fmt):
    engine = cleanup
    rows = _rows(_grid(engine))
    path = tmp_path / ("cases.xlsx" if fmt == "xlsx" else "cases.csv")
    if fmt == "xlsx":
        rows.to_excel(path, index=False)
    else:
        rows.to_csv(path, index=False, encoding="utf-8-sig" if fmt == "csv-utf8" else "gb18030")
    report = import_cases(engine, path)
    assert (report.inserted, report.updated, report.rejected) == (2, 0, 3)
    assert report.months == (202603, 202604)
    bad = pd.read_csv(report.quarantine, dtype=str, encoding="utf-8-sig")
    assert list(bad["事件编号"]) == ["IMP-3", "IMP-4", "IMP-5"]
    assert list(bad["行号"]) == ["4", "5", "6"]
    assert "网格编码「999999999999999」不存在" in bad["错误原因"].iloc[0] and "上报时间「不是时间」不是有效时间" in bad["错误原因"].iloc[1]
    assert "办结时间早于上报时间" in bad["错误原因"].iloc[2]
    with engine.connect() as conn:
        one = dict(conn.execute(text("SELECT * FROM cases WHERE id = 'IMP-1'")).mappings().one())
        two = dict(conn.execute(text("SELECT * FROM cases WHERE id = 'IMP-2'")).mappings().one())
        incremental = _rollup_from_scratch(conn)
    assert (one["status"], one["satisfaction"], one["resolution_level"], one["on_time"]) == ("closed", 3, "村", 1)
    assert one["close_hours"] == 24 and one["month"] == 202603 and one["day"] == 20260305
    assert (two["status"], two["closed_at"], two["on_time"]) == ("dispatched", None, None)
    with engine.begin() as conn:
        rollup.refresh(conn)
        pd.testing.assert_frame_equal(incremental, _rollup_from_scratch(conn))


def test_reimport_updates_rows_and_moves_their_month(cleanup, tmp_path):
    engine = cleanup
    rows = _rows(_grid(engine)).iloc[:2]
    path = tmp_path / "a.csv"
    rows.to_csv(path, index=False)
    import_cases(engine, path)
    rows.loc[1, ["上报时间", "办结时间", "办理时限", "状态", "化解层级"]] = ["2026-03-20 08:00", "2026-03-21 08:00",
                                                                "2026-03-25", "已办结", "镇"]
    rows.to_csv(path, index=False)
    report = import_cases(engine, path)
    # IMP-1 is as stored (unchanged), IMP-2 changed (updated)
    assert (report.inserted, report.updated, report.rejected, report.unchanged, report.quarantine) == (0, 1, 0, 1, None)
    assert report.months == (202603, 202604)  # April lost the case, March gained it: both refreshed
    with engine.begin() as conn:
        status = conn.execute(text("SELECT status FROM cases WHERE id = 'IMP-2'")).scalar()
        incremental = _rollup_from_scratch(conn)
        rollup.refresh(conn)
        pd.testing.assert_frame_equal(incremental, _rollup_from_scratch(conn))
    assert status == "closed"


def test_data_version_moves_on_import(cleanup, tmp_path):
    from data_access import meta
    engine = cleanup
    with engine.connect() as conn:
        before = meta.version(conn)
    path = tmp_path / "a.csv"
    _rows(_grid(engine)).iloc[:1].to_csv(path, index=False)
    import_cases(engine, path)
    with engine.connect() as conn:
        assert meta.version(conn) == before + 1


def test_broken_files_are_one_clear_message(small_sqlite, tmp_path):
    missing = tmp_path / "missing.csv"
    with pytest.raises(ImportFailed, match="不存在"):
        import_cases(small_sqlite, missing)
    no_cols = tmp_path / "wrong.csv"
    pd.DataFrame({"名称": ["x"]}).to_csv(no_cols, index=False)
    with pytest.raises(ImportFailed, match="找不到可识别的表头"):
        import_cases(small_sqlite, no_cols)
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"\x00\x01not an excel file")
    with pytest.raises(ImportFailed, match="garbage.xlsx"):
        import_cases(small_sqlite, garbage)


def test_cli_imports_a_file_and_reports_counts(cleanup, tmp_path, capsys):
    from data_access.__main__ import main
    engine = cleanup
    path = tmp_path / "cases.csv"
    _rows(_grid(engine)).to_csv(path, index=False, encoding="gb18030")
    assert main(["import", str(path), "--database-url", engine.url.render_as_string(hide_password=False)]) == 0
    out = capsys.readouterr().out
    assert "新增 2 条，更新 0 条，拒绝 3 条" in out and ".rejected." in out
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cases WHERE id LIKE 'IMP-%'")).scalar() == 2


def test_cli_bad_file_is_one_chinese_line(small_sqlite, tmp_path, capsys):
    from data_access.__main__ import main
    missing = tmp_path / "nope.csv"
    assert main(["import", str(missing), "--database-url", str(small_sqlite.url)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and "nope.csv 不存在" in err and "Traceback" not in err
