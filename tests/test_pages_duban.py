"""The 督办 page in AppTest: one instruction from a region to 已办结 as the county leader and the township's
综治中心 (switched with the demo identity), the 三色预警 and 总览 hooks, and the wall's counts."""
import datetime as dt

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access import duban

from .conftest import ROOT
from .test_app import regions  # noqa: F401 - the fixture

COUNTY, CITY = "331127000000", "331100000000"


@pytest.fixture(scope="module")
def env(regions, small_sqlite):
    """The app on the small city (test_app's fixture); this module's instructions removed afterwards."""
    yield small_sqlite, regions["township"]
    with small_sqlite.begin() as conn:
        for table in ("duban_files", "duban_events", "duban"):
            conn.execute(text(f"DELETE FROM {table}"))


def run(page: str, region: str, actor: str | None, at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"region": region, "from": "2026-01-01", "to": "2026-10-31"})
        at.run()
    if actor:
        at.session_state["duban_demo_actor"] = actor
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_one_instruction_through_the_page(env):
    engine, town = env
    at = run("duban", COUNTY, COUNTY)
    assert "辖区" in at.caption[0].value
    # issue: origin 地区, the region picker's default is the view's region; the unit defaults to a township
    at.radio(key="db_origin_None").set_value("region").run()
    next(i for i in at.text_input if i.label == "督办事项").set_value("矛盾纠纷排查督办")
    unit_box = next(s for s in at.selectbox if s.label.startswith("责任单位"))
    unit_box.set_value(town)
    next(b for b in at.button if b.label == "下发督办").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with engine.connect() as conn:
        row = duban.listing(conn, actor_region=COUNTY, now=dt.datetime.now()).iloc[0]
    assert (row["status"], row["unit_code"], row["title"]) == ("issued", town, "矛盾纠纷排查督办")
    # the township signs and feeds back
    at = run("duban", COUNTY, town, at)
    at.selectbox(key="db_box").set_value("received").run()
    at.session_state["db_picked"] = int(row["id"])
    at.run()
    button(at, "签收").click().run()
    assert at.success and at.success[0].value == "已签收。"
    next(a for a in at.text_area if a.label == "办理情况").set_value("已排查 5 起，化解 5 起")
    button(at, "提交反馈").click().run()
    assert at.success[0].value == "已反馈。"
    # the county accepts
    at = run("duban", COUNTY, COUNTY, at)
    at.selectbox(key="db_box").set_value("todo")
    at.session_state["db_picked"] = int(row["id"])
    at.run()
    button(at, "验收通过，办结").click().run()
    assert at.success[0].value == "已办结。"
    with engine.connect() as conn:
        trail = duban.events(conn, int(row["id"]), COUNTY)
    assert trail["to_state"].tolist() == ["issued", "signed", "fed_back", "closed"]
    assert trail["actor_region"].tolist() == [COUNTY, town, town, COUNTY]
    # 总览's KPI cards count it (live: whatever the filter bar's period)
    at = run("overview", COUNTY, COUNTY, at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["督办办结率"] == "100.0%" and metrics["逾期督办"] == "0"


def city_problem(engine) -> dict:
    """A red (else yellow) problem of the small city's 问题清单 in October 2026: its county, indicator, level."""
    from analytics.warnings import load_rules, problems
    from data_access.breakdowns import month_view
    from data_access.judged import warning_table
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    with engine.connect() as conn:
        now = dt.datetime.now().replace(second=0, microsecond=0)  # what the page takes as its as-of time
        table = warning_table(conn, month_view(CITY, 202610, now.date()), now, rules)
    probs = problems(table[~table["is_total"]], rules)
    assert len(probs), "the small city has no red or yellow problem in October 2026"
    return probs.iloc[0].to_dict()


def test_warnings_page_shows_each_problems_duban_state(env):
    engine, _town = env
    p = city_problem(engine)
    with engine.begin() as conn:
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code='{p['code']}'")).scalar()
        duban.create(conn, actor="县", actor_region=p["code"], region_code=p["code"], unit_code=town, title="整改",
                     origin="warning", indicator=p["indicator"], month=202610, level_name=p["level_name"],
                     deadline=dt.datetime.now() + dt.timedelta(days=3))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"region": CITY, "from": "2026-01-01", "to": "2026-10-31", "month": "2026-10"})
    at = run("warnings", CITY, p["code"], at)
    assert any(m.value.startswith("**问题清单的督办情况（1 / ") for m in at.markdown)
    table = next(d for d in at.dataframe if "duban" in d.value.columns)
    shown = table.value
    row = shown[(shown["name"] == p["name"]) & (shown["indicator"] == p["indicator_name"])]
    assert row["duban"].tolist() == ["已下发"]
    assert (shown["duban"] == "未督办").sum() == len(shown) - 1


def test_a_township_sees_nothing_of_another(env):
    engine, town = env
    with engine.begin() as conn:
        other = conn.execute(text(f"SELECT MAX(code) FROM regions WHERE parent_code='{COUNTY}'")).scalar()
        i = duban.create(conn, actor="县", actor_region=COUNTY, region_code=other, unit_code=other, title="别人的督办",
                         deadline=dt.datetime.now() + dt.timedelta(days=3))
    def shown(at):
        cells = " ".join(d.value.astype(str).to_string() for d in at.dataframe)
        return cells + " ".join(m.value for m in at.markdown) + " ".join(h.value for h in at.subheader)

    at = run("duban", COUNTY, COUNTY)  # the county sent it: listed
    assert "别人的督办" in shown(at)
    at = run("duban", COUNTY, town, at)  # another township: neither listed nor opened by its id
    at.session_state["db_picked"] = i
    at.run()
    assert "别人的督办" not in shown(at)


def test_the_wall_shows_open_and_overdue_instructions_by_region(env):
    engine, town = env
    past = dt.datetime.now() - dt.timedelta(days=10)
    with engine.begin() as conn:
        for t in ("duban_files", "duban_events", "duban"):
            conn.execute(text(f"DELETE FROM {t}"))
        duban.create(conn, actor="县", actor_region=COUNTY, region_code=town, unit_code=town, title="逾期",
                            deadline=past + dt.timedelta(days=2), now=past)
        duban.create(conn, actor="县", actor_region=COUNTY, region_code=town, unit_code=town, title="在办",
                     deadline=dt.datetime.now() + dt.timedelta(days=5))
        closed = duban.create(conn, actor="县", actor_region=COUNTY, region_code=town, unit_code=town, title="已办结",
                              deadline=dt.datetime.now() + dt.timedelta(days=5))
        for step, who in (("sign", town), ("feedback", town), ("accept", COUNTY)):
            duban.act(conn, closed, step, actor="x", actor_region=who, text_="办了")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"region": COUNTY, "to": "2026-10-31"})
    at.run()
    at.switch_page("pages/wall.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    html = " ".join(m.value for m in at.markdown)
    assert 'data-testid="wall-duban" data-open="2" data-overdue="1"' in html
    assert "督办 在办 2 · 逾期 1" in html
    assert at.session_state["wall_last"]["duban"]["by_child"] == {town: (2, 1)}


def test_issue_from_overdue_cases(env):
    engine, _town = env
    at = run("duban", COUNTY, COUNTY)
    at.radio(key="db_origin_None").set_value("case").run()
    cases = at.multiselect(key="db_cases")
    picked = [label.split(" · ")[0] for label in cases.options[:2]]  # labels start with the case id
    assert len(picked) == 2, "the small city's county has overdue cases"
    cases.set_value(picked).run()
    assert not at.exception, [e.value for e in at.exception]
    title = next(i for i in at.text_input if i.label == "督办事项").value
    assert "2 件逾期事件督办" in title
    button(at, "下发督办").click().run()
    assert at.success and at.success[0].value.startswith("已向")
    with engine.connect() as conn:
        row = duban.listing(conn, actor_region=COUNTY, now=dt.datetime.now(), words="逾期事件督办").iloc[0]
    assert row["origin"] == "case" and sorted(row["case_ids"].split(",")) == sorted(picked)
    assert row["region_code"].startswith(COUNTY[:6])


def test_issue_about_the_region_on_the_map(env):
    engine, town = env
    at = run("map", COUNTY, COUNTY)
    name = at.session_state["view"].region  # the county itself: nothing picked on the map
    assert name == COUNTY
    button(at, "对“景宁畲族自治县”下发督办").click().run()  # st.switch_page to 督办 …
    at.switch_page("pages/duban.py").run()  # … which AppTest must be told to stay on
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="db_origin_region").value == "region"
    assert at.selectbox(key=f"db_region_{COUNTY}").value == COUNTY
    unit = next(s for s in at.selectbox if s.label.startswith("责任单位"))
    assert unit.value == town  # the first township of the 责任清单
    button(at, "下发督办").click().run()
    with engine.connect() as conn:
        row = duban.listing(conn, actor_region=COUNTY, now=dt.datetime.now(), words="景宁畲族自治县督办").iloc[0]
    assert (row["origin"], row["region_code"], row["unit_code"]) == ("region", COUNTY, town)
