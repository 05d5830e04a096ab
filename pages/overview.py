"""总览: KPI cards for the current region (with change vs the previous period), a compact drill-down map with
the ranking as plain bars, and its children (tap a region on the map or a row of the table to drill).

No chart library on this page: it is the first screen, and plotly's JavaScript would hold the KPI cards back
for 1–3 s on a tablet (benchmarks/RESULTS.md, first paint)."""
import streamlit as st

from geo.layers import COMPACT_MAP_PX
from ui import data
from ui.duban import kpi_cards as duban_kpi_cards
from ui.escape import md
from ui.filters import active_view
from ui.strings import t
from ui.widgets import breadcrumb, columns, drill_map, indicator_table, kpi_cards, map_legend, map_mode, ranking_list

view = active_view()
version = data.data_version()
at = data.as_of()
me = data.region(view.region, version)
st.title(f"{t('app_title')} · {md(me['name'])}")
breadcrumb(view, key="ov_crumb")
table = data.indicator_table(view, at, version)
before = data.indicator_table(view.previous(), at, version)
st.caption(f"{view.date_from} 至 {view.date_to} · {t('data_as_of', time=at.strftime('%Y-%m-%d %H:%M'))}")
kpi_cards(table.iloc[0], before.iloc[0])
duban_kpi_cards(view)  # issue 19: 督办办结率 / 逾期督办
st.subheader(t("map_section"))
mode = map_mode("ov_ind")
evaluated = data.evaluated(view, at, version)
map_col, rank_col = columns([3, 2], key="ov_map_cols")
with map_col:
    scale, points, _ = drill_map(view, evaluated, mode, key="ov_map", height=COMPACT_MAP_PX, label_size=13)
    map_legend(scale, mode, points)
with rank_col:
    ranking_list(evaluated, view, mode, scale=scale)
st.subheader(t("children_table"))
indicator_table(evaluated, view, key="ov_table", rules=data.rules()[0])
st.caption(t("fair_method"))
