"""督办 in a real browser, signed in (YIPING_AUTH=local): one instruction from a red (or yellow) problem of the
county leader's 三色预警 to 已办结, acted on by two accounts in two browsers — the county leader and the township
unit — and seen on the county's wall (a kiosk token) while it is open and after it is closed."""
import datetime as dt
import re

import pytest
from sqlalchemy import text

from data_access import duban, tokens, users

from .conftest import recorded_page, shoot, wait_ready

PERIOD = "from=2026-01-01&to=2026-10-31"
PASSWORD = "duban-e2e-Passw0rd"
LEADER, TOWN = "duban-leader", "duban-town"


def clean(engine) -> None:
    with engine.begin() as conn:
        for table in ("duban_files", "duban_events", "duban"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM users WHERE name IN (:a, :b)"), {"a": LEADER, "b": TOWN})


def county_problem(engine) -> dict:
    """A red (else yellow) township problem in October 2026 of the first county that has one."""
    from analytics.warnings import load_rules, problems
    from data_access import queries
    from data_access.breakdowns import month_view
    from data_access.judged import warning_table
    from ..conftest import ROOT
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    now = dt.datetime.now().replace(second=0, microsecond=0)
    with engine.connect() as conn:
        counties = [c for c in queries.children(conn, queries.root_code(conn))["code"]]
        for county in counties:
            table = warning_table(conn, month_view(county, 202610, now.date()), now, rules)  # as the page judges
            probs = problems(table[~table["is_total"]], rules)
            if len(probs):
                return {**probs.iloc[0].to_dict(), "county": county}
    pytest.fail("the small city has no red or yellow township problem in October 2026")


@pytest.fixture
def loop(small_sqlite):
    clean(small_sqlite)
    problem = county_problem(small_sqlite)
    with small_sqlite.begin() as conn:
        users.add(conn, LEADER, PASSWORD, "exporter", problem["county"])
        users.add(conn, TOWN, PASSWORD, "viewer", problem["code"])
        token_id, token = tokens.add(conn, problem["county"], "督办测试大屏", "e2e")
    yield problem, token
    with small_sqlite.begin() as conn:
        tokens.revoke(conn, token_id)
    clean(small_sqlite)


def sign_in(page, url: str, name: str) -> None:
    page.goto(url)
    wait_ready(page)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('input[type="password"]', state="detached", timeout=90_000)
    page.wait_for_timeout(500)
    wait_ready(page, 90_000)


def wall_counts(browser, url: str, token: str, town: str) -> tuple[str, str, int]:
    """The county's wall through its kiosk token. (Not a recorded page: a token's first visit logs Streamlit's
    "page … does not seem to exist" once in the console — noted on the issue, not asserted here.)"""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
    try:
        wall = context.new_page()
        wall.goto(f"{url}/wall?token={token}&to=2026-10-31")
        wall.wait_for_selector('[data-testid="wall-duban"]', timeout=60000)
        tag = wall.locator('[data-testid="wall-duban"]').first
        chips = wall.locator(f'.item[data-code="{town}"] [data-testid="wall-duban-chip"]').count()
        return tag.get_attribute("data-open"), tag.get_attribute("data-overdue"), chips
    finally:
        context.close()


def pick_first(page, where: str) -> None:
    """Tap the first row's selection cell of the table under ``where``."""
    grid = page.locator(f"{where} [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_ready(page)


def nav(page, name: str, path: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name).first.click()
    page.wait_for_url(re.compile(f"/{path}"), timeout=20000)
    wait_ready(page)


@pytest.mark.slow
def test_from_a_red_problem_to_closed_as_two_signed_in_users(browser, local_url, loop, small_sqlite):
    problem, token = loop
    county, town = problem["county"], problem["code"]
    size = {"viewport": {"width": 1920, "height": 1080}}
    with recorded_page(browser, local_url, **size) as leader, recorded_page(browser, local_url, **size) as unit:
        # 1. the county leader signs in on 三色预警, picks the problem and issues an instruction to the township
        sign_in(leader, f"{local_url}/warnings?region={county}&{PERIOD}", LEADER)
        grid = leader.locator(f".st-key-db_probs_{county}_202610 [data-testid='stDataFrame']").first
        grid.scroll_into_view_if_needed()
        leader.wait_for_timeout(500)
        box = grid.bounding_box()
        leader.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection cell
        issue = leader.get_by_role("button", name=f"对“{problem['name']} · {problem['indicator_name']}”下发督办")
        issue.wait_for(timeout=30000)
        shoot(leader, "duban_1_problem_list")
        issue.click()
        leader.wait_for_url(re.compile("/duban"), timeout=20000)
        wait_ready(leader)
        assert problem["indicator_name"] in leader.locator('[data-testid="stAlertContentInfo"]').first.inner_text()
        shoot(leader, "duban_2_issue_form")
        leader.get_by_role("button", name="下发督办").click()
        wait_ready(leader)
        assert "下发督办" in leader.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
        with small_sqlite.connect() as conn:
            row = duban.listing(conn, actor_region=county, now=dt.datetime.now()).iloc[0]
        assert (row["origin"], row["indicator"], row["unit_code"], row["status"], row["author"]) == \
            ("warning", problem["indicator"], town, "issued", LEADER)
        assert wall_counts(browser, local_url, token, town) == ("1", "0", 1)

        # 2. the township unit, in its own browser, signs for it and feeds back with an attachment
        sign_in(unit, local_url, TOWN)
        nav(unit, "督办", "duban")
        pick_first(unit, ".st-key-db_list")  # a fresh session: the unit picks the instruction from its list
        unit.get_by_role("button", name="签收").click()
        wait_ready(unit)
        unit.get_by_label("办理情况").fill("已逐件核查逾期事件，全部办结")
        unit.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            files=[{"name": "整改报告.txt", "mimeType": "text/plain", "buffer": "整改完成".encode()}])
        unit.wait_for_timeout(800)
        unit.get_by_role("button", name="提交反馈").click()
        wait_ready(unit)
        assert "已反馈" in unit.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
        shoot(unit, "duban_3_feedback")

        # 3. the county leader accepts: 已办结, and the wall has nothing open any more
        nav(leader, "三色预警", "warnings")
        nav(leader, "督办", "duban")
        if leader.get_by_role("button", name="验收通过，办结").count() == 0:
            pick_first(leader, ".st-key-db_list")
        assert "整改完成" not in leader.content()  # the attachment is a download, not shown inline
        leader.get_by_role("button", name="验收通过，办结").click()
        wait_ready(leader)
        assert "已办结" in leader.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
        shoot(leader, "duban_4_closed")
    with small_sqlite.connect() as conn:
        trail = duban.events(conn, int(row["id"]), county)
        files = duban.attachments(conn, int(row["id"]), county)
        steps = conn.execute(text("SELECT actor, action FROM audit_log WHERE action LIKE 'duban.%' ORDER BY id")).all()
    assert trail["to_state"].tolist() == ["issued", "signed", "fed_back", "closed"]
    assert trail["actor"].tolist() == [LEADER, TOWN, TOWN, LEADER]
    assert files["name"].tolist() == ["整改报告.txt"]
    assert [s[0] for s in steps[-4:]] == [LEADER, TOWN, TOWN, LEADER]  # every step on the audit log
    assert wall_counts(browser, local_url, token, town) == ("0", "0", 0)
