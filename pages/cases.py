"""事件办结: trend, category and source, ageing and the overdue list, closing times, resolution level and
the ranking of the children for the current view. Draw only: data from ui.data, colours from the rules.

Every chart (and the ranking's coloured table) is built once per view, minute, data version and rules and shared
by every rerun and session (``ui.data.drawn``, keyed with the user's scope): building and validating six plotly
figures was most of a rerun. The ``*_figure`` functions build; the section functions draw."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.indicators import DURATION_EDGES, INDICATORS, LOCAL_LEVELS
from analytics.warnings import level_color, level_name
from data_access.breakdowns import RESOLUTION_LEVELS, duration_distribution, ranking
from data_access.codes import PREFIX_LEN, level_of
from ui import data, fmt
from ui.escape import md
from ui.filters import active_view
from ui.strings import PERCENT, UNITS, label, t
from ui.widgets import (
    CHART_BLUE, CHART_GREY, CHART_PINK, CHART_PURPLE, CHART_TEAL, breadcrumb, colored, columns, frozen, kpi_cards,
    on_bar_pick, plot_styled, styled,
)

RANK_N = 5
LABEL = "#262730"  # text labels on and beside bars
OVERDUE_N = 20


def pct(v) -> float:
    return float("nan") if v is None or pd.isna(v) else float(v) * 100


def chart_value(indicator: str, v):
    """The value as drawn on an axis: percentages in %, everything else as is."""
    return pct(v) if indicator in PERCENT else (float("nan") if v is None or pd.isna(v) else float(v))


def percent_ticks(lo: float, hi: float = 100.0) -> list[float]:
    """Round tick values between ``lo`` and ``hi`` (a rate axis never shows ticks above 100 %)."""
    span = max(hi - max(lo, 0.0), 1e-9)
    step = next(s for s in (0.5, 1, 2, 5, 10, 20, 25, 50) if span / s <= 6)
    first = math.ceil(max(lo, 0.0) / step) * step
    return [round(first + i * step, 6) for i in range(int((hi - first) / step) + 1)]


def percent_axis(lo: float, hi: float = 100.0) -> dict:
    ticks = percent_ticks(lo, hi)
    return dict(tickvals=ticks, ticktext=[f"{v:g}%" for v in ticks])


def sparse_labels(texts: list[str], every: int) -> list[str]:
    """Keep every ``every``-th label (and the last): dense series stay readable."""
    n = len(texts)
    return [s if (i % every == 0 or i == n - 1) else "" for i, s in enumerate(texts)]


# --- trend ---

def trend(view, at, version) -> None:
    st.subheader(t("cases_trend"))
    grain = st.segmented_control(t("cases_grain"), ["month", "week"], default="month", required=True,
                                 format_func=lambda g: t(f"cases_grain_{g}"), key="cs_grain")
    fig, shown = data.drawn("cs_trend", view, at, version, lambda: trend_figure(view, at, version, grain), grain)
    plot_styled(fig, key="cs_trend")
    st.caption(t("cases_trend_note") + (t("cases_trend_note_week") if grain == "week" else ""))
    with st.expander(t("cases_trend_table")):
        cfg = {"period": st.column_config.TextColumn(t("cases_col_period")),
               "days": st.column_config.NumberColumn(t("cases_col_days"))}
        for c in shown.columns[1:]:
            if c in PERCENT:
                cfg[c] = st.column_config.NumberColumn(label(c), format="percent")
            elif c != "days":
                cfg[c] = st.column_config.NumberColumn(label(c, with_unit=True), format="localized")
        st.dataframe(shown, column_config=cfg, hide_index=True, width="stretch")


def trend_figure(view, at, version, grain: str):
    """(the styled trend figure, its table) of the view by month or week."""
    if grain == "week":
        series = data.weekly(view, at, version)
        x = [p.strftime("%m-%d") for p in series["period"]]
        if series["period"].dt.year.nunique() > 1:
            x = [p.strftime("%y-%m-%d") for p in series["period"]]
    else:
        series = data.monthly(view, at, version)
        x = [p.strftime("%Y-%m") for p in series["period"]]
    n = len(series)
    fig = go.Figure()
    dense = n > 16
    every = max(1, math.ceil(n / 13))
    # One bar per period: 受理量 = 办结量 (teal, labelled inside) + 未办结 (grey); the total is labelled on top.
    closed = series["closed"]
    still_open = series["received"] - series["closed"]
    fig.add_bar(x=x, y=closed, name=label("closed"), marker_color=CHART_TEAL,
                text=None if dense else [f"{int(v):,}" if v else "" for v in closed], textposition="inside",
                insidetextanchor="end", textfont=dict(size=12, color="#ffffff"),
                hovertemplate=t("cases_hover_x", what=label("closed"), unit=UNITS["closed"]))
    fig.add_bar(x=x, y=still_open, name=label("open"), marker_color=CHART_GREY,
                hovertemplate=t("cases_hover_x", what=label("open"), unit=UNITS["open"]))
    totals = [f"{int(v):,}" for v in series["received"]]
    fig.add_scatter(x=x, y=series["received"], mode="text", name=label("received"), showlegend=False,
                    text=sparse_labels(totals, every) if dense else totals, textposition="top center",
                    textfont=dict(size=12, color=LABEL), cliponaxis=False,
                    hovertemplate=t("cases_hover_x", what=label("received"), unit=UNITS["received"]))
    lines = (("closure_rate", CHART_PURPLE, "top center"), ("on_time_rate", CHART_PINK, "bottom center"))
    for col, color, pos in lines:
        y = [pct(v) for v in series[col]]
        fig.add_scatter(x=x, y=y, name=label(col), yaxis="y2", mode="lines+markers+text",
                        line=dict(color=color, width=2.5),
                        text=sparse_labels([fmt.value(col, v) for v in series[col]], every), textposition=pos,
                        textfont=dict(color=color, size=11), hovertemplate=t("cases_hover_rate", what=label(col)))
    top = max(1.0, float(series["received"].max()) if n else 1.0)
    rates = [v for c in ("closure_rate", "on_time_rate") for v in (pct(x_) for x_ in series[c]) if not math.isnan(v)]
    low = min(rates) if rates else 90.0
    span = max(2.0, 101.5 - low)
    y2_lo = low - span * 1.3
    fig.update_layout(
        title=t(f"cases_trend_title_{grain}"), barmode="stack", height=460, bargap=0.3,
        yaxis=dict(title=t("cases_axis_count"), range=[0, top * 2.1], tickformat=",d", showgrid=False),
        yaxis2=dict(title=t("cases_axis_rate"), overlaying="y", side="right", range=[y2_lo, 101.5 + span * 0.3],
                    showgrid=True, **percent_axis(y2_lo)),
        xaxis=dict(type="category", tickangle=-45 if dense else 0),
    )
    cols = ["period", *(["days"] if grain == "week" else []), "received", "closed", "open", "overdue",
            "closure_rate", "on_time_rate"]
    return styled(fig), series[cols].assign(period=x)


# --- category and source ---

def dimension_chart(view, at, version, column: str, title: str, key: str) -> None:
    fig = data.drawn("cs_dim", view, at, version,
                     lambda: dimension_figure(data.by_dimension(view, column, at, version), column, title), column)
    if fig is None:
        st.info(t("nothing"))
        return
    plot_styled(fig, key=key)


def dimension_figure(df: pd.DataFrame, column: str, title: str):
    """Cases and 办结率 per category or source (styled), or None when there are none."""
    if df.empty:
        return None
    df = df.sort_values("received", ascending=True)
    labels = [t("cases_bar_label", count=f"{int(r):,}", rate=fmt.value("closure_rate", c))
              for r, c in zip(df["received"], df["closure_rate"])]
    fig = go.Figure(go.Bar(x=df["received"], y=df[column], orientation="h", marker_color=CHART_BLUE, text=labels,
                           textposition="outside", cliponaxis=False, textfont=dict(color=LABEL),
                           hovertemplate=t("cases_hover_y", unit=UNITS["received"])))
    fig.update_layout(title=title, height=max(260, 48 * len(df) + 90), showlegend=False,
                      xaxis=dict(title=label("received", with_unit=True), tickformat=",d",
                                 range=[0, float(df["received"].max()) * 1.7 or 1]),
                      yaxis=dict(title=None))
    return styled(fig)


def breakdowns(view, at, version) -> None:
    st.subheader(t("cases_breakdown"))
    left, right = columns(2, key="cs_dims")
    with left:
        dimension_chart(view, at, version, "category", t("cases_by_category"), "cs_cat")
    with right:
        dimension_chart(view, at, version, "source", t("cases_by_source"), "cs_src")


# --- open cases: ageing and the overdue list ---

def open_cases(view, at, version, total) -> None:
    st.subheader(t("cases_open_section"))
    fig = data.drawn("cs_age", view, at, version, lambda: ageing_figure(data.ageing(view, at, version)))
    if fig is None:
        st.info(t("cases_no_open"))
        return
    plot_styled(fig, key="cs_age")
    st.caption(t("cases_ageing_note", time=at.strftime("%Y-%m-%d %H:%M")))

    n_overdue = int(total["overdue"])
    if not n_overdue:
        st.info(t("cases_no_overdue"))
        return
    shown = data.drawn("cs_overdue", view, at, version, lambda: overdue_rows(view, at, version))
    st.markdown(f"**{t('cases_overdue_list', n=len(shown), total=f'{n_overdue:,}')}**")
    cfg = {"id": st.column_config.TextColumn(t("cases_col_id")),
           "category": st.column_config.TextColumn(t("cases_col_category")),
           "source": st.column_config.TextColumn(t("cases_col_source")),
           "status": st.column_config.TextColumn(t("cases_col_status")),
           "reported_at": st.column_config.DatetimeColumn(t("cases_col_reported"), format="YYYY-MM-DD HH:mm"),
           "deadline": st.column_config.DatetimeColumn(t("cases_col_deadline"), format="YYYY-MM-DD HH:mm"),
           "days_overdue": st.column_config.NumberColumn(t("cases_col_days_overdue"), format="%.1f"),
           "handling_unit": st.column_config.TextColumn(t("cases_col_unit")),
           "is_major": st.column_config.CheckboxColumn(t("cases_col_major")),
           "grid": st.column_config.TextColumn(t("cases_col_grid"))}
    for lv in ("county", "township", "village"):
        cfg[lv] = st.column_config.TextColumn(t(f"level_{lv}"))
    st.dataframe(shown, column_config=cfg, hide_index=True, width="stretch", key=f"cs_overdue_{view.region}")


def overdue_rows(view, at, version) -> pd.DataFrame:
    """The overdue list as shown: the places below the view, statuses in words (承办单位 already masked)."""
    rows = data.overdue_list(view, at, version, OVERDUE_N)
    view_depth = PREFIX_LEN[level_of(view.region)]
    places = [lv for lv in ("county", "township", "village", "grid") if PREFIX_LEN[lv] > view_depth]
    cols = ["id", *places, "category", "source", "status", "reported_at", "deadline", "days_overdue", "handling_unit",
            "is_major"]
    return rows[cols].assign(status=rows["status"].map(lambda s: t(f"status_{s}")))


def ageing_figure(age: pd.DataFrame):
    """Open cases by age, overdue apart (styled), or None when nothing is open."""
    if not age["open"].sum():
        return None
    names = [t(f"cases_age_{i}") for i in age["age"]]
    fresh = age["open"] - age["overdue"]
    fig = go.Figure()
    fig.add_bar(x=names, y=fresh, name=t("cases_not_overdue"), marker_color=CHART_BLUE,
                text=[f"{v:,}" if v else "" for v in fresh], textposition="inside", insidetextanchor="middle")
    fig.add_bar(x=names, y=age["overdue"], name=t("cases_overdue"), marker_color=CHART_PURPLE,
                text=[f"{v:,}" if v else "" for v in age["overdue"]], textposition="inside", insidetextanchor="middle")
    fig.add_scatter(x=names, y=age["open"], mode="text", text=[t("cases_total_label", n=f"{v:,}") for v in age["open"]],
                    textposition="top center", showlegend=False, hoverinfo="skip", cliponaxis=False,
                    textfont=dict(color=LABEL))
    top = max(1, int(age["open"].max()))
    fig.update_layout(title=t("cases_ageing"), barmode="stack", height=380,
                      yaxis=dict(title=label("open", with_unit=True), range=[0, top * 1.25], tickformat=",d"),
                      xaxis=dict(type="category"))
    return styled(fig)


# --- closing times and resolution level ---

def duration_label(i: int) -> str:
    lo = 0 if i == 0 else DURATION_EDGES[i - 1]
    hi = DURATION_EDGES[i] if i < len(DURATION_EDGES) else None
    if hi is None:
        return t("cases_dur_over", lo=f"{lo / 24:g}")
    if i == 0:
        return t("cases_dur_upto", hi=f"{hi:g}")
    if hi <= 24:
        return t("cases_dur_hours", lo=f"{lo:g}", hi=f"{hi:g}")
    return t("cases_dur_days", lo=f"{lo / 24:g}", hi=f"{hi / 24:g}")


def closing(view, at, version, total) -> None:
    st.subheader(t("cases_close_section"))
    left, right = columns([3, 2], key="cs_close")
    durations, levels = data.drawn("cs_close", view, at, version, lambda: closing_figures(view, version, total))
    with left:
        plot_styled(durations, key="cs_dur")
        st.caption(t("cases_durations_note", median=fmt.value("median_close_hours", total["median_close_hours"]),
                     mean=fmt.value("mean_close_hours", total["mean_close_hours"])))
    with right:
        plot_styled(levels, key="cs_res")
        st.caption(t("cases_resolution_note", rate=fmt.value("local_rate", total["local_rate"])))


def closing_figures(view, version, total):
    """(closing times, resolution levels): both styled."""
    dist = duration_distribution(total)
    names = [duration_label(i) for i in dist["cls"]]
    text = [f"{c:,}<br>{s * 100:.1f}%" if c else "" for c, s in zip(dist["count"], dist["share"].fillna(0))]
    fig = go.Figure(go.Bar(x=names, y=dist["count"], marker_color=CHART_TEAL, text=text, textposition="outside",
                           cliponaxis=False, textfont=dict(color=LABEL),
                           hovertemplate=t("cases_hover_x", what="", unit=UNITS["closed"])))
    fig.update_layout(title=t("cases_durations"), height=420, showlegend=False,
                      yaxis=dict(title=label("closed", with_unit=True), tickformat=",d",
                                 range=[0, max(1, int(dist["count"].max())) * 1.3]),
                      xaxis=dict(type="category", tickangle=-45))
    durations = styled(fig)
    res = data.resolution_levels(view, version)
    names = [t("cases_res_level", level=lv) if lv in RESOLUTION_LEVELS else (lv or t("cases_res_other"))
             for lv in res["level"]]
    colors = [CHART_TEAL if lv in LOCAL_LEVELS else CHART_GREY for lv in res["level"]]
    text = [t("cases_share_label", count=f"{c:,}", share=fmt.value("closure_rate", s))
            for c, s in zip(res["closed"], res["share"])]
    fig = go.Figure(go.Bar(x=res["closed"], y=names, orientation="h", marker_color=colors, text=text,
                           textposition="outside", cliponaxis=False, textfont=dict(color=LABEL),
                           hovertemplate=t("cases_hover_y", unit=UNITS["closed"])))
    fig.update_layout(title=t("cases_resolution"), height=420, showlegend=False,
                      xaxis=dict(title=label("closed", with_unit=True), tickformat=",d",
                                 range=[0, max(1, int(res["closed"].max())) * 1.8]),
                      yaxis=dict(autorange="reversed"))
    return durations, styled(fig)


# --- ranking of the children ---

def rank_axis(ranked: pd.DataFrame, indicator: str) -> dict:
    """One x axis for every ranking chart of an indicator, so the best and the worst compare at a glance."""
    values = [v for v in (chart_value(indicator, x) for x in ranked["value"]) if not math.isnan(v)]
    hi = max(values) if values else 1.0
    lo = min(values) if values else 0.0
    if indicator in PERCENT:  # a cut axis, so differences of a few points show; ticks stop at 100 %
        base = max(0.0, math.floor((lo - max(hi - lo, 2.0)) / 5) * 5)
        return dict(range=[base, hi + (hi - base) * 0.8], **percent_axis(base))
    return dict(range=[0, hi * 1.9 or 1])


def rank_figure(part: pd.DataFrame, indicator: str, rules, title: str, xaxis: dict):
    """Children ranked on ``indicator`` as bars in their warning colours (styled); customdata: the region code."""
    values = [chart_value(indicator, v) for v in part["value"]]
    labels = []
    for v, p in zip(part["value"], part["previous"]):
        d = fmt.delta(indicator, v, p)
        labels.append(t("cases_rank_label", value=fmt.value(indicator, v), delta=d or t("cases_rank_new")))
    colors = [level_color(rules, lv) for lv in part["level"]]
    names = [f"{r}. {n}" for r, n in zip(part["rank"], part["name"])]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colors, text=labels, textposition="outside",
                           cliponaxis=False, textfont=dict(color=LABEL), customdata=part[["code"]].to_numpy(),
                           hovertext=[level_name(rules, lv) for lv in part["level"]],
                           hovertemplate=t("cases_hover_rank")))
    fig.update_layout(title=title, height=max(240, 50 * len(part) + 100), showlegend=False,
                      xaxis=dict(title=label(indicator, with_unit=True), **xaxis),
                      yaxis=dict(autorange="reversed", title=None), dragmode=False, clickmode="event+select")
    return styled(fig)


def rank_chart(fig, codes: frozenset, key: str, view, indicator: str) -> None:
    """A ranking chart; a tap on a bar drills into its region (in the callback, before the run: one run a tap)."""
    wkey = f"{key}_{view.region}_{indicator}"
    plot_styled(fig, key=wkey, select=True, on_select=on_bar_pick, args=(wkey, view, codes))


def ranking_parts(view, at, version, table, indicator: str, rules):
    """(charts as (figure, codes, key), the coloured table as a frozen Styler, its rows), or None when fewer
    than two children can be ranked."""
    before = data.indicator_table(view.previous(), at, version)
    ranked = ranking(table, before, indicator, rules.min_cases)
    if len(ranked) < 2:
        return None
    axis = rank_axis(ranked, indicator)

    def title(which: str) -> str:
        return t("cases_rank_title", which=which, indicator=label(indicator), unit=UNITS.get(indicator, ""))

    if len(ranked) <= 2 * RANK_N:
        parts = [(ranked, t("cases_rank_all", n=len(ranked)), "cs_rank_all")]
    else:
        parts = [(ranked.head(RANK_N), t("cases_rank_best", n=RANK_N), "cs_rank_best"),
                 (ranked.tail(RANK_N), t("cases_rank_worst", n=RANK_N), "cs_rank_worst")]
    charts = [(rank_figure(part, indicator, rules, title(which), axis), frozenset(part["code"]), key)
              for part, which, key in parts]
    shown = pd.DataFrame({
        "rank": ranked["rank"], "name": ranked["name"],
        "value": [fmt.value(indicator, v) for v in ranked["value"]],
        "previous": [fmt.value(indicator, v) for v in ranked["previous"]],
        "change": [fmt.delta(indicator, v, p) or fmt.DASH for v, p in zip(ranked["value"], ranked["previous"])],
        "previous_rank": ranked["previous_rank"], "rank_change": ranked["rank_change"],
        "level": [level_name(rules, lv) for lv in ranked["level"]],
    })
    colors = pd.DataFrame({"level": [level_color(rules, lv) for lv in ranked["level"]]}, index=shown.index)
    return charts, frozen(colored(shown, colors)), len(ranked)


def children_ranking(view, at, version, table) -> None:
    st.subheader(t("cases_ranking"))
    if (~table["is_total"]).sum() < 2:
        st.info(t("cases_rank_none"))
        return
    rules, _error = data.rules()
    indicator = st.selectbox(t("cases_rank_indicator"), list(INDICATORS), index=INDICATORS.index("closure_rate"),
                             format_func=label, key="cs_rank_ind")
    parts = data.drawn("cs_rank", view, at, version,
                       lambda: ranking_parts(view, at, version, table, indicator, rules), indicator, rules_used=rules)
    if parts is None:
        st.info(t("cases_rank_none"))
        return
    charts, body, n = parts
    if len(charts) == 1:
        rank_chart(*charts[0], view, indicator)
    else:
        for place, chart in zip(columns(2, key="cs_rank"), charts):
            with place:
                rank_chart(*chart, view, indicator)
    st.caption(t("cases_rank_note", min=rules.min_cases))
    with st.expander(t("cases_rank_table", n=n)):
        cfg = {"rank": st.column_config.NumberColumn(t("cases_col_rank")),
               "name": st.column_config.TextColumn(t("col_name")),
               "value": st.column_config.TextColumn(t("cases_col_value")),
               "previous": st.column_config.TextColumn(t("cases_col_previous")),
               "change": st.column_config.TextColumn(t("cases_col_change")),
               "previous_rank": st.column_config.NumberColumn(t("cases_col_prev_rank"), format="%d"),
               "rank_change": st.column_config.NumberColumn(t("cases_col_rank_change"), format="%+d"),
               "level": st.column_config.TextColumn(t("cases_col_level"))}
        st.dataframe(body, column_config=cfg, hide_index=True, width="stretch")


# --- the page ---

view = active_view()
version = data.data_version()
at = data.as_of()
me = data.region(view.region, version)
st.title(t("cases_title", region=md(me["name"])))
breadcrumb(view, key="cs_crumb")
data.show_rules_error()
st.caption(t("cases_caption", start=view.date_from, end=view.date_to, time=at.strftime("%Y-%m-%d %H:%M")))
table = data.evaluated(view, at, version)
total = table.iloc[0]
kpi_cards(total, data.indicator_table(view.previous(), at, version).iloc[0])
if not total["received"]:
    st.info(t("cases_empty"))
else:
    trend(view, at, version)
    breakdowns(view, at, version)
    open_cases(view, at, version, total)
    closing(view, at, version, total)
    children_ranking(view, at, version, table)
