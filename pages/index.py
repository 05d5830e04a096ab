"""指数评价 (强基善治指数 and 星级平安村社): a year's index by region on the map and as a ranking at every level
(a county's townships are the mean or population-weighted mean of their villages), a child's dimension profile
against the region's, year-over-year change, stars with the reasons a star was missed, the weights (expert
beside entropy), how ranks move when each weight moves ±20 %, and an XLSX export. Draw only: the numbers come
from ui.index_data (analytics.village_index), the method and weights from config/index.toml."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import village_index as av
from data_access.codes import CHILD_LEVEL, PREFIX_LEN, pad
from geo import layers as geo_layers
from geo.colors import NAN_COLOR, indicator_scale
from geo.layers import MAP_PX
from ui import data, index_data
from ui.filters import active_view, set_view
from ui.escape import md
from ui.strings import t
from ui.widgets import breadcrumb, columns, plot, table_height

YEAR_PARAM = "year"


def pick_year(years: list[int]) -> int:
    raw = st.query_params.get(YEAR_PARAM, "")
    year = int(raw) if raw.isdigit() and int(raw) in years else years[0]
    key = f"idx_year_{year}"
    st.selectbox(t("idx_year"), years, index=years.index(year), key=key, format_func=lambda y: t("idx_year_fmt", y=y),
                 on_change=_on_year, args=(key,), width=160)
    return year


def _on_year(key: str) -> None:
    st.query_params[YEAR_PARAM] = str(st.session_state[key])


def score(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.1f}"


def whole(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{int(v)}"


def star_text(n, of, mean: bool = False) -> str:
    """★★★★☆☆ for a village; 平均 5.47 / 6 星 for a township, county or city (``mean``)."""
    if n is None or pd.isna(n):
        return "—"
    if not mean:
        return "★" * int(n) + "☆" * int(of - n)
    return t("idx_stars_mean", n=f"{n:.2f}", of=int(of))


def draw_map(view, table: pd.DataFrame, mode: str, names: dict, version: int, of: int, mean: bool):
    try:
        shapes = data.map_shapes(view.region, version)
    except data.DataError as exc:
        st.warning(md(exc))
        return
    scale = indicator_scale(table[mode], "index")
    color_of = dict(zip(table["code"], scale.colors))
    rows = table.set_index("code")
    fills, tips = [], []
    for code, name in zip(shapes.children["code"], shapes.children["name"]):
        fills.append(color_of.get(code, NAN_COLOR))
        r = rows.loc[code] if code in rows.index else None
        lines = [str(name)]
        if r is not None:
            lines += [f"{names[mode]}：{score(r[mode])}", t("idx_tip_rank", rank=whole(r["rank"])),
                      t("idx_tip_stars", stars=star_text(r["stars"], of, mean=mean))]
        tips.append("\n".join(lines + [t("map_tip_drill")]))
    deck = geo_layers.build_deck(shapes, fills, tips, width=MAP_PX, height=MAP_PX,
                                 sibling_tips=[t("map_sibling_tip", name=str(n)) for n in shapes.siblings["name"]])
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key=f"idx_map_{view.region}_{mode}",
                            height=MAP_PX, alt=t("idx_map_alt", region=shapes.name, what=names[mode]))
    code = geo_layers.picked_code(event)
    if code and code != view.region:
        set_view(view.with_region(code))
        st.rerun()
    legend = "　".join(f"<span style='display:inline-block;width:.9em;height:.9em;background:{e.color};"
                      f"border:1px solid #8a939b'></span> "
                      + (t("map_legend_nan") if e.lo is None else f"{e.lo:.1f} – {e.hi:.1f}") + f"（{e.count}）"
                      for e in scale.legend)
    st.markdown(f"**{names[mode]}**　{legend}", unsafe_allow_html=True)


def ranking(view, table: pd.DataFrame, cfg, child_is_village: bool) -> None:
    shown = pd.DataFrame({
        "rank": table["rank"], "name": table["name"], "index": table["index"], "change": table["change"],
        "stars": [star_text(n, len(cfg.stars), mean=not child_is_village) for n in table["stars"]],
        **{f"d_{d.key}": table[f"d_{d.key}"] for d in cfg.dimensions},
    })
    cfg_cols = {"rank": st.column_config.NumberColumn(t("idx_col_rank"), format="%d", width="small"),
                "name": st.column_config.TextColumn(t("col_name"), pinned=True),
                "index": st.column_config.ProgressColumn(cfg.name, min_value=0, max_value=100, format="%.1f"),
                "change": st.column_config.NumberColumn(t("idx_col_change"), format="%+.1f"),
                "stars": st.column_config.TextColumn(t("idx_col_stars")),
                **{f"d_{d.key}": st.column_config.NumberColumn(d.name, format="%.1f") for d in cfg.dimensions}}
    event = st.dataframe(shown, column_config=cfg_cols, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=f"idx_rank_{view.region}", height=table_height(len(shown), 16))
    rows = event.selection.rows if event is not None else []
    if rows:
        set_view(view.with_region(table.iloc[rows[0]]["code"]))
        st.rerun()
    st.caption(t("idx_rank_note_village" if child_is_village else "idx_rank_note_parent",
                 how=t(f"idx_parent_{cfg.parent}")) + t("drill_hint"))


def profile(cfg, name: str, mine: pd.Series, other_name: str, other: pd.Series, key: str) -> None:
    dims = [d.name for d in cfg.dimensions]
    keys = [f"d_{d.key}" for d in cfg.dimensions]
    fig = go.Figure()
    for label_, s, color in ((other_name, other, "#90a4ae"), (name, mine, "#c62828")):
        vals = [float(s.get(k)) if pd.notna(s.get(k)) else 0.0 for k in keys]
        fig.add_trace(go.Scatterpolar(r=vals + vals[:1], theta=dims + dims[:1], name=label_, fill="toself",
                                      line=dict(color=color), opacity=0.75,
                                      hovertemplate="%{theta}：%{r:.1f}<extra>" + label_ + "</extra>"))
    fig.update_layout(title=t("idx_profile_title", name=name, other=other_name), height=420,
                      polar=dict(radialaxis=dict(range=[0, 100])), margin=dict(l=40, r=40, t=90, b=30))
    plot(fig, key=key)


def stars_section(ev, cfg, view) -> None:
    f = ev.frame
    n = PREFIX_LEN.get(view.level, 12)
    mine = f[f["code"].str.startswith(view.region[:n])]
    st.subheader(t("idx_stars_title", n=len(cfg.stars)))
    counts = mine["stars"].value_counts().reindex(range(len(cfg.stars), -1, -1), fill_value=0)
    row = st.container(horizontal=True, gap="small")
    for k, c in counts.items():
        row.metric(t("idx_stars_n", n=k), f"{int(c):,}", border=True, width=120)
    missed = mine[mine["stars"] < mine["of"]].sort_values(["stars", "code"]).head(200)
    if missed.empty:
        st.success(t("idx_stars_all"))
        return
    shown = pd.DataFrame({"name": missed["name"], "stars": [star_text(a, b) for a, b in zip(missed["stars"], missed["of"])],
                          "reasons": missed["reasons"]})
    st.dataframe(shown, hide_index=True, width="stretch", height=table_height(len(shown), 12),
                 column_config={"name": st.column_config.TextColumn(t("col_name")),
                                "stars": st.column_config.TextColumn(t("idx_col_stars")),
                                "reasons": st.column_config.TextColumn(t("idx_col_reasons"), width="large")})
    st.caption(t("idx_stars_note", shown=len(shown), n=int((mine["stars"] < mine["of"]).sum()), total=len(mine)))


def weights_section(ev, cfg, region: str, year: int, version: int) -> None:
    st.subheader(t("idx_weights_title"))
    iw_e, dw_e = ev.expert
    iw_h, dw_h = ev.entropy
    rows = [{"name": d.name, "expert": dw_e[d.key], "entropy": dw_h[d.key],
             "inds": "、".join(i.name for i in d.indicators)} for d in cfg.dimensions]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "name": st.column_config.TextColumn(t("idx_col_dimension")),
        "expert": st.column_config.NumberColumn(t(f"idx_col_expert_{'ahp' if cfg.ahp else 'given'}"), format="%.3f"),
        "entropy": st.column_config.NumberColumn(t("idx_col_entropy"), format="%.3f"),
        "inds": st.column_config.TextColumn(t("idx_col_indicators"), width="large")})
    st.caption(t("idx_weights_note", used=t(f"idx_weighting_{cfg.weighting}"), cr=f"{cfg.ahp_cr:.3f}", path=cfg.source))
    st.subheader(t("idx_sens_title"))
    sens = index_data.sensitivity(region, year, version, cfg)
    names = {d.key: d.name for d in cfg.dimensions} | {i.key: i.name for i in cfg.indicators}
    wide = sens.pivot_table(index=["weight", "kind"], columns="factor", values=["changed", "max_shift"], sort=False)
    shown = pd.DataFrame({
        "weight": [names[w] for w, _k in wide.index], "kind": [t(f"idx_kind_{k}") for _w, k in wide.index],
        "down": wide[("changed", 0.8)].to_numpy(), "up": wide[("changed", 1.2)].to_numpy(),
        "shift": wide["max_shift"].max(axis=1).to_numpy()})
    st.dataframe(shown, hide_index=True, width="stretch", height=table_height(len(shown), 16), column_config={
        "weight": st.column_config.TextColumn(t("idx_col_weight")), "kind": st.column_config.TextColumn(t("idx_col_kind")),
        "down": st.column_config.NumberColumn(t("idx_col_down"), format="%d"),
        "up": st.column_config.NumberColumn(t("idx_col_up"), format="%d"),
        "shift": st.column_config.NumberColumn(t("idx_col_shift"), format="%d")})
    st.caption(t("idx_sens_note", n=len(ev.frame), group=t(f"idx_group_{cfg.group}")))


def export_button(table: pd.DataFrame, cfg, ev, year: int, region: str, region_name: str) -> None:
    from exports.index_report import export_index, filename
    cols = ["rank", "name", "code", "index", "change", *[f"d_{d.key}" for d in cfg.dimensions], "stars"]
    if "reasons" in table.columns:
        cols.append("reasons")
    out = table[cols]
    record = index_data.export_recorder(region, year)

    def make() -> bytes:
        record()
        return data._to_bytes(lambda f: export_index(out, cfg, year, f, region_name=region_name,
                                                     weights=ev.dimension_weights))
    st.download_button(t("idx_export"), key="idx_export", data=make,
                       file_name=filename(region_name, year),
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- the page ---

view = active_view()
version = data.data_version()
me = data.region(view.region, version)
cfg, error = index_data.config()
st.title(t("idx_title", region=md(me["name"]), index=cfg.name))
breadcrumb(view, key="idx_crumb")
if error:
    st.warning(t("idx_config_error", error=error))
years = index_data.years(version)
if not years or view.level == "grid":
    st.info(t("idx_no_data" if not years else "idx_grid"))
    st.stop()
controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
with controls:
    year = pick_year(years)
    names = {"index": cfg.name, **{f"d_{d.key}": d.name for d in cfg.dimensions}}
    mode = st.selectbox(t("idx_color_by"), list(names), format_func=names.get, key="idx_mode", width=220)
ev = index_data.evaluated(view.region, year, version, cfg)
prev = index_data.evaluated(view.region, year - 1, version, cfg) if year - 1 in years else None
st.caption(t("idx_caption", year=year, n=len(ev.frame), group=t(f"idx_group_{cfg.group}"),
             normalise=t(f"idx_norm_{cfg.normalise}"), parent=t(f"idx_parent_{cfg.parent}")))
own_all = av.scores_at(ev, cfg, view.level)
own = own_all.loc[view.region] if view.region in own_all.index else pd.Series(dtype=float)
before_own = av.scores_at(prev, cfg, view.level) if prev is not None else None
change = (own.get("index") - before_own.loc[view.region, "index"]
          if before_own is not None and view.region in before_own.index else None)
cards = st.container(horizontal=True, gap="small")
cards.metric(cfg.name, score(own.get("index")), delta=None if change is None or pd.isna(change) else f"{change:+.1f}（{t('idx_vs_last_year')}）",
             border=True, width=200)
for d in cfg.dimensions:
    cards.metric(d.name, score(own.get(f"d_{d.key}")), border=True, width=130)
cards.metric(t("idx_col_stars"), star_text(own.get("stars"), len(cfg.stars), mean=view.level != "village"), border=True,
             width=200)

child = CHILD_LEVEL.get(view.level) if view.level != "village" else None
if child is None:  # a village: its profile against its township, its stars and rank
    town = pad(view.region[:9])
    towns = av.scores_at(ev, cfg, "township")
    st.caption(t("idx_village_rank", rank=whole(own.get("rank")), n=int(own.get("group_size", 0)),
                 group=t(f"idx_group_{cfg.group}")))
    if own.get("reasons"):
        st.warning(md(own["reasons"]))
    profile(cfg, me["name"], own, data.region(town, version)["name"], towns.loc[town], key=f"idx_profile_{view.region}")
else:
    kids = data.children(view.region, version)[["code", "name"]]
    before = av.scores_at(prev, cfg, child) if prev is not None else None
    table = av.ranked(kids, av.scores_at(ev, cfg, child), before)
    left, right = columns([3, 2], key="idx_cols")
    with left:
        draw_map(view, table, mode, names, version, len(cfg.stars), mean=child != "village")
    with right:
        st.subheader(t("idx_rank_title", child=t(f"level_{child}")))
        ranking(view, table, cfg, child == "village")
        export_button(table, cfg, ev, year, view.region, me["name"])
    pick = st.selectbox(t("idx_profile_pick"), table["code"].tolist(), format_func=dict(zip(table["code"], table["name"])).get,
                        key=f"idx_pick_{view.region}", width=260)
    sel = table.set_index("code").loc[pick]
    profile(cfg, sel["name"], sel, me["name"], own, key=f"idx_profile_{view.region}")
stars_section(ev, cfg, view)
weights_section(ev, cfg, view.region, year, version)
