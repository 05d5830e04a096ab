"""数据导入 in the browser: upload a CSV with a good and a bad row; the good one lands, the bad one is
shown with its reason; the page requests nothing from other hosts."""
import pandas as pd
from sqlalchemy import text

from data_access import rollup

from .conftest import open_app, shoot, wait_ready


def test_upload_imports_and_quarantines(page, small_sqlite, tmp_path):
    with small_sqlite.connect() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids")).scalar()
    csv = tmp_path / "上报事件.csv"
    pd.DataFrame([
        {"事件编号": "E2E-IMP-1", "事件类别": "治安", "事件来源": "12345热线", "网格编码": grid,
         "上报时间": "2026-05-05 09:00", "办理时限": "2026-05-10", "状态": "处置中"},
        {"事件编号": "E2E-IMP-2", "事件类别": "治安", "事件来源": "12345热线", "网格编码": "000000000000000",
         "上报时间": "2026-05-05 09:00", "办理时限": "2026-05-10", "状态": "处置中"},
    ]).to_csv(csv, index=False, encoding="gb18030")
    try:
        open_app(page, "import")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
        page.get_by_role("button", name="开始导入").click()
        page.get_by_text("导入完成").wait_for(timeout=60000)
        wait_ready(page)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "新增 1 条" in body and "隔离 1 条" in body and "网格编码不存在：1 行" in body
        with small_sqlite.connect() as conn:
            assert conn.execute(text("SELECT status FROM cases WHERE id = 'E2E-IMP-1'")).scalar() == "dispatched"
        shoot(page, "import_1920x1080")
    finally:
        with small_sqlite.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE id LIKE 'E2E-IMP-%'"))
            rollup.refresh(conn, [202605])
