"""A corpus of hostile case files, built here in tmp dirs: each with the counts and the reasons expected.

Nothing stops the import and nothing is lost: every row is inserted, updated, unchanged or rejected with a
reason in Chinese that names the file's own column; a file that is not a table at all is one clear message
and a 'failed' run on record. Runs on SQLite and PostgreSQL (``small_db``): lengths and NUL bytes behave
the same on both.
"""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from data_access import rollup
from data_access.imports import ImportFailed, import_cases
from data_access.imports import coords, runlog

HEAD = ["事件编号", "事件类别", "事件来源", "网格编码", "上报时间", "办理时限", "状态"]


@pytest.fixture
def db(small_db):
    engine, _ = small_db
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id LIKE 'BAD-%'"))
        conn.execute(text("UPDATE grids SET source_code = NULL WHERE source_code IS NOT NULL"))
        rollup.refresh(conn, [202603])


def _grid(engine, n=0):
    with engine.connect() as conn:
        return conn.execute(text("SELECT code, label_lon, label_lat FROM grids ORDER BY code")).all()[n]


def _row(i, grid, **kw):
    r = {"事件编号": f"BAD-{i}", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid,
         "上报时间": "2026-03-05 09:00", "办理时限": "2026-03-10 00:00", "状态": "处置中"}
    r.update(kw)
    return r


def _csv(path, rows, encoding="utf-8", sep=","):
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding, sep=sep)
    return path


def _check(rep, read, inserted, rejected, updated=0, unchanged=0):
    assert (rep.read, rep.inserted, rep.updated, rep.rejected, rep.unchanged) == (read, inserted, updated, rejected, unchanged)
    assert rep.read == rep.inserted + rep.updated + rep.rejected + rep.unchanged


def _reasons(engine, rep):
    with engine.connect() as conn:
        return runlog.rejects(conn, rep.run_id)


def _lines(rows, sep=","):
    return ("\n".join(sep.join(str(r.get(h, "")) for h in HEAD) for r in rows) + "\n")


def test_gb18030_with_one_invalid_byte_rejects_that_row_only(db, tmp_path):
    g = _grid(db)[0]
    body = (",".join(HEAD) + "\n" + _lines([_row(1, g, 事件类别="矛盾纠纷"), _row(2, g)])).encode("gb18030")
    body += _lines([_row(3, g)]).encode("gb18030").replace(b"BAD-3,", b"BAD-3\xff\xfe,", 1).replace(b"\xd6\xce", b"\xd6", 0)
    # a UTF-8 file with one broken byte in row 3
    path = tmp_path / "utf8.csv"
    path.write_bytes((",".join(HEAD) + "\n" + _lines([_row(1, g), _row(2, g)])).encode() + b"BAD-3,\xff\xe6\xb2\xbb\xe5,x\n"
                     + _lines([_row(4, g)]).encode())
    rep = import_cases(db, path)
    _check(rep, 4, 3, 1)
    bad = _reasons(db, rep)
    assert bad["行号"].tolist() == ["4"] and "含无法按 UTF-8 识别的字节" in bad["错误原因"][0]
    gb = tmp_path / "gb.csv"
    gb.write_bytes(body)
    rep = import_cases(db, gb)
    assert rep.details["encoding"] == "gb18030"


def test_truncated_last_character_and_last_row(db, tmp_path):
    g = _grid(db)[0]
    full = (",".join(HEAD) + "\n" + _lines([_row(1, g), _row(2, g, 状态="处置中")])).encode()
    cut = full.rstrip(b"\n")[:-2]  # the last character 中 (3 bytes) loses 2 bytes
    path = tmp_path / "cut.csv"
    path.write_bytes(cut)
    rep = import_cases(db, path)
    _check(rep, 2, 1, 1)
    assert "无法按 UTF-8 识别的字节" in _reasons(db, rep)["错误原因"][0]
    path.write_bytes(full + b"BAD-3,\xe6\xb2\xbb\xe5\xae\x89,12345\n")  # last row cut after 3 fields
    rep = import_cases(db, path)
    _check(rep, 3, 1, 1, unchanged=1)  # BAD-1 as stored; BAD-2, rejected before, now complete: inserted
    assert "只有 3 个字段，少于表头的 7 列" in _reasons(db, rep)["错误原因"][0]


def test_extra_fields_reject_the_row_only(db, tmp_path):
    g = _grid(db)[0]
    path = tmp_path / "extra.csv"
    path.write_text(",".join(HEAD) + "\n" + _lines([_row(1, g)]) + _lines([_row(2, g)]).rstrip("\n") + ",多余,值\n",
                    encoding="utf-8")
    rep = import_cases(db, path)
    _check(rep, 2, 1, 1)
    assert "本行有 9 个字段，多于表头的 7 列" in _reasons(db, rep)["错误原因"][0]


def test_tab_separated_with_a_title_row(db, tmp_path):
    g = _grid(db)[0]
    path = tmp_path / "tsv.txt"
    path.write_text("某县社会治理中心 2026 年 3 月事件台账\n\n" + "\t".join(HEAD) + "\n" + _lines([_row(1, g), _row(2, g)], "\t"),
                    encoding="utf-8")
    rep = import_cases(db, path)
    _check(rep, 2, 2, 0)
    assert any("第 1 行为标题行" in n for n in rep.notes)


def test_every_excel_sheet_is_read_or_named(db, tmp_path):
    g = _grid(db)[0]
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame([_row(1, g), _row(2, g)]).to_excel(w, sheet_name="三月上", index=False)
        pd.DataFrame([_row(3, g, 上报时间="2026-03-20 10:00", 办理时限="2026-03-25")]).to_excel(w, sheet_name="三月下", index=False)
        pd.DataFrame({"说明": ["本表由某系统导出", "联系人 张三"]}).to_excel(w, sheet_name="说明", index=False)
        pd.DataFrame().to_excel(w, sheet_name="空表", index=False)
    rep = import_cases(db, path)
    _check(rep, 3, 3, 0)
    assert any("工作表「说明」中找不到可识别的表头，已跳过" in n for n in rep.notes)
    assert any("工作表「空表」为空" in n for n in rep.notes)


def test_old_xls(db, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    g = _grid(db)[0]
    path = tmp_path / "old.xls"
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    for c, h in enumerate(HEAD):
        ws.write(0, c, h)
    for r, row in enumerate([_row(1, g), _row(2, g)], start=1):
        for c, h in enumerate(HEAD):
            ws.write(r, c, row[h])
    wb.save(str(path))
    rep = import_cases(db, path)
    _check(rep, 2, 2, 0)


def test_iso_times_with_zones_serial_dates_mixed_formats_full_width(db, tmp_path):
    g = _grid(db)[0]
    fw = g.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [_row(1, g, 上报时间="2026-03-05T01:00:00Z"), _row(2, g, 上报时间="2026-03-05T09:00:00+08:00"),
            _row(3, g, 上报时间="46086.375"), _row(4, g, 上报时间="2026/3/5 9:00"),
            _row(5, g, 上报时间="2026年3月5日 9时00分"), _row(6, fw, 上报时间="2026.03.05 09:00"),
            _row(7, g + ".0", 上报时间="2026-03-05 09:00")]
    rep = import_cases(db, _csv(tmp_path / "times.csv", rows))
    _check(rep, 7, 7, 0)
    with db.connect() as conn:
        got = dict(conn.execute(text("SELECT id, reported_at FROM cases WHERE id LIKE 'BAD-%'")).all())
    assert {str(pd.Timestamp(t)) for t in got.values()} == {"2026-03-05 09:00:00"}


def test_values_out_of_range_and_too_long_rejected_on_both_databases(db, tmp_path):
    g = _grid(db)[0]
    rows = [_row(1, g, 上报时间="0001-01-01 00:00"), _row(2, g, 办理时限="9999-12-31 00:00"),
            _row(3, g, 事件类别="类" * 17), _row(4, g, 事件编号="BAD-" + "9" * 40),
            _row(5, g, 事件来源="12345\x00热线"), _row(6, g, 承办单位="单位" * 40), _row(7, g)]
    rep = import_cases(db, _csv(tmp_path / "range.csv", rows))
    _check(rep, 7, 1, 6)
    why = _reasons(db, rep)["错误原因"].tolist()
    assert why[0] == "上报时间「0001-01-01 00:00」超出合理范围（1990–2027 年）"
    assert why[1].startswith("办理时限「9999-12-31 00:00」超出合理范围")
    assert why[2] == "事件类别 长度 17 超过 16 个字符"
    assert why[3] == "事件编号 长度 44 超过 32 个字符"
    assert why[4] == "事件来源 含空字符（NUL），该行可能已损坏"
    assert why[5] == "承办单位 长度 80 超过 64 个字符"


def test_coordinates_infinite_or_outside_china(db, tmp_path):
    g = _grid(db)[0]
    rows = [_row(1, g, 经度="inf", 纬度="28.4"), _row(2, g, 经度="200", 纬度="28.4"),
            _row(3, g, 经度="abc", 纬度="28.4"), _row(4, g, 经度="119.9", 纬度="")]
    rep = import_cases(db, _csv(tmp_path / "xy.csv", rows))
    _check(rep, 4, 0, 4)
    why = _reasons(db, rep)["错误原因"].tolist()
    assert why == ["经度「inf」不是有限数值", "经度/纬度（200, 28.4）不在中国范围内", "经度「abc」不是数字", "经度与纬度须同时填写"]


def test_duplicate_header_synonyms_zero_width_and_duplicate_ids(db, tmp_path):
    g = _grid(db)[0]
    path = tmp_path / "syn.csv"
    head = HEAD + ["类别"]
    lines = [",".join(head),
             ",".join(["BAD-1", "", "12345热线", g, "2026-03-05 09:00", "2026-03-10", "处置中", "治安"]),
             ",".join(["BAD-2", "治安\u200b", "12345热线", g, "2026-03-05 09:00", "2026-03-10", "处置中", ""]),
             ",".join(["BAD-3", "治安", "12345热线", g, "2026-03-05 09:00", "2026-03-10", "处置中", "矛盾纠纷"]),
             ",".join(["BAD-1", "治安", "12345热线", g, "2026-03-06 09:00", "2026-03-10", "处置中", ""])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = import_cases(db, path)
    _check(rep, 4, 2, 2)
    why = _reasons(db, rep)["错误原因"].tolist()
    assert why == ["事件类别「治安」与类别「矛盾纠纷」不一致", "事件编号「BAD-1」与第 2 行重复（保留先出现的一行）"]
    assert any("事件类别 中 1 个值含零宽字符" in n for n in rep.notes)
    with db.connect() as conn:
        assert conn.execute(text("SELECT category FROM cases WHERE id = 'BAD-2'")).scalar() == "治安"


def test_grid_codes_scientific_or_without_leading_zeros(db, tmp_path):
    g = _grid(db)[0]
    with db.begin() as conn:
        conn.execute(text("UPDATE grids SET source_code = '000123' WHERE code = :c"), {"c": g})
    rows = [_row(1, "123"), _row(2, "3.31102E+14"), _row(3, "000123"), _row(4, "999")]
    rep = import_cases(db, _csv(tmp_path / "codes.csv", rows))
    _check(rep, 4, 2, 2)
    why = _reasons(db, rep)["错误原因"].tolist()
    assert why == ["网格编码「3.31102E+14」被写成了科学计数法，位数已丢失", "网格编码「999」不存在"]
    with db.connect() as conn:
        assert set(conn.execute(text("SELECT grid_code FROM cases WHERE id LIKE 'BAD-%'")).scalars()) == {g}


def test_points_place_cases_in_grids(db, tmp_path):
    g0, lon0, lat0 = _grid(db, 0)
    g1, lon1, lat1 = _grid(db, 5)
    glon, glat = coords.wgs84_to_gcj02(lon0, lat0)
    rows = [_row(1, "", 经度=f"{glon:.7f}", 纬度=f"{glat:.7f}"),  # GCJ-02 point, no code: placed by point
            _row(2, g1, 经度=f"{glon:.7f}", 纬度=f"{glat:.7f}"),  # code and point disagree: by code, listed
            _row(3, "", 经度="100.0", 纬度="30.0")]  # in China, outside the city
    rep = import_cases(db, _csv(tmp_path / "pts.csv", rows), coords="gcj02")
    _check(rep, 3, 2, 1)
    assert _reasons(db, rep)["错误原因"][0] == "经度/纬度（100.0, 30.0）不在本市任何网格内"
    assert rep.details["mismatch_count"] == 1 and rep.details["mismatches"][0]["id"] == "BAD-2"
    with db.connect() as conn:
        got = dict(conn.execute(text("SELECT id, grid_code FROM cases WHERE id LIKE 'BAD-%'")).all())
        lon = conn.execute(text("SELECT lon FROM cases WHERE id = 'BAD-1'")).scalar()
    assert got == {"BAD-1": g0, "BAD-2": g1}
    assert abs(lon - lon0) < 1e-6  # stored in WGS84


def test_reimport_changes_nothing_and_older_versions_do_not_overwrite(db, tmp_path):
    g = _grid(db)[0]
    path = _csv(tmp_path / "v.csv", [_row(1, g, 更新时间="2026-03-06 10:00"), _row(2, g, 更新时间="2026-03-06 10:00")])
    _check(import_cases(db, path), 2, 2, 0)
    with db.connect() as conn:
        before = conn.execute(text("SELECT * FROM cases WHERE id LIKE 'BAD-%' ORDER BY id")).all()
        version = conn.execute(text("SELECT value FROM meta WHERE key = 'data_version'")).scalar()
    _check(import_cases(db, path), 2, 0, 0, unchanged=2)
    newer = _csv(tmp_path / "n.csv", [_row(1, g, 状态="已办结", 办结时间="2026-03-07 10:00", 更新时间="2026-03-07 10:00"),
                                      _row(2, g, 状态="已办结", 办结时间="2026-03-07 10:00", 更新时间="2026-03-05 10:00")])
    rep = import_cases(db, newer)
    _check(rep, 2, 0, 1, updated=1)
    assert _reasons(db, rep)["错误原因"][0].startswith("库中已有更新的版本")
    with db.connect() as conn:
        after = dict(conn.execute(text("SELECT id, status FROM cases WHERE id LIKE 'BAD-%'")).all())
    assert after == {"BAD-1": "closed", "BAD-2": "dispatched"}
    assert len(before) == 2 and int(version) >= 1


@pytest.mark.parametrize("name, body, message", [
    ("empty.csv", b"", "是空文件"),
    ("zip.csv", None, "实际是 ZIP 压缩包"),
    ("image.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(40), "实际是PNG 图片"),
    ("notable.csv", "名称,数量\n甲,1\n".encode(), "找不到可识别的表头"),
    ("cols.csv", "事件编号,事件类别,网格编码\nBAD-1,治安,1\n".encode(), "缺少必填列：事件来源、上报时间、办理时限"),
])
def test_files_that_are_not_tables_fail_on_record(small_sqlite, tmp_path, name, body, message):
    path = tmp_path / name
    if body is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("cases.csv", "a,b\n")
    else:
        path.write_bytes(body)
    with pytest.raises(ImportFailed, match=message):
        import_cases(small_sqlite, path, user="张三")
    with small_sqlite.connect() as conn:
        last = runlog.runs(conn, 1).iloc[0]
    assert (last["status"], last["file_name"], last["actor"]) == ("failed", name, "张三") and message in last["message"]


def test_header_only_and_utf16(db, tmp_path):
    path = tmp_path / "head.csv"
    path.write_text(",".join(HEAD) + "\n", encoding="utf-8")
    _check(import_cases(db, path), 0, 0, 0)
    g = _grid(db)[0]
    u16 = tmp_path / "u16.csv"
    u16.write_text(",".join(HEAD) + "\n" + _lines([_row(1, g)]), encoding="utf-16")
    _check(import_cases(db, u16), 1, 1, 0)


def test_run_log_and_quarantine_are_masked(db, tmp_path):
    g = _grid(db)[0]
    rows = [_row(1, g, 联系电话="13812341234", 群众姓名="欧阳小明"),
            _row(2, "000", 联系电话="13812341234", 群众姓名="欧阳小明", 事件描述="=HYPERLINK(\"x\")")]
    rep = import_cases(db, _csv(tmp_path / "p.csv", rows), user="importer1")
    _check(rep, 2, 1, 1)
    q = pd.read_csv(rep.quarantine, dtype=str, encoding="utf-8-sig")
    assert q["联系电话"][0] == "138****1234" and q["群众姓名"][0] == "欧***" and q["事件描述"][0].startswith("'=")
    with db.connect() as conn:
        run = runlog.run(conn, rep.run_id)
        stored = runlog.rejects(conn, rep.run_id)
    assert (run["actor"], run["rows_read"], run["inserted"], run["rejected"], run["status"]) == ("importer1", 2, 1, 1, "ok")
    assert len(run["sha256"]) == 64 and run["details"]["personal"] == {"事件描述": "text", "群众姓名": "name", "联系电话": "phone"}
    assert stored["联系电话"][0] == "13812341234"  # kept as it was in the database; masked when it leaves


def test_row_filter_is_one_place_to_narrow(db, tmp_path):
    g = _grid(db)[0]
    path = _csv(tmp_path / "f.csv", [_row(1, g), _row(2, g)])
    rep = import_cases(db, path, row_filter=lambda good: good["id"].map(lambda i: "不在本县范围" if i == "BAD-2" else ""))
    _check(rep, 2, 1, 1)
    assert _reasons(db, rep)["错误原因"].tolist() == ["不在本县范围"]


def test_saved_mapping_reads_unknown_headers(db, tmp_path):
    g = _grid(db)[0]
    df = pd.DataFrame([_row(1, g)]).rename(columns={"事件编号": "单号", "事件类别": "问题分类", "上报时间": "发生时间"})
    path = _csv(tmp_path / "m.csv", df.to_dict("records"))
    with pytest.raises(ImportFailed):
        import_cases(db, path)
    runlog.save_mapping(db, "某平台导出", "cases", {"单号": "id", "问题分类": "category", "发生时间": "reported_at"}, "admin")
    with db.connect() as conn:
        saved = runlog.mappings(conn)["某平台导出"]
    _check(import_cases(db, path, mapping=saved), 1, 1, 0)


def test_gcj02_round_trip_accuracy():
    lon, lat = np.array([116.397, 120.15, 119.92]), np.array([39.909, 30.28, 28.45])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert np.all(np.abs(glon - lon) > 1e-3)  # a few hundred metres of offset
    back = coords.to_wgs84(glon, glat, "gcj02")
    assert np.max(np.abs(back[0] - lon)) < 1e-7 and np.max(np.abs(back[1] - lat)) < 1e-7
    blon, blat = coords.gcj02_to_bd09(glon, glat)
    back = coords.to_wgs84(blon, blat, "bd09")
    assert np.max(np.abs(back[0] - lon)) < 1e-6 and np.max(np.abs(back[1] - lat)) < 1e-6
    # Tiananmen: WGS84 (116.391275, 39.906217) is GCJ-02 (116.397515, 39.907617) on Amap (to ~1 m).
    g = coords.wgs84_to_gcj02(116.391275, 39.906217)
    assert abs(g[0] - 116.397515) < 2e-5 and abs(g[1] - 39.907617) < 2e-5


def test_an_import_is_on_the_audit_log_when_there_is_one(small_sqlite, tmp_path, monkeypatch):
    import sys
    import types
    calls = []
    fake = types.ModuleType("data_access.audit")
    fake.record = lambda conn, actor, action, *, region=None, details=None: calls.append((actor, action, details))
    monkeypatch.setitem(sys.modules, "data_access.audit", fake)
    import data_access
    monkeypatch.setattr(data_access, "audit", fake, raising=False)
    path = _csv(tmp_path / "a.csv", [_row(1, "000")])
    rep = import_cases(small_sqlite, path, user="王五")
    assert calls == [("王五", "import:cases", {"run_id": rep.run_id, "file": "a.csv", "sha256": runlog.sha256(path),
                                              "read": 1, "inserted": 0, "updated": 0, "rejected": 1, "unchanged": 0})]
