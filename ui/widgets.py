"""Shared drawing pieces: breadcrumb, KPI cards, the indicator table. They only draw."""
from __future__ import annotations

import numpy as np
from functools import partial

import pandas as pd
import streamlit as st

from analytics.indicators import HIGHER_IS_BETTER, INDICATORS
from data_access.engine import database_url
from data_access.view import View
from . import data, fmt
from .escape import md, safe_figure
from .filters import set_view
from .memo import Memo
from .strings import INDICATOR_LABELS, PERCENT, UNITS, label, t

KPI_INDICATORS = ("received", "closed", "closure_rate", "on_time_rate", "overdue",
                  "median_close_hours", "local_rate", "satisfaction_rate", "per_10k")


def breadcrumb(view: View, key: str = "crumb") -> None:
    """丽水市 › 莲都区 › 某街道: each ancestor is a button that goes back up."""
    version = data.data_version()
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    for code in data.visible_ancestors(view.region):  # nothing above the user's own region
        name = data.region(code, version)["name"]
        if code == view.region:
            row.markdown(f"**{md(name)}**")
        else:  # a callback: the tap costs one script run (st.rerun() after the button would cost one and a part)
            row.button(f"{md(name)} ›", key=f"{key}_{code}", help=f"{t('back_to')} {md(name)}", on_click=set_view,
                       args=(view.with_region(code),))


def kpi_cards(now: pd.Series, before: pd.Series | None, card_width: int = 160) -> None:
    """One card per KPI in a wrapping row: as many per line as the screen holds (wall, desktop, tablet)."""
    row = st.container(horizontal=True, gap="small")
    for ind in KPI_INDICATORS:
        d = fmt.delta(ind, now.get(ind), None if before is None else before.get(ind))
        row.metric(
            label(ind), fmt.value(ind, now.get(ind)),
            delta=f"{d}（{t('vs_previous')}）" if d else None,  # sign first: Streamlit reads it for the arrow
            delta_color="normal" if HIGHER_IS_BETTER.get(ind, True) else "inverse",
            border=True, width=card_width,
        )


def column_config(columns) -> dict:
    """st.dataframe column formats: Chinese headers, percentages, hours, thousands."""
    cfg = {"code": st.column_config.TextColumn(t("col_code")), "name": st.column_config.TextColumn(t("col_name")),
           "population": st.column_config.NumberColumn(t("col_population"), format="localized")}
    for col in columns:
        if col in PERCENT:
            cfg[col] = st.column_config.NumberColumn(INDICATOR_LABELS[col], format="percent")
        elif col in ("mean_close_hours", "median_close_hours", "per_10k"):
            cfg[col] = st.column_config.NumberColumn(label(col, with_unit=True), format="%.1f")
        elif col in INDICATOR_LABELS and col not in cfg:
            cfg[col] = st.column_config.NumberColumn(label(col, with_unit=True), format="localized")
    return cfg


TABLE_COLUMNS = ["name", *INDICATORS, "population", "code"]


def sample_marks(kids: pd.DataFrame, rules, sep: str = "") -> np.ndarray:
    """Per row: "" or how a small sample was judged — 样本较少 (shrunk toward the parent) or 样本较少，按近12个月计算
    (judged on the trailing window, analytics.warnings.judged_values)."""
    n = len(kids)
    small = kids["small_sample"].to_numpy(dtype=bool) if "small_sample" in kids.columns else np.zeros(n, bool)
    window = kids["window"].to_numpy(dtype=bool) if "window" in kids.columns else np.zeros(n, bool)
    months = getattr(rules, "window_months", 0)
    return np.where(window, sep + t("fair_window_mark", months=months),
                    np.where(small, sep + t("fair_small_mark"), "")).astype(object)


def warning_cells(kids: pd.DataFrame, shown: pd.DataFrame, rules) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """An evaluated table's warnings for ``shown``: a 综合预警 column after the name (marked 样本较少 where the
    small-number judgement applied) and the colours of each rule indicator's cell below the best level."""
    from analytics.warnings import level_color
    shown = shown.copy()
    mark = sample_marks(kids, rules, sep="·")
    shown.insert(1, "overall_name", kids["overall_name"].astype(str).to_numpy() + mark)
    colors = pd.DataFrame({"overall_name": kids["overall_color"].to_numpy()}, index=shown.index)
    for rule in rules.indicators:
        if rule.key in shown.columns:
            lv = kids[f"level_{rule.key}"].to_numpy()
            colors[rule.key] = [level_color(rules, i) if i > 0 else None for i in lv]
    return shown, colors, {"overall_name": st.column_config.TextColumn(t("col_overall_level"), pinned=True)}


def indicator_table(table: pd.DataFrame, view: View, key: str, rules=None) -> None:
    """Children with every indicator; selecting a row drills into it. ``table`` evaluated (analytics.warnings)
    and ``rules`` given: with each child's 综合预警 and its indicators' warning colours."""
    made = FIGURES.get((database_url(), id(table), "indicator_table", id(rules)),
                       lambda: _indicator_body(table, rules), pin=(table, rules))
    if made is None:
        st.info(t("no_children"))
        return
    body, columns, codes, warned = made
    cfg = column_config(columns)
    if warned:
        cfg["overall_name"] = st.column_config.TextColumn(t("col_overall_level"), pinned=True)
    wkey = f"{key}_{view.region}"
    st.dataframe(body, column_config=cfg, hide_index=True,
                 on_select=partial(on_row_pick, wkey, codes, view), selection_mode="single-row",
                 key=wkey, width="stretch")
    st.caption(t("drill_hint"))


def _indicator_body(table: pd.DataFrame, rules):
    """(what indicator_table draws: the frame or a frozen Styler, its columns, the codes in row order, whether it
    has warning colours), or None without children; made once per evaluated table (memoised in FIGURES)."""
    kids = table[~table["is_total"]].reset_index(drop=True)
    if kids.empty:
        return None
    shown = kids[[c for c in TABLE_COLUMNS if c in kids.columns]]
    codes = tuple(shown["code"])
    if rules is not None and "overall" in kids.columns:
        shown, colors, _extra = warning_cells(kids, shown, rules)
        return frozen(colored(shown, colors)), list(shown.columns), codes, True
    return shown, list(shown.columns), codes, False


def on_row_pick(wkey: str, codes: tuple[str, ...], view: View) -> None:
    """A row tapped in a table of regions (``codes`` in its row order): drill into it (before the run, so the tap
    is one run)."""
    event = st.session_state.get(wkey)
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(codes):
        code = codes[rows[0]]
        if len(code) <= 15 and code != view.region:
            set_view(view.with_region(code))


# --- shared by 事件办结 / 三色预警 (and any page that shows warning colours or plotly charts) ---

#: Neutral chart colours (never the warning colours, which come only from the rules).
CHART_BLUE, CHART_TEAL, CHART_GREY, CHART_PURPLE, CHART_PINK = "#1f5fa8", "#17a2b8", "#9aa5b1", "#6f42c1", "#e377c2"
PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (#RRGGBB)."""
    r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
    return "#000000" if y > 0.30 else "#ffffff"


def level_cards(items: list[tuple[str, str, int, str | None]], key: str, card_width: int = 150) -> None:
    """One metric card per level, filled with the level's colour: items are (name, colour, count, delta)."""
    row = st.container(horizontal=True, gap="small")
    css = []
    for i, (name, color, count, delta) in enumerate(items):
        k = f"{key}_{i}"
        fg = text_color(color)
        css.append(f".st-key-{k} {{ background: {color}; border-radius: 0.5rem; padding: 0.4rem 0.8rem; }}"
                   f".st-key-{k} * {{ color: {fg} !important; fill: {fg} !important; background: transparent !important; }}")
        with row.container(key=k, width=card_width):
            st.metric(name, f"{count:,}", delta=delta, delta_color="off", delta_arrow="off")
    st.html("<style>" + "".join(css) + "</style>")


def plot(fig, key: str | None = None, select: bool = False, on_select=None, args: tuple = ()):
    """A plotly figure, full width, without the mode bar; ``select``: clicking a point reruns (drill-down), or calls
    ``on_select(*args)`` before the run."""
    return _draw(styled(fig), key, select, on_select, args)


def plot_styled(fig, key: str | None = None, select: bool = False, on_select=None, args: tuple = ()):
    """:func:`plot` for a figure already :func:`styled` (a memoised one, ``ui.data.drawn``): drawn as it is."""
    return _draw(fig, key, select, on_select, args)


def styled(fig):
    """The house style of every chart (fonts, title, margins, legend on top); changes ``fig`` and returns it.
    Names, categories and labels from data are escaped here: text, never plotly markup."""
    safe_figure(fig)
    legend = fig.layout.showlegend is not False and len(fig.data) > 1
    fig.update_layout(font=dict(size=13), title=dict(font=dict(size=16), x=0.01, xanchor="left", y=0.985,
                                                     yref="container", yanchor="top"),
                      separators=".,")
    if fig.layout.margin.t is None:
        fig.update_layout(margin=dict(l=10, r=10, t=86 if legend else 50, b=10))
    if legend:
        fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", traceorder="normal"))
    return fig


def _draw(fig, key: str | None, select: bool, on_select, args: tuple):
    if select:
        return st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG,
                               on_select=partial(on_select, *args) if on_select else "rerun", selection_mode="points")
    return st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG)


def colored(df: pd.DataFrame, colors: pd.DataFrame):
    """A Styler that fills each cell of ``df`` with the colour at the same place in ``colors`` (None: no fill)."""
    def css(_frame):
        out = colors.reindex(index=df.index, columns=df.columns)
        return out.map(lambda c: f"background-color: {c}; color: {text_color(c)}" if isinstance(c, str) and c else "")
    return df.style.apply(css, axis=None)


def frozen(styler):
    """``styler`` with its styles computed now, for a Styler that is memoised and drawn on every rerun.

    st.dataframe calls the Styler's ``_compute()`` and ``_translate(False, False)`` on every run (the pandas HTML
    machinery over every cell: most of a coloured table's cost). Here both run once and the instance answers
    later calls with that result: the same ctx, the same translated dict, which Streamlit only reads. (The
    instance stays a plain Styler, which is what st.dataframe recognises.) Any other ``_translate`` call
    (``to_html``) runs as usual."""
    from pandas.io.formats.style import Styler

    styler._compute()
    done = Styler._translate(styler, False, False)

    def translate(sparse_index, sparse_columns, *args, **kwargs):
        if (sparse_index, sparse_columns) == (False, False) and not args and not kwargs:
            return done
        return Styler._translate(styler, sparse_index, sparse_columns, *args, **kwargs)

    styler._compute = lambda: styler
    styler._translate = translate
    return styler


def picked_code(event) -> str | None:
    """The region code (customdata[0]) of the first clicked point of a plotly selection event."""
    try:
        points = event.selection.points if event is not None else []
    except AttributeError:
        return None
    for p in points:
        data = p.get("customdata")
        if data:
            return data[0] if isinstance(data, (list, tuple)) else data
    return None


def columns(spec, key: str, stack_below: int = 1200, gap: str = "medium"):
    """st.columns that stack one under the other on screens narrower than ``stack_below`` px (tablets),
    so two charts never squeeze into half of a 1024 px screen."""
    st.html(f"<style>@media (max-width: {stack_below}px) {{ .st-key-{key} [data-testid='stHorizontalBlock'] "
            f"{{ flex-direction: column; }} .st-key-{key} [data-testid='stColumn'] "
            f"{{ width: 100% !important; flex: 1 1 100% !important; min-width: 100% !important; }} }}</style>")
    return st.container(key=key).columns(spec, gap=gap)


# --- map drill-down (地图钻取): the map, its legend, the ranking bars; shared by 地图钻取 and 总览 ---
import html as _html  # noqa: E402

from geo import colors as geo_colors  # noqa: E402
from geo import layers as geo_layers  # noqa: E402

#: What the map can be coloured by: the warning level, or any indicator (URL ?ind=).
MAP_MODES: tuple[str, ...] = (geo_colors.WARNING, *INDICATORS)
#: Figures in a region's tooltip and in its tap-equivalent text beside the map.
MAP_FIGURES = ("received", "closure_rate", "on_time_rate", "overdue", "satisfaction_rate", "per_10k")


def _mode_label(mode: str) -> str:
    return t("map_color_warning") if mode == geo_colors.WARNING else label(mode)


def map_mode(key: str) -> str:
    """A selectbox for what colours the map (kept in the URL as ``?ind=``); returns the mode."""
    raw = st.query_params.get("ind") or st.session_state.get("map_ind") or geo_colors.WARNING
    if raw not in MAP_MODES:
        st.warning(t("map_bad_ind", value=md(raw)))
        raw = geo_colors.WARNING
    st.session_state["map_ind"] = raw
    if st.query_params.get("ind") != raw:
        st.query_params["ind"] = raw
    wkey = f"{key}_{raw}"
    st.selectbox(t("map_color_by"), MAP_MODES, index=MAP_MODES.index(raw), format_func=_mode_label, key=wkey,
                 on_change=_on_map_mode, args=(wkey,), width=260)
    return raw


def _on_map_mode(wkey: str) -> None:
    st.session_state["map_ind"] = st.session_state[wkey]
    st.query_params["ind"] = st.session_state[wkey]


def map_children(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the map and the bars draw: the children (a grid's table has only itself)."""
    total = table["is_total"].to_numpy(dtype=bool)
    if len(total) and total[0] and not total[1:].any():  # the usual shape: the total first (a slice, no copy)
        return table.iloc[1:].reset_index(drop=True)
    return table[~total].reset_index(drop=True)


def map_scale(kids: pd.DataFrame, mode: str) -> geo_colors.Scale:
    rules, _error = data.rules()
    return geo_colors.color_by(kids, mode, rules)


def _figure_lines(row: pd.Series, mode: str) -> list[tuple[str, str]]:
    shown = list(MAP_FIGURES) + ([mode] if mode in INDICATORS and mode not in MAP_FIGURES else [])
    lines = [(t("map_warning_level"), str(row.get("overall_name", fmt.DASH)))] if "overall_name" in row else []
    for ind in shown:
        unit = UNITS.get(ind, "") if ind in ("received", "overdue") else ""
        lines.append((label(ind), fmt.value(ind, row.get(ind)) + (f" {unit}" if unit and not pd.isna(row.get(ind)) else "")))
    return lines


def _tip(row: pd.Series, mode: str, hint: str) -> str:
    """Tooltip text (plain: Streamlit escapes HTML in tooltip values; line breaks show as lines)."""
    lines = [str(row["name"]), *(f"{k}：{v}" for k, v in _figure_lines(row, mode))]
    return "\n".join(lines + ([hint] if hint else []))


def drill_map(view: View, table: pd.DataFrame, mode: str, key: str, *, height: int = 560, inspect: bool = False,
              heat: bool = False, label_size: int = 14) -> tuple[geo_colors.Scale, object, str | None]:
    """The children of ``view.region`` as coloured polygons; a click (tap) on one drills into it.

    Siblings stay visible, faded, and a click moves there. At village and grid level the view's cases are drawn
    as points (or a heat layer). ``inspect``: a click only selects (returned code) instead of drilling.
    Returns (scale, points or None, selected child code or None).
    """
    version = data.data_version()
    rules, _error = data.rules()
    at = data.as_of()
    try:
        scale, points, deck, alt, children = DECKS.get(
            (database_url(), id(table), view, at, version, mode, inspect, heat, height, label_size, id(rules)),
            lambda: _deck(view, table, mode, at, version, inspect, heat, height, label_size), pin=(table, rules))
    except data.DataError as exc:  # e.g. imported regions without boundaries: say so, the bars still work
        st.warning(md(exc))
        return map_scale(map_children(table), mode), None, None
    wkey = f"{key}_{view.region}"
    event = st.pydeck_chart(deck, on_select=partial(_on_map_pick, wkey, view, children if inspect else frozenset()),
                            selection_mode="single-object", key=wkey, height=height, alt=alt)
    code = geo_layers.picked_code(event)
    selected = code if inspect and code and code != view.region and code in children else None
    return scale, points, selected


#: Built decks (with their JSON) per view, mode and size: a rerun of a view sends the same deck without rebuilding
#: it (tooltips, GeoJSON, labels, JSON: 5–15 ms). Shared by the sessions of this process; read-only.
DECKS = Memo(max_entries=256, ttl=600)


def _deck(view: View, table: pd.DataFrame, mode: str, at, version: int, inspect: bool, heat: bool, height: int,
          label_size: int):
    kids = map_children(table)
    scale = map_scale(kids, mode)
    shapes = data.map_shapes(view.region, version)
    color_of = dict(zip(kids["code"], scale.colors))
    rows = kids.set_index("code")
    hint = t("map_tip_inspect") if inspect else t("map_tip_drill")
    fills, tips = [], []
    for code, name in zip(shapes.children["code"], shapes.children["name"]):
        fills.append(color_of.get(code, geo_colors.NAN_COLOR))
        row = rows.loc[code] if code in rows.index else pd.Series({"name": name})
        row = row.copy()
        row["name"] = name
        tips.append(_tip(row, mode, hint if view.level != "grid" else ""))
    sib_tips = [t("map_sibling_tip", name=str(n)) for n in shapes.siblings["name"]]
    points = None
    if view.level in ("village", "grid"):
        points = data.map_points(view, at, version)
    deck = geo_layers.build_deck(shapes, fills, tips, width=height, height=height, sibling_tips=sib_tips,
                                 points=None if points is None else points.frame, heat=heat, label_size=label_size)
    deck.to_json()  # made once here, kept by the deck
    alt = t("map_alt", region=shapes.name, color_by=_mode_label(mode))
    return scale, points, deck, alt, frozenset(rows.index)


def _on_map_pick(wkey: str, view: View, inspect_codes: frozenset) -> None:
    """A region tapped on the map: drill there (a sibling: move there), before the run, so the tap is one run.
    In inspect mode a child is only selected (drill_map returns it)."""
    code = geo_layers.picked_code(st.session_state.get(wkey))
    if code and code != view.region and code not in inspect_codes:
        set_view(view.with_region(code))


def map_legend(scale: geo_colors.Scale, mode: str, points=None, heat: bool = False) -> None:
    """Colour → value range (or level) as text under the map, readable without hovering."""
    def swatch(color: str) -> str:
        return (f"<span style='display:inline-block;width:0.95em;height:0.95em;background:{color};"
                f"border:1px solid #8a939b;border-radius:2px;vertical-align:-0.12em;margin-right:0.3em'></span>")
    parts = []
    for e in scale.legend:
        if e.name is not None:
            text = e.name
        elif e.lo is None:
            text = t("map_legend_nan")
        elif e.lo == e.hi:
            text = fmt.value(mode, e.lo)
        else:
            text = f"{fmt.value(mode, e.lo)} – {fmt.value(mode, e.hi)}"
        parts.append(f"{swatch(e.color)}{md(text)}（{t('map_legend_count', n=e.count)}）")
    what = _mode_label(mode)
    st.markdown(f"**{t('map_legend', what=what)}**　" + "　".join(parts), unsafe_allow_html=True)
    if points is not None and len(points.frame) and heat:
        st.caption(t("map_heat_legend", n=len(points.frame)))
    elif points is not None and len(points.frame):
        counts = points.frame["state"].value_counts()
        names = (t("map_point_closed"), t("map_point_open"), t("map_point_overdue"))
        items = [f"{swatch(c)}{n}（{int(counts.get(i, 0)):,}）" for i, (c, n) in enumerate(zip(geo_colors.POINT_COLORS, names))]
        st.markdown(f"**{t('map_points_title')}**　" + "　".join(items), unsafe_allow_html=True)


def points_note(points) -> None:
    if points is None:
        return
    if points.capped:
        st.warning(t("map_points_capped", total=points.total, n=len(points.frame)))
    elif len(points.frame):
        st.caption(t("map_points_shown", n=len(points.frame)))
    else:
        st.caption(t("map_points_none"))


def region_facts(row: pd.Series, mode: str, title: str) -> None:
    """The key figures of one region as text: what a tooltip shows, for screens that cannot hover."""
    color = row.get("overall_color")
    cells = []
    for k, v in _figure_lines(row, mode):
        if k == t("map_warning_level") and isinstance(color, str):
            v = (f"<span style='background:{color};color:{text_color(color)};padding:0.05em 0.6em;"
                 f"border-radius:0.3em'>{_html.escape(v)}</span>")
        else:
            v = _html.escape(v)
        cells.append(f"<tr><td style='padding:0.25em 1.2em 0.25em 0;color:#5f6b76'>{_html.escape(k)}</td>"
                     f"<td style='padding:0.25em 0;font-weight:600;text-align:right'>{v}</td></tr>")
    st.markdown(f"**{md(title)}：{md(row['name'])}**\n\n"
                f"<table style='border:none;border-collapse:collapse;font-size:1rem'>{''.join(cells)}</table>",
                unsafe_allow_html=True)


def _ranked(kids: pd.DataFrame, mode: str, scale: geo_colors.Scale | None) -> tuple[pd.DataFrame, str]:
    """The children (map_children) sorted best first on the mode's indicator, with their map colour (_color) and
    value (_value)."""
    indicator = "closure_rate" if mode == geo_colors.WARNING else mode
    scale = scale or map_scale(kids, mode)
    df = kids.assign(_color=scale.colors, _value=pd.to_numeric(kids[indicator], errors="coerce"))
    return df.sort_values("_value", ascending=False, na_position="last", kind="stable").reset_index(drop=True), indicator


def _rank_caption(mode: str, indicator: str, hint: str) -> None:
    """Below a ranking: what the bar colours mean (warning mode) and how to drill."""
    note = t("map_rank_warning_note", indicator=label(indicator)) + " " if mode == geo_colors.WARNING else ""
    st.caption(note + hint)


def ranking_bar(table: pd.DataFrame, view: View, mode: str, key: str, scale: geo_colors.Scale | None = None,
                height: int | None = None) -> None:
    """The children ranked by an indicator as horizontal bars in the map's colours; a click on a bar drills.

    ``mode`` "warning" ranks by 办结率 and colours by warning level.
    """
    kids = map_children(table)
    if kids.empty or view.level == "grid":
        st.info(t("no_children"))
        return
    rules, _error = data.rules()
    df, indicator, fig = FIGURES.get(
        (database_url(), id(table), view, mode, id(scale), height, id(rules)),
        lambda: _rank_figure(kids, mode, scale, height), pin=(table, scale, rules))
    wkey = f"{key}_{view.region}_{mode}"
    _draw(fig, wkey, True, on_bar_pick, (wkey, view, frozenset(df["code"])))
    _rank_caption(mode, indicator, t("map_rank_hint"))


#: Styled ranking figures per view and mode: building and validating a plotly figure was most of a 地图钻取 rerun.
#: Shared by the sessions of this process; read-only (st.plotly_chart copies it with to_dict()).
FIGURES = Memo(max_entries=256, ttl=600)


def _rank_figure(kids: pd.DataFrame, mode: str, scale, height: int | None):
    import plotly.graph_objects as go

    df, indicator = _ranked(kids, mode, scale)
    values = df["_value"]
    is_pct = indicator in PERCENT
    shown = values.to_numpy(dtype=float) * (100 if is_pct else 1)
    fig = go.Figure(go.Bar(
        x=np.nan_to_num(shown), y=df["name"], orientation="h",
        marker=dict(color=df["_color"], line=dict(color="#8a939b", width=0.6)),
        text=[fmt.value(indicator, v) for v in values], textposition="outside", cliponaxis=False,
        customdata=df[["code"]].to_numpy(),
        hovertemplate="%{y}：%{text}<extra></extra>",
    ))
    fig.update_layout(
        title=t("map_rank_title", indicator=label(indicator)), showlegend=False, bargap=0.25,
        height=height or max(240, 26 * len(df) + 90), yaxis=dict(autorange="reversed", automargin=True),
        xaxis=dict(title=label(indicator, with_unit=True), ticksuffix="%" if is_pct else "",
                   range=[0, float(np.nanmax(shown)) * 1.18 if np.isfinite(shown).any() and np.nanmax(shown) > 0 else 1]),
        plot_bgcolor="#ffffff", dragmode=False, clickmode="event+select",
    )
    return df, indicator, styled(fig)


def on_bar_pick(wkey: str, view: View, codes: frozenset) -> None:
    """A bar tapped in a ranking chart (customdata: the region code): drill into its region (before the run)."""
    code = picked_code(st.session_state.get(wkey))
    if code and code != view.region and code in codes:
        set_view(view.with_region(str(code)))


def ranking_list(table: pd.DataFrame, view: View, mode: str, scale: geo_colors.Scale | None = None) -> None:
    """The same ranking as :func:`ranking_bar`, drawn as plain HTML bars (name, bar, value always visible).

    For 总览, the first screen: a chart library would make the whole page wait for it (plotly is 4.7 MB of
    JavaScript, 1–3 s to parse on a tablet before the KPI cards appear; benchmarks/RESULTS.md). Drilling from
    总览 is by the map or the table below; 地图钻取 has the clickable chart.
    """
    kids = map_children(table)
    if kids.empty or view.level == "grid":
        st.info(t("no_children"))
        return
    df, indicator = _ranked(kids, mode, scale)
    shown = df["_value"].to_numpy(dtype=float)
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() and np.nanmax(shown) > 0 else 1.0
    rows = []
    for name, value, color in zip(df["name"], shown, df["_color"]):
        width = max(0.0, value / top * 100) if np.isfinite(value) else 0.0
        rows.append(
            f'<div class="yp-rank-row"><span class="yp-rank-name">{md(name)}</span>'
            f'<span class="yp-rank-track"><span class="yp-rank-bar" style="width:{width:.1f}%;'
            f'background:{_html.escape(str(color))}"></span></span>'
            f'<span class="yp-rank-value">{_html.escape(fmt.value(indicator, value))}</span></div>')
    st.markdown(f"**{t('map_rank_title', indicator=label(indicator))}**")
    st.markdown(f'<div class="yp-rank">{"".join(rows)}</div>', unsafe_allow_html=True)
    _rank_caption(mode, indicator, t("map_rank_list_hint"))


def table_height(rows: int, max_rows: int = 30) -> int:
    """Pixel height of an st.dataframe that shows ``rows`` rows without scrolling (up to ``max_rows``)."""
    return 38 + 35 * max(1, min(rows, max_rows))
