"""三色预警 page: (a) acceptance on the default sample (丽水市, October 2026 shows red and yellow regions and a
problem list that says why); (b) AppTest: a threshold edited in the rules file changes the colours on the next
rerun without a restart, and a broken file shows a Chinese message with the line number and keeps the colours."""
import datetime as dt
import os
import shutil

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from analytics.warnings import load_rules, problems
from data_access import meta
from data_access.breakdowns import month_view
from data_access.judged import warning_table

from .conftest import DEFAULT_END, ROOT

CITY = "331100000000"
SHIPPED = ROOT / "config" / "warning_rules.toml"
OCTOBER = "2026-10"


@pytest.fixture
def app_env(monkeypatch):
    """Point the app at a database (and optionally a rules file) with clean Streamlit caches."""
    def use(engine, rules=None):
        monkeypatch.setenv("DATABASE_URL", str(engine.url))
        if rules is None:
            monkeypatch.delenv("WARNING_RULES", raising=False)
        else:
            monkeypatch.setenv("WARNING_RULES", str(rules))
        st.cache_data.clear()
        st.cache_resource.clear()
    yield use
    st.cache_data.clear()
    st.cache_resource.clear()


def run_page(region: str, month: str = OCTOBER) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"region": region, "from": "2026-01-01", "to": "2026-10-31", "month": month})
    at.run()
    at.switch_page("pages/warnings.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def level_counts(at: AppTest) -> dict[str, int]:
    """The metric cards of the page: level name -> number of regions."""
    return {m.label: int(m.value.replace(",", "")) for m in at.metric}


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page whose data has ``column``."""
    for df in at.dataframe:
        value = df.value
        data = value.data if hasattr(value, "data") else value  # a Styler keeps its frame in .data
        if column in data.columns:
            return data
    raise AssertionError(f"no table with column {column}")


# --- (a) acceptance on the default sample ---

@pytest.mark.slow
def test_default_sample_october_has_red_and_yellow_with_reasons(default_sqlite, app_env):
    rules = load_rules(SHIPPED)
    as_of = dt.datetime.combine(DEFAULT_END, dt.time(23, 59))
    with default_sqlite.connect() as conn:
        struggling = meta.read(conn)["struggling_townships"].split(",")
        city = warning_table(conn, month_view(CITY, 202610), as_of, rules)
        # the county holding the most struggling townships (the generator puts up to three in one county)
        bad_county = max(sorted({t[:6] for t in struggling}), key=lambda c: sum(t.startswith(c) for t in struggling))
        bad_county += "000000"
        county = warning_table(conn, month_view(bad_county, 202610), as_of, rules)
    regions = pd.concat([city[~city["is_total"]], county[~county["is_total"]]], ignore_index=True)
    red, yellow = rules.levels[-1].name, rules.levels[1].name
    assert (regions["overall_name"] == red).any(), regions[["name", "overall_name"]]
    assert (regions["overall_name"] == yellow).any(), regions[["name", "overall_name"]]
    # the problem list says why: every red/yellow region has rows with indicator, value, threshold and gap
    why = problems(regions, rules)
    flagged = regions[regions["overall"] > 0]
    assert set(flagged["code"]) <= set(why["code"])
    assert why[["indicator_name", "value", "threshold", "gap"]].notna().all().all()
    assert (why["gap"] > 0).all()
    reds = why[why["level_name"] == red]
    assert len(reds) and set(reds["code"]) & set(flagged.loc[flagged["overall_name"] == red, "code"])

    # the page shows it: level cards, and the problem list naming the red regions and the reason
    app_env(default_sqlite)
    at = run_page(CITY)
    cards = level_counts(at)
    at_county = run_page(bad_county)
    cards_county = level_counts(at_county)
    assert cards[red] + cards_county[red] >= 1 and cards[yellow] + cards_county[yellow] >= 1, (cards, cards_county)
    for page, frame in ((at, city), (at_county, county)):
        shown = table_with(page, "gap")
        red_names = set(frame.loc[~frame["is_total"] & (frame["overall_name"] == red), "name"])
        assert red_names <= set(shown.loc[shown["level"] == red, "name"]), (red_names, shown)
        assert shown["threshold"].str.match(r"^[≥≤] ").all() and shown["gap"].str.len().gt(0).all()
    duty = table_with(at_county, "phone")
    assert duty["phone"].str.fullmatch(r"1\d{2}\*{4}\d{4}").all(), duty["phone"]     # masked like 138****1234
    assert duty["person"].notna().all() and duty["unit"].notna().all()


# --- (b) the rules file is live configuration ---

LENIENT = {
    "thresholds = [0.97, 0.92]": "thresholds = [0.02, 0.01]",
    "thresholds = [0.92, 0.82]": "thresholds = [0.02, 0.01]",
    "thresholds = [0.93, 0.85]": "thresholds = [0.02, 0.01]",
    "thresholds = [0.86, 0.75]": "thresholds = [0.02, 0.01]",
    "thresholds = [0.03, 0.08]": "thresholds = [0.98, 0.99]",
}


def edit(path, text_: str) -> None:
    """Rewrite the file and move its mtime on (a save a few seconds later), as an editor would."""
    path.write_text(text_, encoding="utf-8")
    st_ = os.stat(path)
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 5_000_000_000))


def line_of(text_: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text_.splitlines(), start=1) if fragment in line)


def test_threshold_edit_recolours_on_next_rerun_and_broken_file_keeps_colours(small_sqlite, app_env, tmp_path):
    rules_file = tmp_path / "rules.toml"
    shutil.copy(SHIPPED, rules_file)
    app_env(small_sqlite, rules_file)
    shipped = SHIPPED.read_text(encoding="utf-8")
    at = run_page(CITY)
    before = level_counts(at)
    n = sum(before.values())
    assert before["绿"] < n, before                   # the shipped thresholds flag someone in October
    assert not at.warning

    # 1. a lenient edit: every region turns green on the next rerun, same session, no restart
    lenient = shipped
    for old, new in LENIENT.items():
        lenient = lenient.replace(old, new)
    edit(rules_file, lenient)
    at.run()
    assert not at.exception
    after = level_counts(at)
    assert after["绿"] == n and after["红"] == after["黄"] == 0, after
    report = table_with(at, "overall")
    assert set(report["overall"]) == {"绿"}
    assert not at.warning

    # 2. a broken file (TOML syntax): Chinese message with the line number; the last good rules stay in force
    broken = lenient.replace('name = "黄"', "name = 黄")
    edit(rules_file, broken)
    at.run()
    assert not at.exception
    messages = [w.value for w in at.warning]
    assert any("预警规则文件有误" in m and f"第 {line_of(broken, 'name = 黄')} 行" in m for m in messages), messages
    assert level_counts(at) == after

    # 3. an inconsistent file (thresholds in the wrong order): the same, naming that line
    inconsistent = lenient.replace("thresholds = [0.98, 0.99]", "thresholds = [0.99, 0.98]")
    edit(rules_file, inconsistent)
    at.run()
    messages = [w.value for w in at.warning]
    line = line_of(inconsistent, "[0.99, 0.98]")
    assert any(f"第 {line} 行" in m and "从低到高" in m for m in messages), messages
    assert level_counts(at) == after

    # 4. fixed again: the message goes, the shipped thresholds apply again
    edit(rules_file, shipped)
    at.run()
    assert not at.warning
    assert level_counts(at) == before


def test_month_picker_defaults_to_last_full_month_and_reads_the_url(small_sqlite, app_env):
    app_env(small_sqlite)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"region": CITY})
    at.run()
    at.switch_page("pages/warnings.py")
    at.run()
    assert not at.exception
    picker = next(s for s in at.selectbox if s.label == "报表月份")
    today = dt.date.today()
    last_full = (today.replace(day=1) - dt.timedelta(days=1))
    with small_sqlite.connect() as conn:
        newest = pd.Timestamp(conn.execute(text("SELECT MAX(reported_at) FROM cases")).scalar())
    expected = min(last_full.year * 100 + last_full.month, newest.year * 100 + newest.month)
    assert picker.value == expected
    at = run_page(CITY, month="2026-03")
    picker = next(s for s in at.selectbox if s.label == "报表月份")
    assert picker.value == 202603
    assert any("2026年3月" in c.value for c in at.caption)
    # the method is stated: 应办结, the reference cases, the 12-month window and the stricter red (shipped rules)
    method = " ".join(c.value for c in at.caption)
    assert "应办结" in method and "近 12 个月" in method and "按 40 件参照事件" in method, method


def test_broken_rules_on_first_load_say_the_defaults_are_used(small_sqlite, app_env, tmp_path):
    rules_file = tmp_path / "rules.toml"
    text_ = SHIPPED.read_text(encoding="utf-8").replace('name = "黄"', "name = 黄")
    rules_file.write_text(text_, encoding="utf-8")
    app_env(small_sqlite, rules_file)
    at = run_page(CITY)
    messages = [w.value for w in at.warning]
    assert any("默认规则" in m and f"第 {line_of(text_, 'name = 黄')} 行" in m for m in messages), messages
    assert not any("上一次有效" in m for m in messages)
    assert sum(level_counts(at).values()) == 9  # the page still colours the nine counties
