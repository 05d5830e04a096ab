"""督办 in a real browser: one instruction from a red (or yellow) problem of 三色预警 to 已办结, as two users —
the county leader and the township's 综治中心, switched with the demo identity (the lead rewires it to sign-in)
— and seen on the wall while it is open and after it is closed."""
import datetime as dt
import re

import pytest
from sqlalchemy import text

from data_access import duban

from ..test_pages_duban import CITY, city_problem
from .conftest import open_app, shoot, wait_ready

PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}


def clean(engine) -> None:
    with engine.begin() as conn:
        for table in ("duban_files", "duban_events", "duban"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def loop_db(small_sqlite):
    clean(small_sqlite)
    yield small_sqlite
    clean(small_sqlite)


def be(page, name: str) -> None:
    """Pick the demo identity ``name`` in the sidebar of the 督办 page."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="当前身份")
    box.locator("input").click()
    page.keyboard.type(name[:6])
    page.get_by_role("option", name=name).click()
    wait_ready(page)
    page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').filter(
        has_text=f"当前身份：{name}").first.wait_for(timeout=30000)


def wall_counts(page, county: str) -> tuple[str, str, int]:
    wall = page.context.new_page()
    try:
        wall.goto(f"{page.app_url}/wall?region={CITY}&to=2026-10-31")
        wall.wait_for_selector('[data-testid="wall-duban"]', timeout=60000)
        tag = wall.locator('[data-testid="wall-duban"]').first
        chips = wall.locator(f'.item[data-code="{county}"] [data-testid="wall-duban-chip"]').count()
        return tag.get_attribute("data-open"), tag.get_attribute("data-overdue"), chips
    finally:
        wall.close()


@pytest.mark.slow
def test_from_a_red_problem_to_closed_as_two_users(page, loop_db):
    problem = city_problem(loop_db)
    county = problem["code"]
    with loop_db.connect() as conn:
        leader = conn.execute(text("SELECT duty_person, duty_unit FROM regions WHERE code = :c"), {"c": county}).one()
        town = conn.execute(text("SELECT code, duty_person, duty_unit FROM regions WHERE parent_code = :c "
                                 "ORDER BY code LIMIT 1"), {"c": county}).one()
    leader_name, town_name = f"{leader[0]}（{leader[1]}）", f"{town[1]}（{town[2]}）"

    # 1. the county leader, on 三色预警, picks the problem and issues an instruction to a township
    open_app(page, "duban", region=CITY, **PERIOD)
    be(page, leader_name)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="三色预警").first.click()
    page.wait_for_url(re.compile("/warnings"), timeout=20000)
    wait_ready(page)
    grid = page.locator(f".st-key-db_probs_{CITY}_202610 [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection cell
    issue = page.get_by_role("button", name=f"对“{problem['name']} · {problem['indicator_name']}”下发督办")
    issue.wait_for(timeout=30000)
    shoot(page, "duban_1_problem_list")
    issue.click()
    page.wait_for_url(re.compile("/duban"), timeout=20000)
    wait_ready(page)
    assert problem["indicator_name"] in page.locator('[data-testid="stAlertContentInfo"]').first.inner_text()
    shoot(page, "duban_2_issue_form")
    page.get_by_role("button", name="下发督办").click()
    wait_ready(page)
    assert "下发督办" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    with loop_db.connect() as conn:
        row = duban.listing(conn, actor_region=county, now=dt.datetime.now()).iloc[0]
    assert (row["origin"], row["indicator"], row["unit_code"], row["status"]) == \
        ("warning", problem["indicator"], town[0], "issued")
    assert wall_counts(page, county) == ("1", "0", 1)

    # 2. the township signs for it and feeds back with an attachment
    be(page, town_name)
    page.get_by_role("button", name="签收").click()
    wait_ready(page)
    page.get_by_label("办理情况").fill("已逐件核查逾期事件，全部办结")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "整改报告.txt", "mimeType": "text/plain", "buffer": "整改完成".encode()}])
    page.wait_for_timeout(800)
    page.get_by_role("button", name="提交反馈").click()
    wait_ready(page)
    assert "已反馈" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    shoot(page, "duban_3_feedback")

    # 3. the county leader accepts: 已办结, and the wall has nothing open any more
    be(page, leader_name)
    assert "整改完成" not in page.content()  # the attachment is a download, not shown inline
    page.get_by_role("button", name="验收通过，办结").click()
    wait_ready(page)
    assert "已办结" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    shoot(page, "duban_4_closed")
    with loop_db.connect() as conn:
        trail = duban.events(conn, int(row["id"]), county)
        files = duban.attachments(conn, int(row["id"]), county)
    assert trail["to_state"].tolist() == ["issued", "signed", "fed_back", "closed"]
    assert trail["actor"].tolist() == [leader_name, town_name, town_name, leader_name]
    assert files["name"].tolist() == ["整改报告.txt"]
    assert wall_counts(page, county) == ("0", "0", 0)
