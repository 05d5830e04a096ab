"""An empty database in a real browser: the Chinese navigation and the offer to build the sample city.

The first visit of a fresh install (or of an empty DATABASE_URL) must already look like the product: the
sidebar lists the pages by their Chinese names, never the file names under pages/.
"""
from sqlalchemy import create_engine

from .conftest import READY, need_chromium, recorded_page, serve


def test_empty_database_shows_chinese_navigation_and_the_build_button(browser, tmp_path):
    need_chromium()
    db = tmp_path / "empty.db"
    create_engine(f"sqlite:///{db}").connect().close()  # an empty file: not the default URL, so the app asks first
    with serve(f"sqlite:///{db}", tmp_path / "streamlit.log") as url, \
            recorded_page(browser, url, viewport={"width": 1366, "height": 1024}) as page:
        page.goto(url)
        page.wait_for_selector(READY, timeout=60_000)
        page.get_by_role("button", name="生成示例数据").wait_for(timeout=30_000)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        for name in ("总览", "地图钻取", "事件办结", "三色预警", "数据查询导出", "大屏"):
            assert name in nav, nav
        for file_name in ("overview", "warnings", "app"):
            assert file_name not in nav.split(), nav
        alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()  # the auth-off banner comes first
        assert any("没有数据" in a for a in alerts), alerts
