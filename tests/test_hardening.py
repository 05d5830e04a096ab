"""Issue 14, pure parts: the escape helper, URL parameters (dates, numbers, unknown values), wall parameters."""
import datetime as dt
import re

import plotly.graph_objects as go
import pytest

from ui.escape import html, md, plot, safe_figure
from ui.state import date_range, view_from_params
from ui.wall import wall_params

from . import planted

ROOT = "331100000000"
TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize("payload", [*planted.MARKUP.values(), planted.MARKUP_CATEGORY, *planted.REGION_NAMES.values(),
                                     ":red[红字]", "$x^2$", "# 标题", "> 引用", "**粗体**", ":material/home:"])
def test_md_leaves_no_markdown_or_html_syntax(payload):
    out = md(payload)
    bare = re.sub(r"&#\d+;", "", out)  # numeric character references are text to every renderer
    for ch in "[]()<>!*#:$`_|~\"'&;":
        assert ch not in bare
    assert html_unescape(out).replace("\u200b", "") == payload  # shown as the characters it is
    assert not re.search(r"(?i)(https?|www)&#", out)  # no scheme or www a GFM autolink could find


def html_unescape(s):
    import html as h
    return h.unescape(s)


def test_md_keeps_newlines_only_on_request():
    assert "\n" not in md("a\n# b") and md("a\nb", keep_newlines=True) == "a\nb"
    assert html("<b>") == "&lt;b&gt;" and plot("<a href='x'>") == "&lt;a href='x'&gt;" and plot(3) == 3


def test_safe_figure_escapes_data_strings_and_keeps_our_templates():
    fig = go.Figure(go.Bar(x=[1, 2], y=[planted.MARKUP_CATEGORY, "治安"], text=["1<br>2", "3"],
                           customdata=[["331102000000"], ["331121000000"]], hovertemplate="%{y}<extra></extra>"))
    fig.add_heatmap(z=[[1]], x=["1月"], y=[planted.REGION_NAMES["grid"]])
    safe_figure(fig)
    assert fig.data[0].y[0] == "&lt;b&gt;粗体类别&lt;/b&gt;" and fig.data[0].y[1] == "治安"
    assert fig.data[0].text[0] == "1<br>2" and fig.data[0].hovertemplate == "%{y}<extra></extra>"
    assert fig.data[0].customdata[0][0] == "331102000000" and fig.data[1].y[0].startswith("&lt;a")
    assert "<a " not in fig.to_json() and "<b>" not in fig.to_json().replace("1<br>2", "")


@pytest.mark.parametrize("params, names", [
    ({"from": "9999-01-01"}, ["from"]),
    ({"to": "9999-12-31"}, ["to"]),
    ({"from": "0001-01-01"}, ["from"]),
    ({"from": "1999-12-31", "to": "2028-01-01"}, ["from", "to"]),
    ({"from": "2026-13-01"}, ["from"]),
])
def test_dates_outside_the_sane_range_fall_back_with_a_message(params, names):
    view, notes = view_from_params(params, ROOT, TODAY)
    lo, hi = date_range(TODAY)
    assert (lo, hi) == (dt.date(2000, 1, 1), dt.date(2027, 11, 30))
    assert view.date_from == dt.date(2026, 1, 1) and view.date_to == TODAY
    assert len(notes) == len(names) and all(f"{n}=" in note for n, note in zip(names, notes))
    view.previous(), view.year_ago()  # no overflow downstream


def test_unknown_list_values_are_named_and_ignored():
    known = {"cat": ["矛盾纠纷", "治安"], "src": ["网格员上报"], "status": ("closed", "reported")}
    view, notes = view_from_params({"cat": "矛盾纠纷,不存在,<a>", "src": "x", "status": "closed,done"}, ROOT, TODAY,
                                   known)
    assert (view.categories, view.sources, view.statuses) == (("矛盾纠纷",), (), ("closed",))
    assert notes == ["地址参数 cat 中的 不存在、<a> 不存在，已忽略。", "地址参数 src 中的 x 不存在，已忽略。",
                     "地址参数 status 中的 done 不存在，已忽略。"]
    view, notes = view_from_params({"cat": ",".join(f"c{i}" for i in range(80))}, ROOT, TODAY)
    assert len(view.categories) == 50 and "最多 50 个" in notes[0]


@pytest.mark.parametrize("raw, used", [("inf", 60), ("-inf", 60), ("nan", 60), ("1e400", 60), ("1e9", 3600),
                                       ("0", 2), ("abc", 60)])
def test_wall_refresh_is_finite_and_bounded(raw, used):
    params, notes = wall_params({"refresh": raw})
    assert params.refresh == used and len(notes) == 1 and "refresh" in notes[0]


def test_safe_figure_writes_back_only_what_escaping_changed():
    """Values that need no escaping are not assigned again (plotly would validate them again); nested markup is
    still escaped."""
    import numpy as np

    from ui.escape import _changed, _escape_array
    for plain in (("治安", "信访"), [1.5, 2.5], np.array([1, 2]), np.array(["a", "b"]), [["331102000000"]]):
        assert not _changed(plain, _escape_array(plain))
    for marked in (("<b>",), np.array(["a", "&"]), [["ok"], ["<i>"]]):
        assert _changed(marked, _escape_array(marked))
    fig = go.Figure(go.Bar(x=[1.5, 2.5], y=["治安", "信访"], customdata=[["331102000000"], ["<b>x</b>"]]))
    safe_figure(fig)
    assert fig.data[0].y == ("治安", "信访")
    assert fig.data[0].customdata[1][0] == "&lt;b&gt;x&lt;/b&gt;" and fig.data[0].customdata[0][0] == "331102000000"
    assert "<b>" not in fig.to_json()
