"""督办 in a real database (SQLite and PostgreSQL): a loop walked end to end with its trail, scope (a unit
cannot see or act on another's instruction; no region, nothing), attachments, and the loop's measures against
figures computed by hand. Every test removes its instructions (small_db is shared by the whole session)."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from analytics import duban as measures_
from analytics.warnings import DEFAULT_RULES
from data_access import duban, queries

COUNTY, CITY = "331127000000", "331100000000"
T0 = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def db(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        towns = queries.children(conn, COUNTY)["code"].tolist()
        village = queries.children(conn, towns[0])["code"].iloc[0]
    yield engine, towns, village
    with engine.begin() as conn:
        for table in ("duban_files", "duban_events", "duban"):
            conn.execute(text(f"DELETE FROM {table}"))


def issue(conn, unit, *, region=None, author=("县指挥中心", COUNTY), days=7, at=T0, **kw):
    return duban.create(conn, actor=author[0], actor_region=author[1], region_code=region or unit, unit_code=unit,
                        title=kw.pop("title", "办结率红色预警整改"), deadline=at + dt.timedelta(days=days), now=at, **kw)


def test_walk_the_loop_and_its_trail(db):
    engine, towns, _ = db
    town = towns[0]
    with engine.begin() as conn:
        i = issue(conn, town, origin="warning", indicator="closure_rate", month=202610, level_name="红")
        unit_name = conn.execute(text("SELECT duty_unit FROM regions WHERE code = :c"), {"c": town}).scalar()
        me = ("镇综治中心", town)
        assert duban.act(conn, i, "sign", actor=me[0], actor_region=me[1], now=T0 + dt.timedelta(hours=2)) == "signed"
        assert duban.act(conn, i, "feedback", actor=me[0], actor_region=me[1], text_="已排查 12 件，办结 10 件",
                         files=[("整改报告.pdf", b"%PDF-1.4 ...")], now=T0 + dt.timedelta(days=3)) == "fed_back"
        assert duban.act(conn, i, "return", actor="张县长", actor_region=COUNTY, text_="还有 2 件未办结",
                         now=T0 + dt.timedelta(days=4)) == "returned"
        assert duban.act(conn, i, "feedback", actor=me[0], actor_region=me[1], text_="12 件全部办结",
                         now=T0 + dt.timedelta(days=9)) == "fed_back"
        assert duban.act(conn, i, "accept", actor="张县长", actor_region=COUNTY,
                         now=T0 + dt.timedelta(days=10)) == "closed"
    with engine.connect() as conn:
        row = duban.get(conn, i, COUNTY)
        trail = duban.events(conn, i, town)
        files = duban.attachments(conn, i, COUNTY)
        name, data = duban.attachment(conn, int(files["id"].iloc[0]), town)
    assert row["unit_name"] == unit_name and row["status"] == "closed" and row["returns"] == 1
    assert row["feedback"] == "12 件全部办结"
    # The first feedback (day 3) decides on-time, not the late second one (day 9 > deadline day 7).
    assert pd.Timestamp(row["first_feedback_at"]) == pd.Timestamp(T0 + dt.timedelta(days=3))
    assert row["feedback_on_time"] == 1 and row["close_hours"] == pytest.approx(240.0)
    assert trail["action"].tolist() == ["issue", "sign", "feedback", "return", "feedback", "accept"]
    assert trail["from_state"].tolist()[1:] == ["issued", "signed", "fed_back", "returned", "fed_back"]
    assert pd.isna(trail["from_state"].iloc[0])
    assert trail["to_state"].tolist() == ["issued", "signed", "fed_back", "returned", "fed_back", "closed"]
    assert trail["actor"].tolist() == ["县指挥中心", "镇综治中心", "镇综治中心", "张县长", "镇综治中心", "张县长"]
    assert trail["text"].iloc[3] == "还有 2 件未办结"
    assert pd.to_datetime(trail["at"]).is_monotonic_increasing
    assert (name, data) == ("整改报告.pdf", b"%PDF-1.4 ...")


def test_who_may_take_which_step(db):
    engine, towns, village = db
    with engine.begin() as conn:
        i = issue(conn, towns[0])
        # the author cannot sign for the unit; a unit below the responsible one cannot either
        for actor_region in (COUNTY, village):
            with pytest.raises(duban.DubanError):
                duban.act(conn, i, "sign", actor="x", actor_region=actor_region, now=T0)
        # the city sees it (it is inside the city) but neither sent nor received it: view only
        with pytest.raises(duban.DubanError, match="只能查看"):
            duban.act(conn, i, "sign", actor="市", actor_region=CITY, now=T0)
        duban.act(conn, i, "sign", actor="镇", actor_region=towns[0], now=T0)
        duban.act(conn, i, "feedback", actor="镇", actor_region=towns[0], text_="办了", now=T0)
        with pytest.raises(duban.DubanError, match="只能由下发方"):
            duban.act(conn, i, "accept", actor="镇", actor_region=towns[0], now=T0)
        with pytest.raises(duban.DubanError, match="须填写退回理由"):
            duban.act(conn, i, "return", actor="县", actor_region=COUNTY, text_=" ", now=T0)
        events = conn.execute(text("SELECT COUNT(*) FROM duban_events WHERE duban_id = :i"), {"i": i}).scalar()
    assert events == 3  # refused steps leave no trail


def test_a_unit_cannot_see_or_act_on_anothers_instruction(db):
    engine, towns, village = db
    a, b = towns[0], towns[1]
    with engine.begin() as conn:
        ia = issue(conn, a)
        ib = issue(conn, b)
        iv = issue(conn, village, author=("A镇", a))  # town A to one of its villages
    with engine.connect() as conn:
        for box in duban.BOXES:
            seen_by_b = set(duban.listing(conn, actor_region=b, now=T0, box=box)["id"])
            assert ia not in seen_by_b and iv not in seen_by_b
        assert set(duban.listing(conn, actor_region=b, now=T0)["id"]) == {ib}
        assert set(duban.listing(conn, actor_region=a, now=T0)["id"]) == {ia, iv}
        assert set(duban.listing(conn, actor_region=a, now=T0, box="sent")["id"]) == {iv}
        assert set(duban.listing(conn, actor_region=a, now=T0, box="received")["id"]) == {ia}
        assert set(duban.listing(conn, actor_region=COUNTY, now=T0, box="units")["id"]) == {ia, ib, iv}
        assert set(duban.listing(conn, actor_region=COUNTY, now=T0, box="sent")["id"]) == {ia, ib}
        assert set(duban.listing(conn, actor_region=village, now=T0)["id"]) == {iv}
        for nobody in (None, "", "3311", "not-a-code"):
            assert duban.listing(conn, actor_region=nobody, now=T0).empty
        for getter in (duban.get, duban.events, duban.attachments):
            with pytest.raises(duban.DubanError, match="不存在或不在本辖区"):
                getter(conn, ia, b)
    with engine.begin() as conn:
        for action in ("sign", "feedback", "accept", "return"):
            with pytest.raises(duban.DubanError, match="不存在或不在本辖区"):
                duban.act(conn, ia, action, actor="B镇", actor_region=b, text_="x", now=T0)
    with engine.connect() as conn:
        assert duban.get(conn, ia, COUNTY)["status"] == "issued"


def test_create_checks_its_input(db):
    engine, towns, village = db
    with engine.begin() as conn:
        bad = [
            dict(unit_code=COUNTY),                                # not strictly inside the author
            dict(unit_code="331102001000"),                        # another county's township
            dict(unit_code=towns[0], deadline=T0),                 # deadline not after now
            dict(unit_code=towns[0], title="  "),
            dict(unit_code=towns[0], actor_region=None),
            dict(unit_code=towns[0], region_code="331102000000"),  # about a region outside the author
        ]
        for b in bad:
            args = dict(actor="县", actor_region=COUNTY, region_code=b.get("unit_code"), title="t",
                        deadline=T0 + dt.timedelta(days=1), now=T0) | b
            with pytest.raises(duban.DubanError):
                duban.create(conn, **args)
        case_id, grid = conn.execute(text("SELECT id, grid_code FROM cases WHERE grid_code >= :lo AND grid_code < :hi "
                                          "ORDER BY id LIMIT 1"), {"lo": village, "hi": village[:-1] + "9z"}).one()
        i = duban.create(conn, actor="县", actor_region=COUNTY, region_code="", unit_code=towns[0], title="逾期事件督办",
                         deadline=T0 + dt.timedelta(days=2), origin="case", case_ids=[case_id], now=T0)
        assert duban.get(conn, i, COUNTY)["region_code"] == grid[:12]
        with pytest.raises(duban.DubanError, match="不存在或不在本辖区"):
            duban.create(conn, actor="B镇", actor_region=towns[1], region_code="", unit_code=towns[1] if False else
                         conn.execute(text("SELECT code FROM regions WHERE parent_code = :c LIMIT 1"),
                                      {"c": towns[1]}).scalar(),
                         title="t", deadline=T0 + dt.timedelta(days=2), origin="case", case_ids=[case_id], now=T0)
        assert duban.count_all(conn) == 1  # nothing half-written by the refused ones


def test_attachments_are_limited(db):
    engine, towns, _ = db
    with engine.begin() as conn:
        i = issue(conn, towns[0])
        duban.act(conn, i, "sign", actor="镇", actor_region=towns[0], now=T0)
        with pytest.raises(duban.DubanError, match="超过上限"):
            duban.act(conn, i, "feedback", actor="镇", actor_region=towns[0], text_="办了",
                      files=[("大.zip", b"x" * (duban.MAX_FILE_BYTES + 1))], now=T0)
        with pytest.raises(duban.DubanError, match="最多"):
            duban.act(conn, i, "feedback", actor="镇", actor_region=towns[0], text_="办了",
                      files=[(f"{k}.jpg", b"x") for k in range(duban.MAX_FILES + 1)], now=T0)
        assert duban.get(conn, i, towns[0])["status"] == "signed"


def test_state_guard_stops_a_second_identical_step(db):
    """Two people signing at once: the second finds the state moved on (the UPDATE is guarded by it)."""
    engine, towns, _ = db
    with engine.begin() as conn:
        i = issue(conn, towns[0])
        duban.act(conn, i, "sign", actor="甲", actor_region=towns[0], now=T0)
        with pytest.raises(duban.DubanError, match="已签收"):
            duban.act(conn, i, "sign", actor="乙", actor_region=towns[0], now=T0)


def test_measures_against_hand_computed_values(db):
    """Five instructions to two townships, as of day 10:

    town A: a1 fed back day 2 (deadline day 5), closed day 4 → on time, 4 days
            a2 fed back day 8 (deadline day 5), closed day 9 → late feedback, 9 days
            a3 signed, deadline day 5 → overdue, due, no feedback
    town B: b1 issued, deadline day 20 → not due, not overdue
            b2 fed back day 1 (deadline day 3), open (fed_back, past its deadline) → on time, not overdue
    A: issued 3, closed 2, overdue 1, due 3, on-time 1 → 按时反馈率 1/3, 办结率 2/3, 平均办结天数 (4 + 9) / 2 = 6.5
    B: issued 2, closed 0, overdue 0, due 1, on-time 1 → 1/1, 0/2, no close days
    county total: issued 5, closed 2, overdue 1, due 4, on-time 2 → 0.5, 0.4, 6.5
    """
    engine, towns, _ = db
    a, b = towns[0], towns[1]
    d = lambda n: T0 + dt.timedelta(days=n)  # noqa: E731
    with engine.begin() as conn:
        a1, a2, a3 = (issue(conn, a, days=5) for _ in range(3))
        b1 = issue(conn, b, days=20)
        b2 = issue(conn, b, days=3)
        for i, fb, close in ((a1, 2, 4), (a2, 8, 9), (b2, 1, None)):
            unit = a if i != b2 else b
            duban.act(conn, i, "sign", actor="u", actor_region=unit, now=d(fb) - dt.timedelta(hours=1))
            duban.act(conn, i, "feedback", actor="u", actor_region=unit, text_="办了", now=d(fb))
            if close:
                duban.act(conn, i, "accept", actor="县", actor_region=COUNTY, now=d(close))
        duban.act(conn, a3, "sign", actor="u", actor_region=a, now=d(1))
    now = d(10)
    period = dict(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), now=now)
    with engine.connect() as conn:
        by_unit = duban.measures(conn, actor_region=COUNTY, code=COUNTY, by="unit", **period)
        by_region = duban.measures(conn, actor_region=COUNTY, code=COUNTY, by="region", **period)
        total = duban.measures(conn, actor_region=COUNTY, code=COUNTY, by="total", **period)
        only_a = duban.measures(conn, actor_region=a, code=COUNTY, by="total", **period)
        october = duban.measures(conn, actor_region=COUNTY, code=COUNTY, by="total", date_from=dt.date(2026, 10, 1),
                                 date_to=dt.date(2026, 10, 31), now=now)
        kids = duban.open_by_child(conn, COUNTY, actor_region=COUNTY, now=now)
        probs = duban.problem_status(conn, actor_region=COUNTY, month=202611, region_codes=[a, b])
    assert october.empty
    m = measures_.evaluated(by_unit, measures_.load_rules(DEFAULT_RULES)).set_index("key")
    assert m.loc[a, ["issued", "closed", "overdue", "due", "on_time_feedback"]].tolist() == [3, 2, 1, 3, 1]
    assert m.loc[a, "on_time_feedback_rate"] == pytest.approx(1 / 3)
    assert m.loc[a, "duban_closure_rate"] == pytest.approx(2 / 3)
    assert m.loc[a, "avg_close_days"] == pytest.approx(6.5)
    assert m.loc[b, ["issued", "closed", "overdue", "due", "on_time_feedback"]].tolist() == [2, 0, 0, 1, 1]
    assert m.loc[b, "on_time_feedback_rate"] == 1.0 and m.loc[b, "duban_closure_rate"] == 0.0
    assert pd.isna(m.loc[b, "avg_close_days"])
    # warnings with config/duban_rules.toml: A: 1/3 < 0.8 red, 2/3 ≥ 0.6 yellow, 1 overdue ≤ 2 yellow, 6.5 ≤ 7 green
    assert [m.loc[a, f"level_{k}"] for k in measures_.INDICATORS] == [2, 1, 1, 0]
    assert m.loc[a, "overall"] == 2
    # B: 1.0 green, 0.0 red, 0 overdue green, no close days → no data (ignored)
    assert [m.loc[b, f"level_{k}"] for k in measures_.INDICATORS] == [0, 2, 0, -1]
    t = measures_.totals(by_unit)
    assert (t["issued"], t["closed"], t["due"], t["on_time_feedback"]) == (5, 2, 4, 2)
    assert t["on_time_feedback_rate"] == pytest.approx(0.5) and t["duban_closure_rate"] == pytest.approx(0.4)
    assert t["avg_close_days"] == pytest.approx(6.5)
    assert total.iloc[0][["issued", "closed", "overdue", "due"]].tolist() == [5, 2, 1, 4]
    assert set(by_region["key"]) == {a, b} and by_region.set_index("key").loc[a, "issued"] == 3
    assert by_region.set_index("key").loc[a, "name"] != a  # the region's name, not its code
    assert only_a.iloc[0]["issued"] == 3  # a township measures only what it may see
    assert kids.set_index("code").loc[a, ["open", "overdue"]].tolist() == [1, 1]
    assert kids.set_index("code").loc[b, ["open", "overdue"]].tolist() == [2, 0]
    assert probs.empty  # none of these came from the 问题清单


def test_problem_status_follows_the_newest_instruction(db):
    engine, towns, _ = db
    a = towns[0]
    with engine.begin() as conn:
        old = issue(conn, a, origin="warning", indicator="overdue", month=202609)
        for step, who in (("sign", a), ("feedback", a), ("accept", COUNTY)):
            duban.act(conn, old, step, actor="x", actor_region=who, text_="办了", now=T0)
        new = issue(conn, a, origin="warning", indicator="closure_rate", month=202610)
    with engine.connect() as conn:
        got = duban.problem_status(conn, actor_region=COUNTY, month=202610, region_codes=[a])
        hidden = duban.problem_status(conn, actor_region=towns[1], month=202610, region_codes=[a])
    assert got[["indicator", "id", "status"]].values.tolist() == [["closure_rate", new, "issued"]]
    assert hidden.empty
