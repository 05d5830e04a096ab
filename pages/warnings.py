"""三色预警 (平安报表): for a chosen month, every child region's indicators in the warning colours, counts per
colour, month-over-month and year-over-year change, the problem list, the responsibility list and a 12-month
colour history. Draw only: data from ui.data, colours and thresholds only from the rules file.

The coloured tables (pandas Stylers, computed once: ``ui.widgets.frozen``) and the history chart are built once
per month view, minute, data version and rules and shared by every rerun and session (``ui.data.drawn``, keyed
with the user's scope): the Styler and the Arrow of five coloured tables were most of a rerun. The ``*_table`` and
``*_figure`` functions build; the section functions draw."""
from __future__ import annotations

import datetime as dt
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.warnings import level_color, level_counts, level_name, problems
from data_access.breakdowns import month_list, month_view, shift_month as shift
from ui import data, fmt
from ui.escape import md
from ui.filters import active_view
from ui.duban import problems_panel
from ui.strings import PERCENT, UNITS, label, t
from ui.widgets import (breadcrumb, colored, frozen, level_cards, on_row_pick, plot_styled, sample_marks, styled,
                        table_height)

MONTH_PARAM = "month"


def yyyymm(d: dt.date) -> int:
    return d.year * 100 + d.month


def month_label(month: int, today: dt.date) -> str:
    y, m = divmod(month, 100)
    if month == yyyymm(today):
        return t("warn_month_partial", y=y, m=m, d=today.day)
    return t("warn_month_fmt", y=y, m=m)


def pick_month(span: tuple[int, int], today: dt.date) -> int:
    """The month picker: newest first; default the last full month before today; kept in the URL (?month=)."""
    last = min(span[1], yyyymm(today))
    options = list(reversed(month_list(span[0], max(span[0], last))))
    default = min(max(shift(yyyymm(today), -1), span[0]), options[0])
    raw = st.query_params.get(MONTH_PARAM, "")
    try:
        wanted = int(raw.replace("-", "")) if raw else default
    except ValueError:
        wanted = None
    if raw and wanted not in options:  # say so, naming the parameter (never a silent fallback)
        st.warning(md(t("bad_param", name=MONTH_PARAM, value=raw)))
    current = wanted if wanted in options else default
    key = f"wn_month_{current}"
    st.selectbox(t("warn_month"), options, index=options.index(current), key=key,
                 format_func=lambda m: month_label(m, today), on_change=_on_month, args=(key,))
    return current


def _on_month(key: str) -> None:
    m = st.session_state[key]
    st.query_params[MONTH_PARAM] = f"{m // 100}-{m % 100:02d}"


# --- counts by colour ---

def counts(kids: pd.DataFrame, prev_kids: pd.DataFrame, rules) -> None:
    st.subheader(t("warn_counts"))
    now, before = level_counts(kids, rules), level_counts(prev_kids, rules)
    colors = [lv.color for lv in rules.levels] + [rules.no_data.color]
    items = [(name, color, int(now[name]), t("warn_count_delta", delta=int(now[name]) - int(before[name])))
             for name, color in zip(now.index, colors)]
    level_cards(items, key="wn_count")


# --- the report table (平安报表) ---

def report(this, at, version, kinds, rules, view) -> None:
    st.subheader(t("warn_report"))
    body, codes, n = data.drawn("wn_report", this, at, version, lambda: report_table(*kinds, rules), rules_used=rules)
    cfg = {"name": st.column_config.TextColumn(t("col_name"), pinned=True),
           "overall": st.column_config.TextColumn(t("warn_col_overall"), width="small"),
           "prev": st.column_config.TextColumn(t("warn_col_prev"), width="small"),
           "year": st.column_config.TextColumn(t("warn_col_year"), width="small"),
           "received": st.column_config.TextColumn(label("received", with_unit=True), width="small")}
    for ind in rules.indicators:
        cfg[ind.key] = st.column_config.TextColumn(header(ind))
    wkey = f"wn_report_{view.region}"
    st.dataframe(body, column_config=cfg, hide_index=True, width="stretch", height=table_height(n),
                 on_select=partial(on_row_pick, wkey, codes, view), selection_mode="single-row", key=wkey)
    st.caption(t("warn_report_note") + t("drill_hint"))


def report_table(kids: pd.DataFrame, prev_kids: pd.DataFrame, year_kids: pd.DataFrame, rules):
    """(the 平安报表 as a frozen Styler, the children's codes in its row order, its rows)."""
    prev_overall = dict(zip(prev_kids["code"], prev_kids["overall"]))
    year_overall = dict(zip(year_kids["code"], year_kids["overall"]))
    shown = pd.DataFrame({
        "name": small_names(kids),
        "overall": [level_name(rules, i) for i in kids["overall"]],
        "prev": [level_name(rules, prev_overall.get(c)) for c in kids["code"]],
        "year": [level_name(rules, year_overall.get(c)) for c in kids["code"]],
        "received": [fmt.value("received", v) for v in kids["received"]],
    })
    colors = pd.DataFrame({
        "overall": [level_color(rules, i) for i in kids["overall"]],
        "prev": [level_color(rules, prev_overall.get(c)) for c in kids["code"]],
        "year": [level_color(rules, year_overall.get(c)) for c in kids["code"]],
    })
    for ind in rules.indicators:
        shown[ind.key] = [fmt.value(ind.key, v) for v in kids[ind.key]]
        colors[ind.key] = [level_color(rules, i) for i in kids[f"level_{ind.key}"]]
    return frozen(colored(shown, colors)), tuple(kids["code"]), len(shown)


def small_names(kids: pd.DataFrame) -> list[str]:
    """Names, marked 样本较少 where the small-number judgement applied (analytics.warnings.judged_values)."""
    marks = sample_marks(kids, data.rules()[0])
    return [f"{n}（{m}）" if m else n for n, m in zip(kids["name"], marks)]


def changes(this, at, version, kinds, rules) -> None:
    st.subheader(t("warn_changes"))
    keys = [i.key for i in rules.indicators]
    names = {i.key: i.name for i in rules.indicators}
    ind = st.selectbox(t("warn_change_indicator"), keys, format_func=names.get, key="wn_change_ind")
    body, n = data.drawn("wn_changes", this, at, version, lambda: changes_table(*kinds, rules, ind), ind,
                         rules_used=rules)
    cfg = {"name": st.column_config.TextColumn(t("col_name")), "this": st.column_config.TextColumn(t("warn_col_this")),
           "prev": st.column_config.TextColumn(t("warn_col_prev_value")),
           "mom": st.column_config.TextColumn(t("warn_col_mom")),
           "year": st.column_config.TextColumn(t("warn_col_year_value")),
           "yoy": st.column_config.TextColumn(t("warn_col_yoy"))}
    st.dataframe(body, column_config=cfg, hide_index=True, width="stretch", height=table_height(n))


def changes_table(kids: pd.DataFrame, prev_kids: pd.DataFrame, year_kids: pd.DataFrame, rules, ind: str):
    """(month-over-month and year-over-year of ``ind`` per child as a frozen Styler, its rows)."""
    prev = prev_kids.set_index("code")
    year = year_kids.set_index("code")
    rows, colors = [], []
    for _, r in kids.iterrows():
        p = prev.loc[r["code"]] if r["code"] in prev.index else None
        y = year.loc[r["code"]] if r["code"] in year.index else None
        pv = None if p is None else p[ind]
        yv = None if y is None else y[ind]
        rows.append({"name": r["name"], "this": fmt.value(ind, r[ind]), "prev": fmt.value(ind, pv),
                     "mom": fmt.delta(ind, r[ind], pv) or fmt.DASH, "year": fmt.value(ind, yv),
                     "yoy": fmt.delta(ind, r[ind], yv) or fmt.DASH})
        colors.append({"this": level_color(rules, r[f"level_{ind}"]),
                       "prev": level_color(rules, None if p is None else p[f"level_{ind}"]),
                       "year": level_color(rules, None if y is None else y[f"level_{ind}"])})
    shown = pd.DataFrame(rows)
    return frozen(colored(shown, pd.DataFrame(colors, index=shown.index))), len(shown)


# --- problem list and responsibility list ---

def header(rule) -> str:
    """Column header of an indicator: its name, with the unit for counts (rates and hours carry theirs)."""
    plain = rule.key in PERCENT or rule.key in ("mean_close_hours", "median_close_hours")
    return rule.name if plain or not UNITS.get(rule.key) else label(rule.key, with_unit=True)


def threshold_text(rule, value) -> str:
    unit = "" if rule.key in PERCENT else (" " + UNITS.get(rule.key, "") if UNITS.get(rule.key) else "")
    v = fmt.value(rule.key, value) + unit
    return t("warn_at_least", v=v) if rule.higher_better else t("warn_at_most", v=v)


def gap_text(rule, gap) -> str:
    if rule.key in PERCENT:
        return t("warn_gap_pp", v=f"{gap * 100:.1f}")
    unit = UNITS.get(rule.key, "")
    v = f"{gap:,.1f}".removesuffix(".0") + (f" {unit}" if unit else "")
    return t("warn_gap_less" if rule.higher_better else "warn_gap_more", v=v)


def value_text(key: str, value, judged) -> str:
    """The measured value, and the judged one when the small-number judgement moved it."""
    shown, by = fmt.value(key, value), fmt.value(key, judged)
    return shown if by == shown or pd.isna(judged) else t("fair_judged", value=shown, judged=by)


def problem_list(this, at, version, kids: pd.DataFrame, rules) -> pd.DataFrame:
    probs, body = data.drawn("wn_problems", this, at, version, lambda: problem_table(kids, rules), rules_used=rules)
    st.subheader(t("warn_problems", n=len(probs)))
    if body is None:
        st.success(t("warn_no_problems"))
        return probs
    cfg = {"name": st.column_config.TextColumn(t("warn_col_region")),
           "indicator": st.column_config.TextColumn(t("warn_col_indicator")),
           "value": st.column_config.TextColumn(t("warn_col_value")),
           "level": st.column_config.TextColumn(t("warn_col_level")),
           "threshold": st.column_config.TextColumn(t("warn_col_threshold")),
           "gap": st.column_config.TextColumn(t("warn_col_gap"))}
    st.dataframe(body, column_config=cfg, hide_index=True, width="stretch", key="wn_problems",
                 height=table_height(len(probs), 20))
    st.caption(t("warn_problems_note"))
    return probs


def problem_table(kids: pd.DataFrame, rules):
    """(the problems (analytics.warnings.problems), the 问题清单 as a frozen Styler or None when there are none)."""
    probs = problems(kids, rules)
    if probs.empty:
        return probs, None
    rule = {i.key: i for i in rules.indicators}
    shown = pd.DataFrame({
        "name": probs["name"], "indicator": probs["indicator_name"],
        "value": [value_text(k, v, j) for k, v, j in zip(probs["indicator"], probs["value"], probs["judged"])],
        "level": probs["level_name"],
        "threshold": [threshold_text(rule[k], v) for k, v in zip(probs["indicator"], probs["threshold"])],
        "gap": [gap_text(rule[k], g) for k, g in zip(probs["indicator"], probs["gap"])],
    })
    colors = pd.DataFrame({"level": probs["color"]}, index=shown.index)
    return probs, frozen(colored(shown, colors))


def duty(this, at, version, kids: pd.DataFrame, probs: pd.DataFrame, rules) -> None:
    body, n = data.drawn("wn_duty", this, at, version, lambda: duty_table(kids, probs, rules, this.region, version),
                         rules_used=rules)
    st.subheader(t("warn_duty", n=n))
    if body is None:
        st.success(t("warn_no_duty"))
        return
    cfg = {"name": st.column_config.TextColumn(t("warn_col_region")),
           "overall": st.column_config.TextColumn(t("warn_col_overall")),
           "issues": st.column_config.TextColumn(t("warn_col_issues")),
           "unit": st.column_config.TextColumn(t("warn_col_unit")),
           "person": st.column_config.TextColumn(t("warn_col_person")),
           "phone": st.column_config.TextColumn(t("warn_col_phone"))}
    st.dataframe(body, column_config=cfg, hide_index=True, width="stretch", key="wn_duty", height=table_height(n))
    st.caption(t("warn_duty_note"))


def duty_table(kids: pd.DataFrame, probs: pd.DataFrame, rules, code: str, version: int):
    """(the 责任清单 of the flagged children as a frozen Styler or None when none is flagged, its rows)."""
    flagged = kids[kids["overall"] > 0].sort_values(["overall", "code"], ascending=[False, True])
    if flagged.empty:
        return None, 0
    issues = {}
    for c, g in probs.groupby("code", sort=False):
        issues[c] = t("warn_sep").join(t("warn_issue", indicator=n, level=lv)
                                       for n, lv in zip(g["indicator_name"], g["level_name"]))
    people = data.duty_list(code, version).set_index("code")
    shown = pd.DataFrame({
        "name": flagged["name"].to_numpy(),
        "overall": [level_name(rules, i) for i in flagged["overall"]],
        "issues": [issues.get(c, "") for c in flagged["code"]],
        "unit": [people["duty_unit"].get(c) for c in flagged["code"]],
        "person": [people["duty_person"].get(c) for c in flagged["code"]],
        "phone": [people["duty_phone"].get(c) for c in flagged["code"]],
    })
    colors = pd.DataFrame({"overall": [level_color(rules, i) for i in flagged["overall"]]}, index=shown.index)
    return frozen(colored(shown, colors)), len(shown)


# --- 12-month colour history ---

def history(this, code: str, month: int, at, version: int, today: dt.date, rules) -> None:
    st.subheader(t("warn_history_section"))
    fig = data.drawn("wn_history", this, at, version, lambda: history_figure(code, month, at, version, today, rules),
                     rules_used=rules)
    plot_styled(fig, key=f"wn_history_{code}_{month}")
    st.caption(t("warn_history_note", worst=rules.levels[-1].name, no_data=rules.no_data.name))


def history_figure(code: str, month: int, at, version: int, today: dt.date, rules):
    """The children's overall colour in each of the 12 months up to ``month`` (a styled heatmap)."""
    hist = data.history_evaluated(code, month, at, version, today)
    months = month_list(shift(month, -11), month)
    worst = len(rules.levels) - 1
    worst_name = rules.levels[-1].name
    grid = hist.pivot_table(index=["code", "name"], columns="month", values="overall", aggfunc="first")
    grid = grid.reindex(columns=months).fillna(-1).astype(int)
    # Chronic trouble first: most months at the worst level, then at the next-worst, …, then by code.
    counts_ = [tuple(-int((row == lvl).sum()) for lvl in range(worst, 0, -1)) for row in grid.to_numpy()]
    order = sorted(range(len(grid)), key=lambda i: (counts_[i], grid.index[i][0]))
    grid = grid.iloc[order]
    n_worst = (grid == worst).sum(axis=1)
    ylabels = [t("warn_history_row", name=name, worst=worst_name, n=n) if n else name
               for (_c, name), n in zip(grid.index, n_worst)]
    xlabels = [t("warn_history_month", y=m // 100, m=m % 100) for m in months]
    palette = [rules.no_data.color] + [lv.color for lv in rules.levels]
    k = len(palette)
    scale = []
    for i, c in enumerate(palette):
        scale += [[i / k, c], [(i + 1) / k, c]]
    z = (grid.to_numpy() + 1).tolist()
    # No-data cells stay short (a dash): 12 columns of "数据不足" would not fit a tablet's cells.
    text = [[level_name(rules, v) if v >= 0 else fmt.DASH for v in row] for row in grid.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=z, x=xlabels, y=ylabels, text=text, texttemplate="%{text}",
        customdata=[[level_name(rules, v) for v in row] for row in grid.to_numpy()], textfont=dict(size=13), zmin=-0.5,
        zmax=k - 0.5, colorscale=scale, showscale=False, xgap=2, ygap=2,
        hovertemplate=t("warn_hover_cell")))
    fig.update_layout(title=t("warn_history", first=xlabels[0], last=xlabels[-1]),
                      height=max(260, 30 * len(ylabels) + 110), yaxis=dict(autorange="reversed", type="category"),
                      xaxis=dict(type="category", side="top"), margin=dict(l=10, r=10, t=80, b=10))
    return styled(fig)


def rules_box(rules) -> None:
    with st.expander(t("warn_rules")):
        st.caption(t("warn_rules_source", path=rules.source))
        rows = []
        for ind in rules.indicators:
            parts = []
            for i, lv in enumerate(rules.levels):
                if i < len(ind.thresholds):
                    parts.append(f"{lv.name} {threshold_text(ind, ind.thresholds[i])}")
                else:
                    parts.append(t("warn_rest", level=lv.name))
            rows.append({"indicator": ind.name,
                         "direction": t("warn_dir_higher" if ind.higher_better else "warn_dir_lower"),
                         "thresholds": " · ".join(parts), "weight": f"{ind.weight:g}"})
        cfg = {"indicator": st.column_config.TextColumn(t("warn_col_indicator")),
               "direction": st.column_config.TextColumn(t("warn_col_direction")),
               "thresholds": st.column_config.TextColumn(t("warn_col_thresholds")),
               "weight": st.column_config.TextColumn(t("warn_col_weight"))}
        st.dataframe(pd.DataFrame(rows), column_config=cfg, hide_index=True, width="stretch")
        by_level = [f"{ind.name} {t('level_' + lvl)} {list(v)}" for ind in rules.indicators for lvl, v in ind.by_level]
        if by_level:
            st.caption(t("fair_by_level", items=t("warn_sep_items").join(by_level)))
        if rules.overrides:
            items = t("warn_sep_items").join(
                t("warn_override_item", prefix=o.prefix,
                  items=t("warn_sep").join(f"{rules.indicator(k).name} {list(v)}" for k, v in o.thresholds))
                for o in rules.overrides)
            st.caption(t("warn_overrides", items=items))


def children_of(this, at, version):
    """(this month's children worst first, last month's, a year ago's): evaluated, without the total row."""
    now = data.evaluated(this, at, version)
    prev = data.evaluated(this.previous(), at, version)
    year = data.evaluated(this.year_ago(), at, version)
    kids, prev_kids, year_kids = (df[~df["is_total"]].reset_index(drop=True) for df in (now, prev, year))
    return kids.sort_values(["overall", "code"], ascending=[False, True], ignore_index=True), prev_kids, year_kids


# --- the page ---

view = active_view()
version = data.data_version()
at = data.as_of()
today = data.today()
me = data.region(view.region, version)
st.title(t("warn_title", region=md(me["name"])))
breadcrumb(view, key="wn_crumb")
data.show_rules_error()
rules, _error = data.rules()
span = data.month_span(version)
if span is None:
    st.info(t("warn_no_months"))
else:
    month = pick_month(span, today)
    this = month_view(view.region, month, today)
    kinds = data.drawn("wn_kids", this, at, version, lambda: children_of(this, at, version), rules_used=rules)
    kids, prev_kids, year_kids = kinds
    st.caption(t("warn_caption", month=month_label(month, today), n=len(kids), path=rules.source,
                 combine=t(f"warn_combine_{rules.combine}"), min=rules.min_cases, no_data=rules.no_data.name))
    st.caption(t("fair_method") + (t("fair_small", mark=t("fair_small_mark"), n=rules.small_sample,
                                                   m=f"{rules.prior_cases:g}") if rules.prior_cases > 0 else "")
               + (t("fair_window", n=rules.small_sample, months=rules.window_months,
                    mark=t("fair_window_mark", months=rules.window_months)) if rules.window_months > 0 else "")
               + (t("fair_worst", m=f"{rules.worst_prior_cases:g}")
                  if rules.worst_prior_cases > rules.prior_cases else ""))
    if view.categories or view.sources or view.statuses:
        st.info(t("warn_filters_ignored"))
    counts(kids, prev_kids, rules)
    report(this, at, version, kinds, rules, view)
    changes(this, at, version, kinds, rules)
    probs = problem_list(this, at, version, kids, rules)
    problems_panel(probs, month, view)  # issue 19: each problem's 督办 state, and issuing one
    duty(this, at, version, kids, probs, rules)
    history(this, view.region, month, at, version, today, rules)
    rules_box(rules)
