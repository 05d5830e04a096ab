"""Issue 14 on SQLite and PostgreSQL: planted personal data never leaves the server unmasked (exports on the
page's path and the CLI, the quarantine file), and a database that does not answer is one short sentence.

The planted cases (tests/planted.py) are added to the shared small city for the module and removed after it.
"""
import datetime as dt
import zipfile

import pytest
from sqlalchemy import text

from data_access.case_list import CaseQuery
from data_access.engine import get_engine
from data_access.importer import import_cases
from data_access.view import View
from exports import tables

from . import planted
from .conftest import AS_OF
from .test_export_db import cli

DAY = dt.datetime(2026, 10, 1, 9)
COUNTY = "331102000000"


@pytest.fixture(scope="module")
def planted_db(small_db):
    engine, _ = small_db
    with engine.begin() as conn:
        grid = conn.execute(text(f"SELECT MIN(code) FROM grids WHERE code >= '{COUNTY[:6]}' AND code < '331103'")).scalar()
        planted.plant(conn, grid, DAY)
    yield engine
    with engine.begin() as conn:
        planted.remove(conn)


def _body(path, fmt: str) -> str:
    if fmt == "xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return path.read_bytes().decode("gb18030" if fmt == "csv-gb18030" else "utf-8-sig")


@pytest.mark.parametrize("fmt", ["csv", "csv-gb18030", "xlsx"])
def test_exports_hold_no_planted_personal_data(planted_db, tmp_path, fmt):
    q = CaseQuery(View(COUNTY, DAY.date(), DAY.date()), AS_OF, text="")
    path = tmp_path / f"e.{fmt}"
    with planted_db.connect() as conn:
        n = tables.export_cases(conn, q, fmt, path, region_name="莲都区")
    body = _body(path, fmt)
    assert n >= len(planted.CASE_IDS) and all(cid in body for cid in planted.CASE_IDS)
    assert planted.leaks(body) == []
    assert "欧***" in body and "139****9031" in body and "331102********561X" in body
    with planted_db.connect() as conn:  # the same export unmasked holds them: the test can fail
        tables.export_cases(conn, q, fmt, path, region_name="莲都区", unmask=True)
    assert "欧阳娜娜" in _body(path, fmt)


def test_cli_export_holds_no_planted_personal_data(planted_db, tmp_path):
    out = tmp_path / "cli.csv"
    url = planted_db.url.render_as_string(hide_password=False)
    r = cli(url, "--region", COUNTY, "--from", "2026-10-01", "--to", "2026-10-01", "--as-of", "2026-11-01 00:00",
            "--text", "楼道", "--format", "csv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    body = out.read_text(encoding="utf-8-sig")
    assert "PLANT-0" in body and planted.leaks(body) == []


def test_quarantine_file_is_masked_and_defused(planted_db, tmp_path):
    src = tmp_path / "upload.csv"
    planted.quarantine_csv(src, "")
    report = import_cases(planted_db, src)
    assert (report.inserted, report.rejected) == (0, len(planted.NAMES))
    body = report.quarantine.read_text(encoding="utf-8-sig")
    assert planted.leaks(body) == [] and "欧***" in body
    assert '"\'=HYPERLINK(' in body or "'=HYPERLINK(" in body   # the formula is text
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_database_that_does_not_answer_is_one_sentence(small_db, tmp_path):
    """A dead PostgreSQL port and an SQLite file that cannot be opened: DatabaseDown, no driver text, no URL."""
    from ui.data import DatabaseDown, guarded
    from data_access.engine import check
    engine, _ = small_db
    dead = ("postgresql+psycopg://yiping:s3cret@127.0.0.1:1/test?connect_timeout=2"
            if engine.dialect.name == "postgresql" else f"sqlite:///{tmp_path}")  # a directory is no database
    with pytest.raises(DatabaseDown) as err:
        guarded(check, get_engine(dead))
    assert str(err.value) == "数据库暂时无法连接，正在重试…"
    get_engine(dead).dispose()
