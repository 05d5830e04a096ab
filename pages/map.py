"""地图钻取: the children of the current region on a map (offline), coloured by warning level or an indicator;
click or tap a region to drill down, the breadcrumb goes back up; a ranking bar chart drills the same way."""
import streamlit as st

from geo.layers import MAP_PX
from ui import data
from ui.duban import region_button as duban_region_button
from ui.escape import md
from ui.filters import active_view, set_view
from ui.playback import playback
from ui.strings import t
from ui.widgets import (breadcrumb, columns, drill_map, map_children, map_legend, map_mode, points_note,
                        ranking_bar, region_facts)

view = active_view()
version = data.data_version()
at = data.as_of()
me = data.region(view.region, version)
st.title(t("map_title", region=md(me["name"])))
breadcrumb(view, key="map_crumb")
data.show_rules_error()
st.caption(f"{view.date_from} 至 {view.date_to} · {t('data_as_of', time=at.strftime('%Y-%m-%d %H:%M'))}")

controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
with controls:
    mode = map_mode("map_ind")
    inspect = st.segmented_control(t("map_click_mode"), ["drill", "inspect"], default="drill", key="map_click",
                                   format_func=lambda m: t(f"map_click_{m}")) == "inspect"
    heat = view.level in ("village", "grid") and st.toggle(t("map_heat"), key="map_heat", help=t("map_heat_help"))

table = data.evaluated(view, at, version)
kids = map_children(table)
left, right = columns([3, 2], key="map_cols")
with left:
    scale, points, selected = drill_map(view, table, mode, key="map_deck", height=MAP_PX, inspect=inspect, heat=heat)
    map_legend(scale, mode, points, heat=heat)
    points_note(points)
    st.caption(t("map_hint_inspect") if inspect else t("map_hint"))
with right:
    if selected is not None:
        row = kids[kids["code"] == selected].iloc[0]
        region_facts(row, mode, t("map_selected"))
        st.button(t("map_drill_button", name=row["name"]), type="primary", key=f"map_go_{selected}",
                  on_click=set_view, args=(view.with_region(selected),))
    else:
        region_facts(table.iloc[0], mode, t("map_current"))
    duban_region_button(selected or view.region)  # issue 19: 督办 about the region on the map
    if view.level == "grid":
        st.info(t("map_no_children_data"))
    else:
        ranking_bar(table, view, mode, key="map_rank", scale=scale)

if view.level != "grid" and st.toggle(t("play_title"), key="map_play_on", help=t("play_help")):  # issue 18
    playback(view, mode, key="map_play")
