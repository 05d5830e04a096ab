"""数据查询导出: the filtered case list, paged in the database, and exports of exactly what it selects.

The sidebar View (region subtree, period, categories, sources, statuses) plus this page's filters
(overdue only, the children's warning colour, words in the description) make one CaseQuery; the total,
the table page and every export come from it. Exports are generated only when a button is clicked.
"""
import datetime as dt
import math

import streamlit as st

from exports.tables import (
    MIME, XLSX_ROW_LIMIT, case_columns, filename, level_names, month_period, month_view,
)
from ui import auth, data
from ui import data
from ui.escape import md
from ui.filters import active_view
from ui.strings import t
from ui.widgets import breadcrumb

PAGE_NO = "data_page_no"
# Touch: the pager and export buttons at least 44 px (Streamlit's own button class outranks a bare `button` rule).
TOUCH = ('<style>.st-key-data_pager [data-testid^="stBaseButton"], .st-key-data_exports [data-testid^="stBaseButton"]'
         ' { min-height: 44px; min-width: 44px; }</style>')
PAGE_SIZES = (20, 50, 100, 200, 500)
HIDDEN = ("grid_code",)
# Name columns that are the same on every row at this level are left out of the table (exports keep them).
SAME_AT_LEVEL = {"city": (), "county": ("county_name",), "township": ("county_name", "township_name"),
                 "village": ("county_name", "township_name", "village_name"),
                 "grid": ("county_name", "township_name", "village_name", "grid_name")}

auth.require("exporter")
view = active_view()
version = data.data_version()
at = data.as_of()
me = data.region(view.region, version)
st.title(t("data_title", region=md(me["name"])))
breadcrumb(view, key="data_crumb")
st.caption(f"{view.date_from} 至 {view.date_to} · {t('data_as_of', time=at.strftime('%Y-%m-%d %H:%M'))}")
data.show_rules_error()
st.html(TOUCH)

# --- this page's filters ---
current_rules, _ = data.rules()
st.markdown(f"**{t('data_filters')}**")
c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
overdue_only = c1.toggle(t("data_overdue_only"), key="data_overdue")
warning = c2.selectbox(t("data_warning"), [None, *level_names(current_rules)], key="data_warning",
                       format_func=lambda v: t("data_warning_all") if v is None else v, help=t("data_warning_help"))
text = c3.text_input(t("data_text"), key="data_text", placeholder=t("data_text_placeholder"), max_chars=100)
unmask = False
if data.can_unmask():
    unmask = st.toggle(t("data_unmask"), key="data_unmask", help=t("data_unmask_help"))

try:
    q = data.case_query(view, at, version, overdue_only=overdue_only, text=text, warning=warning)
except data.DataError as exc:  # e.g. a search text that is too long: say so, and show nothing else
    st.error(md(exc))
    st.stop()
total = data.case_count(q, version)

# --- paging (in the database: only one page ever reaches the browser) ---
size = st.session_state.get("data_page_size", 50)
signature = (q.view, q.overdue_only, q.text, q.regions, size)
if st.session_state.get("data_signature") != signature:
    st.session_state["data_signature"] = signature
    st.session_state[PAGE_NO] = 1
pages = max(1, math.ceil(total / size))
st.session_state[PAGE_NO] = min(max(1, int(st.session_state.get(PAGE_NO) or 1)), pages)
page_no = st.session_state[PAGE_NO]

st.markdown(t("data_count_line", n=total, page=page_no, pages=pages))
if warning and q.regions == ():
    st.info(t("data_warning_none", level=warning))
if total == 0:
    st.info(t("data_no_rows"))
else:
    table = data.case_table(q, (page_no - 1) * size, size, unmask, version)
    specs = [c for c in case_columns() if c.key not in HIDDEN + SAME_AT_LEVEL[view.level]]
    config = {}
    for c in specs:
        if c.kind == "datetime":
            config[c.key] = st.column_config.DatetimeColumn(c.header, format="YYYY-MM-DD HH:mm")
        else:
            config[c.key] = st.column_config.TextColumn(c.header, width="large" if c.key == "description" else None)
    st.dataframe(table[[c.key for c in specs]], column_config=config, hide_index=True, width="stretch",
                 height=min(len(table), 14) * 35 + 40, key=f"data_table_{page_no}")


def _go(n: int) -> None:
    st.session_state[PAGE_NO] = n


pager = st.container(horizontal=True, vertical_alignment="bottom", gap="small", key="data_pager")
pager.button(t("data_first"), on_click=_go, args=(1,), disabled=page_no <= 1, key="data_first")
pager.button(t("data_prev"), on_click=_go, args=(page_no - 1,), disabled=page_no <= 1, key="data_prev")
pager.number_input(t("data_page_jump"), min_value=1, max_value=pages, step=1, key=PAGE_NO, width=150)
pager.button(t("data_next"), on_click=_go, args=(page_no + 1,), disabled=page_no >= pages, key="data_next")
pager.button(t("data_last"), on_click=_go, args=(pages,), disabled=page_no >= pages, key="data_last")
pager.selectbox(t("data_page_size"), PAGE_SIZES, index=PAGE_SIZES.index(size), key="data_page_size", width=120)
st.caption(t("data_unmasked_note") if unmask else t("data_masked_note"))

# --- exports: exactly what the filters select, generated on click ---
exports = st.container(key="data_exports")
exports.subheader(t("data_export_title"))
exports.markdown(t("data_export_cases", n=total))
buttons = exports.container(horizontal=True, gap="small")
for fmt, label_key in (("xlsx", "data_export_xlsx"), ("csv", "data_export_csv"), ("csv-gb18030", "data_export_csv_gb")):
    too_big = fmt == "xlsx" and total > XLSX_ROW_LIMIT
    buttons.download_button(
        t(label_key), data.case_export(q, fmt, unmask, me["name"], warning),
        file_name=filename(me["name"], view.date_from, view.date_to, "cases", fmt), mime=MIME[fmt],
        on_click="ignore", disabled=too_big, key=f"data_dl_{fmt}", icon=":material/download:",
        type="primary" if fmt == "xlsx" else "secondary",
        help=t("data_export_csv_gb_help") if fmt == "csv-gb18030" else t("data_export_help"),
    )
    if too_big:
        exports.warning(t("data_too_big_xlsx", limit=XLSX_ROW_LIMIT))

exports.subheader(t("data_export_tables"))
months = data.report_months(view)
full = (view.date_to + dt.timedelta(days=1)).day == 1  # the newest month is complete
month = exports.selectbox(t("data_report_month"), months, index=0 if full or len(months) == 1 else 1,
                          key=f"data_month_{view.date_from}_{view.date_to}", help=t("data_report_help"), width=220,
                          format_func=lambda ym: t("data_month", year=ym[0], month=ym[1]))
m0, m1 = month_period(*month)
tables_row = exports.container(horizontal=True, gap="small")
tables_row.download_button(
    t("data_export_indicators"), data.indicator_export(view, at, version, me["name"]),
    file_name=filename(me["name"], view.date_from, view.date_to, "indicators", "xlsx"), mime=MIME["xlsx"],
    on_click="ignore", key="data_dl_indicators", icon=":material/table_view:",
)
tables_row.download_button(
    t("data_export_report"), data.report_export(month_view(view, *month), at, me["name"]),
    file_name=filename(me["name"], m0, m1, "report", "xlsx"), mime=MIME["xlsx"],
    on_click="ignore", key="data_dl_report", icon=":material/traffic:",
)
