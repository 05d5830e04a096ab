"""Look and feel: touch-friendly sizes everywhere, and the dark chrome-less wall display.

The wall (大屏) is a fixed 16:9 canvas: every box is placed in viewport units (``WALL_BOXES``) and every
size is in vh, so 1920×1080 and 3840×2160 show the same picture, only sharper; nothing is in the
document flow, so the page can never scroll.
"""
from __future__ import annotations

import streamlit as st

TOUCH_CSS = """
<style>
/* Tablets: every tap target at least 44 px (WCAG 2.5.5), whatever the pointer; Streamlit's own rules are more
   specific than an element selector, hence .stApp and !important. */
.stApp button, .stApp [role="button"], .stApp .react-aria-ComboBox > div, .stApp .react-aria-TextField > div,
.stApp [data-testid="stDateInputField"], .stApp [data-baseweb="select"] > div, .stApp [data-baseweb="input"],
.stApp [data-baseweb="tab"], .stApp [role="tab"], .stApp [data-testid="stExpander"] summary,
.stApp [data-testid="stSidebarNav"] a, .stApp [data-testid="stPageLink"] a, .stApp [data-testid="stLinkButton"] a {
  min-height: 44px !important; }
/* Icon-only buttons: wide enough too. */
.stApp [data-testid="stBaseButton-headerNoPadding"], .stApp [data-testid="stMainMenuButton"],
.stApp [data-testid="stBaseButton-elementToolbar"], .stApp [data-testid="stNumberInputStepDown"],
.stApp [data-testid="stNumberInputStepUp"], .stApp button[aria-label^="Help"], .stApp [data-testid="stExpandSidebarButton"] {
  min-width: 44px !important; min-height: 44px !important; justify-content: center; }
/* The table/chart toolbar keeps its 44 px buttons inside the 44 px band above the element (no overlap). */
[data-testid="stElementToolbar"] { padding-top: 0 !important; padding-bottom: 0 !important; top: auto !important;
  bottom: 100% !important; }
[data-testid="stElementToolbarButtonContainer"] { min-height: 44px; align-items: center; }
/* The sidebar's collapse button only appears on hover in Streamlit: on a touch screen it must always show. */
[data-testid="stSidebarCollapseButton"], [data-testid="stSidebarCollapseButton"] button {
  visibility: visible !important; opacity: 1 !important; display: flex !important; }
/* Checkboxes, radios and toggles: the whole label row is the target. */
.stApp [data-testid="stCheckbox"] label, .stApp [data-testid="stRadio"] label, .stApp [data-baseweb="checkbox"],
.stApp label:has(> span > input[role="switch"]) { min-height: 44px; align-items: center; }
/* Multiselect chips: their × is the only way to remove one by touch. */
[data-baseweb="tag"] { min-height: 32px; }
[data-baseweb="tag"] [role="presentation"] { min-width: 28px; min-height: 28px; }
/* Dates in the calendar popover. */
[data-baseweb="calendar"] [role="gridcell"] > div { min-width: 40px; min-height: 40px; }
/* KPI cards: values scale with the screen and never truncate; labels and deltas wrap. */
[data-testid="stMetricValue"] { font-size: clamp(1.25rem, 2.1vw, 2.2rem); }
[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p, [data-testid="stMetricDelta"] > div,
[data-testid="stMetricDelta"] [data-testid="stMarkdownContainer"], [data-testid="stMetricDelta"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricDelta"] { font-size: 0.8rem; height: auto !important; }
/* 总览's ranking (ui.widgets.ranking_list): plain HTML bars, name and value always shown, scrolls inside itself. */
.yp-rank { display: flex; flex-direction: column; gap: 6px; max-height: 440px; overflow-y: auto; padding-right: 4px; }
.yp-rank-row { display: grid; grid-template-columns: minmax(4.5em, 8.5em) minmax(0, 1fr) 4.8em; align-items: center;
  gap: 8px; font-size: 0.95rem; line-height: 1.25; }
.yp-rank-name { overflow-wrap: anywhere; }
.yp-rank-track { display: block; background: #eef1f4; height: 18px; border-radius: 3px; overflow: hidden; }
.yp-rank-bar { display: block; height: 100%; border: 1px solid rgba(60, 70, 80, 0.35); box-sizing: border-box; }
.yp-rank-value { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
/* Tablets: use the width; Streamlit's default side padding wastes a fifth of 1024 px. */
@media (max-width: 1400px) { .block-container { padding-left: 1.2rem !important; padding-right: 1.2rem !important; } }
/* Portrait tablets: wide blocks wrap or scroll inside themselves, never the page. */
@media (max-width: 1100px) {
  [data-testid="stMain"] { min-width: 0; }
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(100%, 320px); }
  .stPlotlyChart, [data-testid="stDeckGlJsonChart"], [data-testid="stDataFrame"] { max-width: 100%; }
}
</style>
"""

#: Where each piece of the wall sits: (left vw, top vh, width vw, height vh).
WALL_BOXES: dict[str, tuple[float, float, float, float]] = {
    "header": (1.0, 0.8, 98.0, 7.0),
    "mix": (1.0, 8.6, 24.0, 41.0),
    "trend": (1.0, 50.4, 24.0, 42.4),
    "kpi": (25.6, 8.6, 48.8, 22.4),
    "map": (25.6, 31.8, 48.8, 61.0),
    "rank": (75.0, 8.6, 24.0, 84.2),
    "ticker": (1.0, 93.6, 98.0, 5.6),
}
#: Height of a panel's title bar (vh); the map canvas sits below it.
WALL_TITLE_VH = 4.6
#: The pydeck canvas inside the map panel: (left vw, top vh, width vw, height vh).
_ml, _mt, _mw, _mh = WALL_BOXES["map"]
WALL_MAP_CANVAS = (_ml + 0.4, _mt + WALL_TITLE_VH, _mw - 0.8, _mh - WALL_TITLE_VH - 0.6)


def _box(selector: str, box: tuple[float, float, float, float]) -> str:
    left, top, width, height = box
    return f"{selector} {{ position: fixed; left: {left}vw; top: {top}vh; width: {width}vw; height: {height}vh; }}"


WALL_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], footer,
[data-testid="stStatusWidget"] { display: none !important; }
html, body, .stApp { background: #0b1220 !important; color: #e6edf7; overflow: hidden !important; }
[data-testid="stMain"], [data-testid="stMainBlockContainer"] { overflow: hidden !important; }
.block-container { padding: 0 !important; max-width: 100% !important; }
/* A refresh must not dim the wall while it runs. */
[data-stale="true"], .stale-element { opacity: 1 !important; transition: none !important; }
.wall, .wall * { box-sizing: border-box; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
.wall-box { z-index: 1; overflow: hidden; }
.wall-panel { background: linear-gradient(180deg, #12203a 0%, #0e1a30 100%); border: 0.12vh solid #23406b;
  border-radius: 0.8vh; box-shadow: inset 0 0 2vh rgba(46, 125, 220, 0.12); }
.wall-title { height: """ + str(WALL_TITLE_VH) + """vh; display: flex; align-items: center; justify-content: space-between;
  padding: 0 1vw; font-size: 2.1vh; font-weight: 700; color: #9fd3ff; letter-spacing: 0.1vh;
  border-bottom: 0.12vh solid #1d3558; white-space: nowrap; overflow: hidden; }
.wall-title small { font-size: 1.6vh; font-weight: 400; color: #8aa0bf; }
.wall-body { position: absolute; left: 0; right: 0; top: """ + str(WALL_TITLE_VH) + """vh; bottom: 0; padding: 0.8vh 0.8vw; }
.wall-body svg { width: 100%; height: 100%; display: block; }
/* header */
.wall-header { display: flex; align-items: center; justify-content: space-between; padding: 0 1vw;
  border-bottom: 0.2vh solid #2e6fd1; background: linear-gradient(90deg, rgba(46,111,209,0.25), rgba(11,18,32,0) 60%); }
.wall-header h1 { margin: 0; padding: 0; font-size: 4vh; line-height: 1; font-weight: 800; color: #ffffff;
  letter-spacing: 0.3vh; white-space: nowrap; }
.wall-header .wall-meta { text-align: right; font-size: 1.9vh; line-height: 1.35; color: #8aa0bf; white-space: nowrap; }
.wall-header .wall-stamp { color: #cfe3ff; font-variant-numeric: tabular-nums; }
.wall-header .wall-stale { color: #ffb74d; font-weight: 700; }
.wall-header .wall-rot { display: inline-block; margin-left: 1vw; padding: 0.2vh 0.8vw; border-radius: 2vh;
  border: 0.12vh solid #2e6fd1; color: #9fd3ff; font-size: 1.8vh; }
/* KPI band */
.wall-kpi { display: grid; grid-template-columns: 6vw repeat(4, 1fr) 8.6vw; grid-template-rows: 1fr 1fr;
  gap: 0.8vh 0.6vw; padding: 0.8vh 0.6vw; }
.wall-kpi .row-label { display: flex; align-items: center; justify-content: center; text-align: center; font-size: 2.3vh;
  line-height: 1.25; font-weight: 700; color: #9fd3ff; border-right: 0.15vh solid #23406b; }
.wall-kpi .tile { display: flex; flex-direction: column; justify-content: center; padding: 0 0.3vw; min-width: 0; }
.wall-kpi .tile .label { font-size: 1.8vh; color: #8aa0bf; white-space: nowrap; }
.wall-kpi .tile .value small { font-size: 0.6em; font-weight: 700; margin-left: 0.1em; }
.wall-kpi .tile .value { font-size: 4.3vh; line-height: 1.1; font-weight: 800; color: #ffffff;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.wall-kpi .tile .value.bad { color: #ff8a80; }
.wall-kpi .worst { grid-column: 6; grid-row: 1 / span 2; border-radius: 0.8vh; display: flex; flex-direction: column;
  align-items: center; justify-content: center; color: #fff; text-align: center; }
.wall-kpi .worst .value { font-size: 8vh; line-height: 1; font-weight: 900; }
.wall-kpi .worst .label { font-size: 2vh; font-weight: 700; }
.wall-kpi .worst .sub { font-size: 1.6vh; opacity: 0.9; }
/* map */
.wall-legend { display: flex; gap: 1vw; font-size: 1.8vh; font-weight: 400; color: #cfe3ff; }
.wall-legend i { display: inline-block; width: 1.6vh; height: 1.6vh; border-radius: 0.3vh; margin-right: 0.4vw;
  vertical-align: -0.2vh; }
.wall-empty { display: flex; align-items: center; justify-content: center; height: 100%; font-size: 2.4vh; color: #8aa0bf; }
/* ranking */
.wall-rank .item { display: grid; grid-template-columns: 2.6vh 1fr auto; grid-template-rows: auto auto; column-gap: 0.6vw;
  align-items: center; padding: 0.7vh 0.4vw; border-bottom: 0.1vh solid #1d3558; }
.wall-rank .item .no { grid-row: 1 / span 2; width: 2.6vh; height: 2.6vh; border-radius: 50%; display: flex;
  align-items: center; justify-content: center; font-size: 1.6vh; font-weight: 800; color: #fff; }
.wall-rank .item .name { font-size: 2.2vh; font-weight: 700; color: #fff; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.wall-rank .item .nums { font-size: 1.8vh; color: #cfe3ff; white-space: nowrap; text-align: right;
  font-variant-numeric: tabular-nums; }
.wall-rank .item .chips { grid-column: 2 / span 2; font-size: 1.55vh; color: #cfe3ff; white-space: nowrap; overflow: hidden; }
.wall-rank .item .chips span { display: inline-block; padding: 0 0.4vw; margin-right: 0.3vw; border-radius: 0.4vh;
  color: #fff; }
/* ticker */
.wall-ticker { display: flex; align-items: center; overflow: hidden; }
.wall-ticker .tag { flex: none; height: 100%; display: flex; align-items: center; padding: 0 1.2vw; font-size: 2.3vh;
  font-weight: 800; color: #0b1220; background: #4fc3f7; border-radius: 0.8vh 0 0 0.8vh; }
.wall-ticker .lane { flex: 1; overflow: hidden; white-space: nowrap; position: relative; height: 100%; }
.wall-ticker .track { display: inline-flex; height: 100%; align-items: center; animation: wall-scroll linear infinite;
  will-change: transform; }
.wall-ticker .case { font-size: 2.3vh; color: #e6edf7; padding: 0 2.5vw 0 0; }
.wall-ticker .case b { color: #4fc3f7; font-weight: 700; margin-right: 0.5vw; font-variant-numeric: tabular-nums; }
.wall-ticker .case em { font-style: normal; padding: 0.1vh 0.5vw; margin-left: 0.5vw; border-radius: 0.4vh;
  background: #23406b; font-size: 1.9vh; }
@keyframes wall-scroll { from { transform: translateX(0); } to { transform: translateX(-50%); } }
/* the pydeck map, placed on its panel */
.st-key-wall_map { z-index: 2; }
.st-key-wall_map [data-testid="stElementContainer"], .st-key-wall_map [data-testid="stFullScreenFrame"],
.st-key-wall_map [data-testid="stDeckGlJsonChart"] { width: 100% !important; height: """ + str(WALL_MAP_CANVAS[3]) + """vh !important; }
.st-key-wall_map [data-testid="stElementToolbar"] { display: none !important; }
.st-key-wall_map canvas { background: transparent !important; }
.st-key-wall_viewport { position: fixed !important; left: 0; top: 0; width: 0; height: 0; overflow: hidden; }
""" + "\n".join(_box(f".wall-box-{name}", box) for name, box in WALL_BOXES.items()) + "\n" + _box(
    ".st-key-wall_map", WALL_MAP_CANVAS) + """
</style>
"""


def apply_theme(wall: bool = False) -> None:
    st.html(WALL_CSS if wall else TOUCH_CSS)
