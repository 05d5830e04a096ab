"""Sign-in in a real browser (YIPING_AUTH=local): the demo township user opens every page of their
navigation and no page names another township; sign-out returns to the form."""
from __future__ import annotations

from sqlalchemy import text

from sample_data.demo_users import PASSWORD
from .conftest import recorded_page, shoot, wait_ready

VIEWER_PAGES = ["总览", "地图钻取", "事件办结", "三色预警", "指数评价", "督办", "大屏"]


def test_demo_township_user_sees_only_their_township(browser, local_url, small_sqlite):
    with small_sqlite.connect() as conn:
        town = conn.execute(text("SELECT region FROM users WHERE name = 'demo-town'")).scalar()
        names = dict(conn.execute(text("SELECT code, name FROM regions WHERE level IN ('city', 'county', 'township')")).all())
    others = {n for c, n in names.items() if c != town} - {names[town]}
    with recorded_page(browser, local_url, viewport={"width": 1920, "height": 1080}) as page:
        page.goto(local_url)
        wait_ready(page)
        assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0
        page.get_by_label("用户名").fill("demo-town")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector('[data-testid="stMetric"]', timeout=90_000)
        wait_ready(page, 90_000)
        nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        listed = sorted(next(w for w in VIEWER_PAGES + ["数据查询导出", "数据导入", "账号与审计"] if w in n) for n in nav)
        assert listed == sorted(VIEWER_PAGES)  # no 数据查询导出, 数据导入, 账号与审计
        for name in VIEWER_PAGES:
            page.locator('[data-testid="stSidebarNav"] a', has_text=name).first.click()
            page.wait_for_timeout(500)
            wait_ready(page, 90_000)
            body = page.locator("body").inner_text()
            assert names[town] in body, name
            shown = sorted(n for n in others if n in body)
            assert shown == [], (name, shown)
            shoot(page, f"auth-demo-town-{name}")
        # the wall has no sidebar: back to 总览 by loading it, a new session (no cookie session), so sign in again
        page.goto(local_url)
        wait_ready(page, 90_000)
        if page.get_by_role("button", name="退出登录").count() == 0:  # the reload asked for sign-in again
            page.get_by_label("用户名").wait_for(timeout=60_000)
            page.get_by_label("用户名").fill("demo-town")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_selector('[data-testid="stMetric"]', timeout=90_000)
            wait_ready(page, 90_000)
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_selector('input[type="password"]', timeout=60_000)
        wait_ready(page)
        assert page.get_by_role("button", name="登录").is_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0
