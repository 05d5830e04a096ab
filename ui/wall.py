"""The wall display (大屏): URL parameters, rotation, the data payload, and its drawing.

Everything the wall shows is sized in viewport units (boxes in ``ui.theme.WALL_BOXES``, type in vh) and
the charts are inline SVG with a viewBox in 1920×1080 design pixels, so a 4K wall shows the same picture
as a 1080p one, only sharper. The map is pydeck (no basemap); its zoom is fitted to the canvas size the
browser reports (``viewport()``), so it fills its panel at any resolution.

Drawing functions are pure: a payload (plain dicts and small frames, built by :func:`collect`) in, an
HTML string out. The page keeps the last good payload and draws it again when the database is down.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from data_access.codes import CHILD_LEVEL, is_code, level_of
from data_access.view import View
from exports.safety import mask_text
from . import fmt
from .escape import md
from .strings import label, t
from .duban import wall_chip as duban_wall_chip, wall_counts as duban_wall_counts, wall_title as duban_wall_title
from .theme import WALL_BOXES, WALL_MAP_CANVAS, WALL_TITLE_VH

DESIGN_W, DESIGN_H = 1920, 1080
DEFAULT_REFRESH, MIN_REFRESH, MAX_REFRESH = 60, 2, 3600
MIN_ROTATE = 2
#: Start of the period for "当前逾期": every open case reported before the reference day.
OPEN_SINCE = dt.date(2000, 1, 1)
RANK_ROWS = 10
TICKER_CASES = 12


# --- URL parameters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class WallParams:
    refresh: int = DEFAULT_REFRESH    # seconds between data refreshes
    rotate: int = 0                   # seconds per region; 0: no rotation
    regions: tuple[str, ...] = ()     # the rotation; empty: the region and its children

    @property
    def tick(self) -> int:
        """Seconds between fragment runs: often enough for both the refresh and the rotation."""
        return min(self.refresh, self.rotate) if self.rotate else self.refresh


def wall_params(params: Mapping[str, str | None]) -> tuple[WallParams, list[str]]:
    """``?refresh=60&rotate=30&regions=a,b`` -> WallParams, and a note for every value that was replaced."""
    notes: list[str] = []

    def seconds(name: str, default: int, low: int, zero_ok: bool) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            number = float(raw)
            value = int(number)  # inf: OverflowError; nan: ValueError
        except (ValueError, OverflowError):
            notes.append(t("bad_param", name=name, value=raw))
            return default
        if zero_ok and value == 0:
            return 0
        if value < low or value > MAX_REFRESH:
            notes.append(t("bad_param", name=name, value=raw))
            return min(max(value, low), MAX_REFRESH)
        return value

    refresh = seconds("refresh", DEFAULT_REFRESH, MIN_REFRESH, zero_ok=False)
    rotate = seconds("rotate", 0, MIN_ROTATE, zero_ok=True)
    regions = []
    for code in (params.get("regions") or "").split(","):
        code = code.strip()
        if not code:
            continue
        if is_code(code):
            if code not in regions:
                regions.append(code)
        else:
            notes.append(t("bad_param", name="regions", value=code))
    return WallParams(refresh, rotate, tuple(regions)), notes


def next_slot(state: Mapping | None, cycle: tuple[str, ...], params: WallParams, now: float) -> dict:
    """Rotation state after a fragment run at monotonic time ``now``: {"cycle", "i", "since"}.

    The region changes once ``rotate`` seconds have passed since it was shown (half a tick early at most,
    so a rotation equal to the tick changes on every run); a new cycle starts at its first region.
    """
    if not state or tuple(state.get("cycle", ())) != cycle:
        return {"cycle": cycle, "i": 0, "since": now}
    i, since = int(state["i"]), float(state["since"])
    if params.rotate and len(cycle) > 1 and now - since >= params.rotate - params.tick / 2:
        return {"cycle": cycle, "i": (i + 1) % len(cycle), "since": now}
    return {"cycle": cycle, "i": i % len(cycle), "since": since}


# --- the payload ----------------------------------------------------------------------------------

def _month_start(d: dt.date, back: int = 0) -> dt.date:
    m = d.year * 12 + d.month - 1 - back
    return dt.date(m // 12, m % 12 + 1, 1)


def map_features(shapes, colors: Mapping[str, str], default: str) -> tuple[dict, list[dict]]:
    """The children of a ``geo.boundaries.ViewShapes`` as a FeatureCollection filled in their warning colours
    (``colors``: code -> hex), and their label points."""
    from geo.colors import rgba
    from geo.layers import DECIMALS, features

    kids = shapes.children
    props = [{"code": str(c), "name": str(n), "fill": rgba(colors.get(str(c), default), 205)}
             for c, n in zip(kids["code"], kids["name"])]
    labels = []
    areas = pd.Series([g.area for g in kids.geometry], dtype=float)
    ranks = areas.rank(method="first").fillna(0).astype(int).tolist()  # bigger regions keep their label
    for name, lon, lat, geom, rank in zip(kids["name"], kids["label_lon"], kids["label_lat"], kids.geometry, ranks):
        if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
            point = geom.representative_point()
            lon, lat = point.x, point.y
        labels.append({"p": [round(float(lon), DECIMALS), round(float(lat), DECIMALS)], "t": str(name),
                       "r": min(rank, 999)})
    return features(kids, props), labels


def collect(code: str, ref: dt.date, at: dt.datetime, version: int, live_today: dt.date | None = None) -> dict:
    """Everything the wall shows for region ``code`` with ``ref`` as "today" (raises ui.data.DataError)."""
    from analytics.warnings import level_counts
    from . import data

    me = data.region(code, version)
    rules, _error = data.rules()
    month_view = View(code, ref.replace(day=1), ref)
    today_row = data.indicator_table(View(code, ref, ref), at, version).iloc[0]
    month_table = data.evaluated(month_view, at, version)
    month_row = month_table.iloc[0]
    overdue_now = data.open_overdue(View(code, OPEN_SINCE, ref), at, version)["overdue"]
    trend = data.monthly(View(code, _month_start(ref, 11), ref), at, version)
    mix = data.by_dimension(month_view, "category", at, version)
    cases = data.latest_cases(code, ref, version, TICKER_CASES)
    try:
        shapes = data.map_shapes(code, version)
    except data.DataError:  # no usable boundaries: the wall shows the rest (the database itself answered above)
        shapes = None

    kids = month_table[~month_table["is_total"]].copy()
    if kids.empty:  # a grid: the region itself
        kids = month_table.copy()
    worst = len(rules.levels) - 1
    level_cols = [f"level_{i.key}" for i in rules.indicators]
    kids["n_worst"] = (kids[level_cols] == worst).sum(axis=1) if level_cols else 0
    ranked = kids.sort_values(["overall", "n_worst", "closure_rate", "code"], ascending=[False, False, True, True],
                              na_position="last", kind="stable")
    rank = []
    for row in ranked.head(RANK_ROWS).itertuples(index=False):
        problems = sorted(((getattr(row, f"level_{i.key}"), i.name) for i in rules.indicators
                           if row.overall >= 0 and getattr(row, f"level_{i.key}") > 0), reverse=True)
        rank.append({"code": row.code, "name": row.name, "overall": int(row.overall), "color": row.overall_color,
                     "closure_rate": row.closure_rate, "overdue": row.overdue,
                     "problems": [(name, rules.levels[lvl].color) for lvl, name in problems]})
    counts = level_counts(kids, rules)
    legend = [(lv.name, lv.color, int(counts.get(lv.name, 0))) for lv in rules.levels]
    legend.append((rules.no_data.name, rules.no_data.color, int(counts.get(rules.no_data.name, 0))))
    if shapes is not None:
        fc, labels = map_features(shapes, dict(zip(kids["code"].astype(str), kids["overall_color"])),
                                  rules.no_data.color)
        bounds = shapes.bounds
    else:
        fc, labels, bounds = {"type": "FeatureCollection", "features": []}, [], None
    total = float(mix["received"].sum()) if len(mix) else 0.0
    mix = mix.assign(share=mix["received"] / total if total else 0.0)
    live_today = live_today or data.today()
    return {
        "code": code, "name": me["name"], "level": me["level"],
        "child_level": CHILD_LEVEL.get(level_of(code), "grid"),
        "ref": ref, "is_today": ref == live_today,
        "today": {k: today_row[k] for k in ("received", "closed", "closure_rate")},
        "overdue_now": overdue_now,
        "month": {k: month_row[k] for k in ("received", "closed", "closure_rate", "overdue")},
        "worst": {"name": rules.levels[worst].name, "color": rules.levels[worst].color,
                  "n": int((kids["overall"] == worst).sum()), "of": len(kids)},
        "rank": rank, "legend": legend,
        "trend": trend[["month", "received", "closed", "closure_rate"]].reset_index(drop=True),
        "mix": mix[["category", "received", "share"]].reset_index(drop=True),
        "cases": cases.reset_index(drop=True),
        "features": fc, "labels": labels, "bounds": bounds,
        "stamp": dt.datetime.now().replace(microsecond=0),
        "duban": duban_wall_counts(code, at),  # issue 19: open and overdue instructions by region
    }


# --- drawing --------------------------------------------------------------------------------------

def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _d(text) -> str:
    """A value from the data or the URL in the wall's HTML (drawn through st.markdown): neither HTML nor
    Markdown (ui.escape.md)."""
    return md(text, keep_newlines=True)


def _period_labels(p: dict, lines: bool = False) -> tuple[str, str]:
    """("今日", "本月"), or the dates when the wall shows a past day (``lines``: the month on two lines)."""
    ref = p["ref"]
    if p["is_today"]:
        return t("wall_today"), t("wall_this_month")
    month = t("wall_month_lines" if lines else "wall_month", year=ref.year, month=ref.month)
    return t("wall_day", month=ref.month, day=ref.day), month


def _panel(name: str, title: str, body: str, extra: str = "") -> str:
    return (f'<div class="wall wall-box wall-panel wall-box-{name}" data-testid="wall-{name}">'
            f'<div class="wall-title"><span>{title}</span>{extra}</div><div class="wall-body">{body}</div></div>')


def _design_size(name: str) -> tuple[int, int]:
    """Size in 1920×1080 design pixels of a panel's body (the SVG viewBox)."""
    _left, _top, w, h = WALL_BOXES[name]
    return int(round(w / 100 * DESIGN_W - 0.016 * DESIGN_W)), int(round((h - WALL_TITLE_VH - 1.6) / 100 * DESIGN_H))


def header_html(p: dict | None, *, tick: int, stale: bool, position: tuple[int, int] | None, notes=(),
                refresh: int = DEFAULT_REFRESH) -> str:
    name = p["name"] if p else ""
    title = _e(t("wall_title", region=md(name))) if p else _e(t("app_subtitle"))
    if p is None:
        status = f'<span class="wall-stale">{_e(t("wall_waiting"))}</span>'
    elif stale:
        status = (f'<span class="wall-stamp wall-stale" data-testid="wall-stamp">'
                  f'{_e(t("wall_stale", time=p["stamp"].strftime("%H:%M:%S")))}</span>')
    else:
        status = (f'<span class="wall-stamp" data-testid="wall-stamp">'
                  f'{_e(t("data_as_of", time=p["stamp"].strftime("%H:%M:%S")))}</span>')
    rot = ""
    if position and position[1] > 1:
        rot = f'<span class="wall-rot" data-testid="wall-rotation">{_e(t("wall_rotation", i=position[0] + 1, n=position[1]))}</span>'
    extra = "".join(f'<br><span class="wall-stale">{_d(n)}</span>' for n in notes)
    return (f'<div class="wall wall-box wall-header wall-box-header" data-testid="wall-header" data-tick="{tick}" '
            f'data-region="{_e(p["code"] if p else "")}" data-stale="{str(bool(stale)).lower()}">'
            f'<h1>{title}</h1><div class="wall-meta">{status}{rot}<br>'
            f'<span>{_e(t("wall_refresh_every", s=refresh))}</span> · '
            f'<span class="wall-rule" data-testid="wall-rule">{_e(t("wall_rule_note"))}</span>{extra}</div></div>')


def kpi_html(p: dict) -> str:
    day, month = _period_labels(p, lines=True)

    def tile(name: str, indicator: str, value, bad: bool = False) -> str:
        cls = "value bad" if bad else "value"
        text = _e(fmt.value(indicator, value))
        if text.endswith("%"):
            text = text[:-1] + "<small>%</small>"
        return (f'<div class="tile"><div class="label">{_e(name)}</div>'
                f'<div class="{cls}">{text}</div></div>')

    d, m, w = p["today"], p["month"], p["worst"]
    child = t(f"level_{p['child_level']}")
    worst_bg = w["color"] if w["n"] else "#1d3558"
    cells = [
        f'<div class="row-label">{_e(day).replace(chr(10), "<br>")}</div>',
        tile(label("received"), "received", d["received"]),
        tile(label("closed"), "closed", d["closed"]),
        tile(label("closure_rate"), "closure_rate", d["closure_rate"]),
        tile(t("wall_now_overdue"), "overdue", p["overdue_now"], bad=bool(p["overdue_now"])),
        f'<div class="worst" style="background:{_e(worst_bg)}" data-testid="wall-worst">'
        f'<div class="label">{_e(t("wall_worst_regions", level=w["name"]))}</div>'
        f'<div class="value">{w["n"]}</div>'
        f'<div class="sub">{_e(t("wall_of_total", n=w["of"], child=child))}</div></div>',
        f'<div class="row-label">{_e(month).replace(chr(10), "<br>")}</div>',
        tile(label("received"), "received", m["received"]),
        tile(label("closed"), "closed", m["closed"]),
        tile(label("closure_rate"), "closure_rate", m["closure_rate"]),
        tile(label("overdue"), "overdue", m["overdue"], bad=bool(m["overdue"])),
    ]
    return (f'<div class="wall wall-box wall-panel wall-kpi wall-box-kpi" data-testid="wall-kpi">'
            f'{"".join(cells)}</div>')


def _text(x, y, s, size, fill="#cfe3ff", anchor="start", weight=400, halo: bool = False, data: bool = False) -> str:
    """An SVG text; ``data``: ``s`` came from the data (escaped for Markdown too)."""
    ring = ' stroke="#0e1a30" stroke-width="5" paint-order="stroke" stroke-linejoin="round"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" '
            f'font-weight="{weight}" dominant-baseline="middle"{ring}>{_d(s) if data else _e(s)}</text>')


def mix_svg(mix: pd.DataFrame, width: int, height: int) -> str:
    """Horizontal bars: cases per category, with count and share."""
    if mix.empty or mix["received"].sum() == 0:
        return f'<div class="wall-empty">{_e(t("nothing"))}</div>'
    rows = mix.head(10)
    n = max(len(rows), 6)
    row_h = height / n
    name_w, value_w = 96, 120
    bar_w = width - name_w - value_w
    top = rows["received"].max()
    palette = ["#4fc3f7", "#29b6f6", "#26c6da", "#26a69a", "#66bb6a", "#9ccc65", "#ffca28", "#ffa726", "#ab47bc",
               "#78909c"]
    out = [f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" role="img">']
    for i, r in enumerate(rows.itertuples(index=False)):
        cy = row_h * i + row_h / 2
        bh = min(row_h * 0.56, 26)
        w = max(2.0, bar_w * r.received / top) if top else 2.0
        out.append(_text(name_w - 10, cy, r.category, 19, "#e6edf7", "end", 700, data=True))
        out.append(f'<rect x="{name_w}" y="{cy - bh / 2:.1f}" width="{w:.1f}" height="{bh:.1f}" rx="3" '
                   f'fill="{palette[i % len(palette)]}"><title>{_d(r.category)} {r.received:,}</title></rect>')
        out.append(_text(name_w + w + 8, cy, f"{int(r.received):,} · {r.share * 100:.0f}%", 17, "#cfe3ff"))
    out.append("</svg>")
    return "".join(out)


def trend_svg(trend: pd.DataFrame, width: int, height: int) -> str:
    """Last 12 months: received and closed as paired bars, 办结率 as a line on the right axis."""
    if trend.empty:
        return f'<div class="wall-empty">{_e(t("nothing"))}</div>'
    left, right, top, bottom = 46, 50, 40, 30
    pw, ph = width - left - right, height - top - bottom
    n = len(trend)
    band = pw / n
    vmax = max(float(trend[["received", "closed"]].to_numpy().max()), 1.0)
    step = 10 ** max(0, int(math.log10(vmax)))
    vmax = math.ceil(vmax / step) * step
    rates = trend["closure_rate"].dropna()
    rmin = min(0.8, math.floor(rates.min() * 10) / 10) if len(rates) else 0.8
    rmin = max(0.0, rmin)
    c_recv, c_closed, c_rate = "#4fc3f7", "#26a69a", "#ffb74d"
    out = [f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" role="img">']
    # legend
    lx = left
    for name, color in ((label("received"), c_recv), (label("closed"), c_closed), (label("closure_rate"), c_rate)):
        out.append(f'<rect x="{lx}" y="8" width="16" height="16" rx="3" fill="{color}"/>')
        out.append(_text(lx + 22, 16, name, 16, "#cfe3ff"))
        lx += 22 + 17 * len(name) + 20
    # grid and axes
    for k in range(5):
        y = top + ph - ph * k / 4
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#1d3558" stroke-width="1"/>')
        out.append(_text(left - 6, y, f"{int(vmax * k / 4):,}", 13, "#8aa0bf", "end"))
        out.append(_text(left + pw + 6, y, f"{(rmin + (1 - rmin) * k / 4) * 100:.0f}%", 13, "#8aa0bf"))
    bw = band * 0.32
    points = []
    for i, r in enumerate(trend.itertuples(index=False)):
        x = left + band * i + band / 2
        for value, dx, color in ((r.received, -bw, c_recv), (r.closed, 0, c_closed)):
            h = ph * float(value) / vmax
            out.append(f'<rect x="{x + dx:.1f}" y="{top + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{color}" rx="1.5">'
                       f'<title>{_e(label("received") if dx else label("closed"))} {int(value):,}</title></rect>')
        month = int(r.month) % 100
        if n <= 8 or (n - 1 - i) % 2 == 0:
            out.append(_text(x, top + ph + 16, t("wall_month_tick", month=month), 15, "#8aa0bf", "middle"))
        if not pd.isna(r.closure_rate):
            y = top + ph - ph * (max(float(r.closure_rate), rmin) - rmin) / (1 - rmin or 1)
            points.append((x, y, float(r.closure_rate)))
    if points:
        out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)}" fill="none" '
                   f'stroke="{c_rate}" stroke-width="3"/>')
        for x, y, _ in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c_rate}"/>')
        x, y, v = points[-1]
        out.append(_text(x - 6, y - 18, f"{v * 100:.1f}%", 17, c_rate, "end", 700, halo=True))
    out.append("</svg>")
    return "".join(out)


def rank_html(p: dict) -> str:
    child = t(f"level_{p['child_level']}")
    if not p["rank"]:
        return f'<div class="wall-empty">{_e(t("nothing"))}</div>'
    items = []
    for i, r in enumerate(p["rank"], start=1):
        chips = "".join(f'<span style="background:{_e(color)}">{_e(name)}</span>' for name, color in r["problems"])
        nums = (f'{_e(t("wall_rank_closure"))} {_e(fmt.value("closure_rate", r["closure_rate"]))} · '
                f'{_e(t("wall_rank_overdue"))} {_e(fmt.value("overdue", r["overdue"]))}')
        items.append(f'<div class="item" data-code="{_e(r["code"])}"><div class="no" style="background:{_e(r["color"])}">{i}</div>'
                     f'<div class="name">{_d(r["name"])}</div><div class="nums">{nums}</div>'
                     f'<div class="chips">{chips}{duban_wall_chip(p, r["code"])}</div></div>')
    if all(r["overall"] <= 0 for r in p["rank"]) and any(r["overall"] == 0 for r in p["rank"]):
        items.append(f'<div class="wall-empty" style="height:auto;padding-top:1vh">'
                     f'{_e(t("wall_rank_all_good", child=child))}</div>')
    return f'<div class="wall-rank">{"".join(items)}</div>'


def panels_html(p: dict) -> str:
    """The panels that change only with the data: KPI band, category mix, trend, ranking, map frame."""
    _day, month = _period_labels(p)
    child = t(f"level_{p['child_level']}")
    legend = "".join(f'<span><i style="background:{_e(color)}"></i>{_e(t("wall_legend_count", name=name, n=n))}</span>'
                     for name, color, n in p["legend"])
    map_body = "" if p["features"]["features"] else f'<div class="wall-empty">{_e(t("wall_no_map"))}</div>'
    return "".join([
        kpi_html(p),
        _panel("mix", _e(t("wall_mix_title", period=month)), mix_svg(p["mix"], *_design_size("mix"))),
        _panel("trend", _e(t("wall_trend_title")), trend_svg(p["trend"], *_design_size("trend"))),
        _panel("rank", _e(t("wall_rank_title", child=child, period=month)), rank_html(p), extra=duban_wall_title(p)),
        _panel("map", _e(t("wall_map_title", child=child, period=month)), map_body,
               extra=f'<span class="wall-legend" data-testid="wall-legend">{legend}</span>'),
    ])


def ticker_html(cases: pd.DataFrame) -> str:
    """A scrolling strip of the latest cases: time, category, place, status (no personal data)."""
    if cases.empty:
        lane = f'<div class="case" style="padding-left:1vw">{_e(t("wall_no_cases"))}</div>'
        seconds = 0
    else:
        items = []
        for r in cases.itertuples(index=False):
            place = " ".join(str(x) for x in (r.township, r.village) if x and not pd.isna(x))
            when = pd.Timestamp(r.reported_at).strftime("%m-%d %H:%M")
            items.append(f'<span class="case"><b>{_e(when)}</b>{_d(mask_text(r.category))} · {_d(place)}'
                         f'<em>{_e(t(f"status_{r.status}"))}</em></span>')
        chars = sum(len(i) for i in items) // 3
        seconds = max(40, chars // 3)
        one = "".join(items)
        lane = f'<div class="track" style="animation-duration:{seconds}s">{one}{one}</div>'
    return (f'<div class="wall wall-box wall-panel wall-ticker wall-box-ticker" data-testid="wall-ticker">'
            f'<div class="tag">{_e(t("wall_ticker_title"))}</div><div class="lane">{lane}</div></div>')


# --- the map --------------------------------------------------------------------------------------

def map_canvas_px(viewport: tuple[int, int]) -> tuple[float, float]:
    """Size in CSS px of the map canvas on a ``viewport`` (width, height) screen."""
    _l, _t, w, h = WALL_MAP_CANVAS
    return viewport[0] * w / 100, viewport[1] * h / 100


def deck(p: dict, viewport: tuple[int, int]):
    """The pydeck map of the payload's children in their warning colours (geo/, no basemap), or None.

    The view state is fitted to the canvas size on this screen, so the region fills its panel on a 4K wall as
    on a 1080p one; label size and line width scale with the screen too. No controller, no tooltip: a wall.
    """
    import pydeck as pdk
    from geo.layers import FONT, PIXELS, CompactDeck, character_set, fit_view

    if not p["features"]["features"] or p["bounds"] is None:
        return None
    width, height = map_canvas_px(viewport)
    scale = viewport[1] / DESIGN_H
    layers = [pdk.Layer("GeoJsonLayer", p["features"], id="wall_children", pickable=False, stroked=True,
                        filled=True, get_fill_color="properties.fill", get_line_color=[220, 235, 255, 230],
                        line_width_units=PIXELS, get_line_width=round(max(1.0, 1.6 * scale), 2))]
    n = len(p["labels"])
    if 0 < n <= 40:
        label = pdk.Layer("TextLayer", p["labels"], id="wall_labels", get_position="p", get_text="t",
                          get_size=round((20 if n <= 10 else 15 if n <= 20 else 12) * scale, 1), size_units=PIXELS,
                          get_color=[255, 255, 255, 255], font_weight=700, background=True,
                          get_background_color=[11, 18, 32, 190],
                          background_padding=[round(6 * scale), round(3 * scale)],
                          get_text_anchor='"middle"', get_alignment_baseline='"center"', pickable=False,
                          # labels that would overlap are left out, the bigger region keeps its label
                          extensions=[{"@@type": "CollisionFilterExtension"}], get_collision_priority="r",
                          collision_test_props={"sizeScale": 2})
        # pydeck reads a plain string as an expression: set these verbatim (as geo.layers does)
        label.__dict__.update(font_family=FONT, character_set=character_set(lab["t"] for lab in p["labels"]))
        layers.append(label)
    return CompactDeck(layers=layers, map_provider=None, tooltip=False,
                       initial_view_state=pdk.ViewState(**fit_view(p["bounds"], width, height), pitch=0, bearing=0),
                       views=[pdk.View(type="MapView", controller=False)])


# --- the browser's viewport -----------------------------------------------------------------------

_VIEWPORT_JS = """
export default function ({ setStateValue }) {
  const send = () => setStateValue("size", [window.innerWidth, window.innerHeight]);
  send();
  let timer;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(send, 400); };
  window.addEventListener("resize", onResize);
  return () => { clearTimeout(timer); window.removeEventListener("resize", onResize); };
}
"""
_viewport_component = None


def viewport(key: str = "wall_viewport") -> tuple[int, int]:
    """The browser window's size in CSS px (1920×1080 until the browser has told us)."""
    import streamlit as st

    global _viewport_component
    if _viewport_component is None:
        _viewport_component = st.components.v2.component("yiping_wall_viewport", js=_VIEWPORT_JS)
    with st.container(key=key):
        _viewport_component(key=f"{key}_size", height=0)
    state = st.session_state.get(f"{key}_size") or {}
    size = state.get("size") if isinstance(state, Mapping) else None
    try:
        w, h = int(size[0]), int(size[1])
        if w > 0 and h > 0:
            return w, h
    except (TypeError, ValueError, IndexError):
        pass
    return DESIGN_W, DESIGN_H
