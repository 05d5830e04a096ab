"""大屏 (wall): URL parameters, rotation, map fitting, drawing (pure), its queries, and the page (AppTest),
including "the database is down: keep the last picture, show the stamp, recover by itself"."""
from __future__ import annotations

import datetime as dt
import math
import os

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_access import queries, wall as wall_sql
from ui import wall
from ui.theme import WALL_BOXES, WALL_CSS

from .conftest import ROOT

CITY, COUNTY = "331100000000", "331127000000"
REF = dt.date(2026, 10, 31)
AS_OF = dt.datetime(2026, 11, 1)


# --- URL parameters and rotation ------------------------------------------------------------------

def test_params_defaults():
    p, notes = wall.wall_params({})
    assert p == wall.WallParams(60, 0, ()) and p.tick == 60 and notes == []


def test_params_values_and_tick():
    p, notes = wall.wall_params({"refresh": "60", "rotate": "30", "regions": "331102000000, 331121000000,331102000000"})
    assert (p.refresh, p.rotate, p.regions) == (60, 30, ("331102000000", "331121000000")) and notes == []
    assert p.tick == 30
    assert wall.wall_params({"refresh": "3", "rotate": "30"})[0].tick == 3
    assert wall.wall_params({"rotate": "0"})[0].rotate == 0


@pytest.mark.parametrize("raw, field, expected", [
    ({"refresh": "abc"}, "refresh", 60), ({"refresh": "0"}, "refresh", 2), ({"refresh": "999999"}, "refresh", 3600),
    ({"rotate": "x"}, "rotate", 0), ({"rotate": "1"}, "rotate", 2),
])
def test_bad_params_fall_back_with_a_note(raw, field, expected):
    p, notes = wall.wall_params(raw)
    assert getattr(p, field) == expected
    assert len(notes) == 1 and field in notes[0]


def test_bad_region_codes_are_dropped_with_a_note():
    p, notes = wall.wall_params({"regions": "331102000000,abc"})
    assert p.regions == ("331102000000",) and "abc" in notes[0]


def test_rotation_moves_after_its_interval_and_wraps():
    params = wall.WallParams(refresh=60, rotate=30)
    cycle = ("a", "b", "c")
    s = wall.next_slot(None, cycle, params, 100.0)
    assert s["i"] == 0
    s = wall.next_slot(s, cycle, params, 110.0)   # too early: stays
    assert s["i"] == 0
    s = wall.next_slot(s, cycle, params, 130.02)  # the next tick (a tick equals the rotation)
    assert s["i"] == 1 and s["since"] == 130.02
    s = wall.next_slot(wall.next_slot(s, cycle, params, 160.0), cycle, params, 190.1)
    assert s["i"] == 0                            # wrapped
    assert wall.next_slot(s, ("x", "y"), params, 200.0) == {"cycle": ("x", "y"), "i": 0, "since": 200.0}


def test_rotation_with_a_short_refresh_waits_for_its_interval():
    params = wall.WallParams(refresh=3, rotate=30)
    s = wall.next_slot(None, ("a", "b"), params, 0.0)
    for k in range(1, 10):
        s = wall.next_slot(s, ("a", "b"), params, 3.0 * k)
        assert s["i"] == 0
    assert wall.next_slot(s, ("a", "b"), params, 30.05)["i"] == 1


def test_no_rotation_without_rotate():
    s = wall.next_slot(None, ("a", "b"), wall.WallParams(), 0.0)
    assert wall.next_slot(s, ("a", "b"), wall.WallParams(), 1e6)["i"] == 0


# --- the map fitting --------------------------------------------------------------------------

def test_map_zooms_in_one_step_on_a_4k_wall():
    from geo.layers import fit_view, to_pixel
    bounds = (118.696, 27.425, 120.433, 28.953)  # 丽水市
    views = {}
    for screen in ((1920, 1080), (3840, 2160)):
        w, h = wall.map_canvas_px(screen)
        view = views[screen] = fit_view(bounds, w, h)
        xs, ys = zip(*(to_pixel(x, y, view, w, h) for x in bounds[::2] for y in bounds[1::2]))
        assert min(xs) >= 0 and max(xs) <= w and min(ys) >= 0 and max(ys) <= h
        assert max((max(xs) - min(xs)) / w, (max(ys) - min(ys)) / h) == pytest.approx(0.88, abs=0.01)
    assert views[(3840, 2160)]["zoom"] - views[(1920, 1080)]["zoom"] == pytest.approx(1.0, abs=2e-3)


def test_layout_fits_the_screen_and_the_css_uses_viewport_units():
    for name, (left, top, width, height) in WALL_BOXES.items():
        assert left >= 0 and top >= 0 and left + width <= 100 and top + height <= 100, name
    assert "px" not in WALL_CSS.replace("0px", "")  # sizes in vw/vh only (scale to any wall)


# --- drawing (pure) ---------------------------------------------------------------------------

def _payload(**kw) -> dict:
    p = {
        "code": CITY, "name": "丽水市", "level": "city", "child_level": "county", "ref": REF, "is_today": False,
        "today": {"received": 34, "closed": 4, "closure_rate": 4 / 34}, "overdue_now": 336,
        "month": {"received": 1481, "closed": 1281, "closure_rate": 1281 / 1481, "overdue": 146},
        "worst": {"name": "红", "color": "#c62828", "n": 2, "of": 9},
        "rank": [{"code": "331102000000", "name": "莲都<区>", "overall": 2, "color": "#c62828", "closure_rate": 0.8,
                  "overdue": 23, "problems": [("办结率", "#c62828")]}],
        "legend": [("绿", "#2e7d32", 5), ("黄", "#f9a825", 2), ("红", "#c62828", 2), ("数据不足", "#9e9e9e", 0)],
        "trend": pd.DataFrame({"month": [202609, 202610], "received": [1500, 1481], "closed": [1490, 1281],
                               "closure_rate": [0.99, 0.865]}),
        "mix": pd.DataFrame({"category": ["矛盾纠纷", "治安"], "received": [3, 1], "share": [0.75, 0.25]}),
        "cases": pd.DataFrame({"reported_at": [pd.Timestamp("2026-10-31 22:33")], "category": ["安全隐患"],
                               "status": ["dispatched"], "township": ["垟口街道"], "village": ["银坞社区"]}),
        "features": {"type": "FeatureCollection", "features": []}, "labels": [], "bounds": None, "stamp": dt.datetime(2026, 11, 22, 9, 5, 7),
    }
    p.update(kw)
    return p


def test_panels_show_the_numbers_and_escape_names():
    out = wall.panels_html(_payload())
    assert "1,481" in out and "86.5<small>%</small>" in out and "336" in out
    assert "红色预警" in out and "共 9 个县（市、区）" in out
    assert "莲都&#60;区&#62;" in out and "莲都<区>" not in out   # ui.escape.md: neither HTML nor Markdown
    assert "2026年<br>10月" in out and "10月31日" in out
    assert "<svg" in out and "矛盾纠纷" in out and "暂无边界数据" in out
    assert "\n\n" not in out  # one Markdown HTML block


def test_today_labels_when_the_wall_shows_today():
    out = wall.kpi_html(_payload(is_today=True))
    assert "今日" in out and "本月" in out


def test_header_stamp_fresh_and_stale():
    fresh = wall.header_html(_payload(), tick=3, stale=False, position=(1, 10))
    assert "数据更新于 09:05:07" in fresh and 'data-tick="3"' in fresh and "轮播 2/10" in fresh
    stale = wall.header_html(_payload(), tick=4, stale=True, position=None)
    assert "数据库暂时无法连接" in stale and "09:05:07" in stale and 'data-stale="true"' in stale
    assert "正在连接数据库" in wall.header_html(None, tick=1, stale=True, position=None)


def test_ticker_has_no_personal_data_and_loops():
    out = wall.ticker_html(_payload()["cases"])
    assert "10-31 22:33" in out and "垟口街道 银坞社区" in out and "处置中" in out
    assert out.count("安全隐患") == 2  # the lane holds the items twice for a seamless loop
    assert "暂无事件" in wall.ticker_html(pd.DataFrame(columns=wall_sql.TICKER_COLUMNS))


def test_trend_and_mix_svg_handle_empty_and_nan():
    assert "暂无数据" in wall.trend_svg(pd.DataFrame(columns=["month", "received", "closed", "closure_rate"]), 400, 300)
    t = pd.DataFrame({"month": [202609, 202610], "received": [0, 0], "closed": [0, 0], "closure_rate": [math.nan] * 2})
    assert "<svg" in wall.trend_svg(t, 400, 300)
    assert "暂无数据" in wall.mix_svg(pd.DataFrame(columns=["category", "received", "share"]), 400, 300)


def test_deck_is_offline_and_fitted():
    import json
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"fill": [198, 40, 40, 205]},
          "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    p = _payload(features=fc, labels=[{"p": [0.5, 0.5], "t": "甲乡"}], bounds=(0.0, 0.0, 1.0, 1.0))
    spec = json.loads(wall.deck(p, (1920, 1080)).to_json())
    assert spec["mapStyle"] == "__MAP_STYLE__"  # map_provider=None: no basemap request
    text_layer = spec["layers"][1]
    assert "甲" in text_layer["characterSet"] and "Noto Sans CJK SC" in text_layer["fontFamily"]
    assert spec["layers"][0]["lineWidthUnits"] == "pixels" and text_layer["sizeUnits"] == "pixels"
    assert spec["views"][0]["controller"] is False
    big = json.loads(wall.deck(p, (3840, 2160)).to_json())
    assert big["layers"][1]["getSize"] == 2 * text_layer["getSize"]
    assert wall.deck(_payload(), (1920, 1080)) is None


# --- queries --------------------------------------------------------------------------------

def test_latest_cases_are_recent_first_inside_the_region_and_impersonal(small_sqlite):
    with small_sqlite.connect() as conn:
        df = wall_sql.latest_cases(conn, COUNTY, REF, 12)
        assert list(df.columns) == wall_sql.TICKER_COLUMNS  # no id, names, phones or descriptions
        assert len(df) == 12 and df["reported_at"].is_monotonic_decreasing
        assert df["reported_at"].max() < pd.Timestamp(REF + dt.timedelta(days=1))
        towns = set(queries.children(conn, COUNTY)["name"])
        assert set(df["township"]) <= towns
        assert wall_sql.latest_cases(conn, COUNTY, dt.date(2020, 1, 1), 12).empty


# --- the page (AppTest) ---------------------------------------------------------------------

@pytest.fixture
def wall_app(small_sqlite):
    os.environ["DATABASE_URL"] = str(small_sqlite.url)

    def make(**params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"region": CITY, "from": "2026-01-01", "to": "2026-10-31", **params})
        at.run()
        at.switch_page("pages/wall.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return make


def _html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_wall_page_draws_everything(wall_app):
    at = wall_app()
    html = _html(at)
    assert "丽水市 · 社会治理一屏统管" in html and "数据更新于" in html
    for part in ("wall-kpi", "wall-mix", "wall-trend", "wall-rank", "wall-map", "wall-ticker"):
        assert f'data-testid="{part}"' in html, part
    assert "10月31日" in html  # ?to= is the wall's "today"
    assert not at.error
    payload = at.session_state["wall_last"]
    assert payload["mix"]["received"].sum() == payload["month"]["received"]
    assert payload["mix"]["share"].sum() == pytest.approx(1.0)
    assert len(payload["features"]["features"]) == 9 and len(payload["labels"]) == 9  # the counties


def test_wall_keeps_the_last_data_when_the_database_is_down_and_recovers(wall_app, monkeypatch):
    from ui import data
    at = wall_app()
    before = _html(at)
    assert "数据库暂时无法连接" not in before
    stamp = before.split("数据更新于 ")[1][:8]

    def down(*_a, **_k):
        raise data.DataError("无法连接数据库（测试）")
    monkeypatch.setattr(data, "indicator_table", down)
    monkeypatch.setattr(data, "data_version", down)
    at.run()
    assert not at.exception and not at.error
    html = _html(at)
    assert f"数据库暂时无法连接，显示 {stamp} 的数据" in html
    assert 'data-stale="true"' in html
    assert "1,481" in html or "受理量" in html  # the panels are still drawn
    assert html.split('data-testid="wall-kpi"')[1] == before.split('data-testid="wall-kpi"')[1]
    assert len([k for k in at.session_state if str(k).startswith("wall_last")]) == 1

    # a full rerun (window resized, websocket reconnected) while the database is down draws the same
    import sample_data.build
    from sqlalchemy.exc import OperationalError

    def no_db(*_a, **_k):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))
    monkeypatch.setattr(sample_data.build, "is_built", no_db)
    at.query_params["region"] = CITY
    at.run()
    assert not at.exception and not at.error
    assert f"数据库暂时无法连接，显示 {stamp} 的数据" in _html(at)

    monkeypatch.undo()
    at.run()
    html = _html(at)
    assert "数据库暂时无法连接" not in html and 'data-stale="false"' in html


def test_wall_rotation_list_and_bad_params(wall_app):
    at = wall_app(rotate="30", refresh="abc", regions="331102000000,331199999000")
    html = _html(at)
    assert "莲都区" in html  # the only known code of the list comes first
    assert "refresh=abc" in __import__("html").unescape(html)  # quoted values are escaped (ui.escape.md)
    assert at.session_state["wall_slot"]["cycle"] == ("331102000000",)
