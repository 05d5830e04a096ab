"""数据导入: cases (tables, Open311) and boundaries in; the import log with every run's rejected rows.

Draw only: reading, checking and writing are data_access.imports; what leaves the server (rejected rows on
screen and in downloads) goes through exports.safety's masking and formula defusing.
"""
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from data_access.imports import ImportFailed, import_cases, runlog
from data_access.imports.cases import SYNONYMS
from data_access.imports.readers import preview
from exports.safety import sanitize_frame, sanitize_raw_frame
from data_access.scope import row_filter as scope_filter
from ui import auth, data
from ui.escape import md
from ui.strings import t

SHOWN = 200


def _who() -> str:
    """The signed-in user: every run is on record under their name (import log and audit log)."""
    return auth.current_scope().user


def _keep(upload) -> Path:
    """The upload kept on the server (data/imports/), its quarantine file beside it: nothing is lost."""
    path = data.imports_dir() / f"{dt.datetime.now():%Y%m%d-%H%M%S}_{Path(upload.name).name}"
    path.write_bytes(upload.getvalue())
    return path


def _reason_summary(reasons: pd.Series) -> str:
    """Reasons grouped without the quoted values: 网格编码「…」不存在 → 网格编码不存在."""
    counts = reasons.map(lambda r: re.sub(r"「[^」]*」", "", r)).value_counts()
    return "\n".join(f"- {t('imp_reason_line', why=md(why), n=n)}" for why, n in counts.items())


def _masked_rejects(run_id: int, limit: int | None = None) -> pd.DataFrame:
    with data.engine().connect() as conn:
        personal = runlog.run(conn, run_id)["details"].get("personal", {})
        rows = runlog.rejects(conn, run_id, limit)
    return sanitize_raw_frame(rows, known=personal)  # mapped columns, and any other by its header


def _show_report(rep) -> None:
    st.success(t("imp_done", read=rep.read, inserted=rep.inserted, updated=rep.updated, rejected=rep.rejected,
                 unchanged=rep.unchanged, months=len(rep.months)))
    if rep.notes:
        st.markdown(f"**{t('imp_notes')}**\n" + "\n".join(f"- {md(n)}" for n in rep.notes))
    if rep.details.get("mismatch_count"):
        st.info(t("imp_mismatch", n=rep.details["mismatch_count"]))
        st.dataframe(pd.DataFrame(rep.details["mismatches"][:20]), hide_index=True)
    if rep.rejected:
        rows = _masked_rejects(rep.run_id, SHOWN)
        st.warning(t("import_rejected", n=min(rep.rejected, SHOWN)))
        st.markdown(_reason_summary(_masked_rejects(rep.run_id)["错误原因"]))
        st.dataframe(rows, hide_index=True)
        _download(rep.run_id, "report")


def _download(run_id: int, where: str) -> None:
    rows = _masked_rejects(run_id)
    st.download_button(t("imp_log_download"), rows.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"import-{run_id}-rejected.csv", mime="text/csv", key=f"dl-{where}-{run_id}")


def _mapping_step(path: Path) -> None:
    """Headers not recognised: show the file's first rows and let staff map each column, save, import."""
    st.subheader(t("imp_map_title"))
    st.markdown(t("imp_map_help"))
    head = preview(path)
    st.dataframe(head, hide_index=True)
    labels = {"": "—", **{f: t(f"imp_field_{f}") for f in SYNONYMS}}
    row = st.number_input(t("imp_map_header_row"), 0, max(0, len(head) - 1), 0) if len(head) else 0
    mapping = {}
    for col in head.iloc[int(row)].tolist() if len(head) else []:
        if str(col).strip():
            mapping[str(col)] = st.selectbox(t("imp_map_field", col=col), list(labels), format_func=labels.get,
                                             key=f"map-{col}")
    name = st.text_input(t("imp_map_name"))
    chosen = {k: v for k, v in mapping.items() if v}
    left, right = st.columns(2)
    if left.button(t("imp_map_save")):
        if not name.strip():
            st.error(t("imp_map_need_name"))
        else:
            runlog.save_mapping(data.engine(), name.strip(), "cases", chosen, _who())
            st.success(t("imp_map_saved", name=name.strip()))
    if right.button(t("imp_map_apply"), type="primary"):
        _run_cases(path, chosen, st.session_state.get("imp_coords"))


def _run_cases(path: Path, mapping: dict | None, coords: str | None, fmt: str = "table") -> None:
    try:
        with st.spinner(t("import_running", name=path.name)):
            if fmt == "open311":
                from data_access.imports.open311 import import_open311
                rep = import_open311(data.engine(), path, user=_who(),
                                     row_filter=scope_filter(auth.current_scope(), "grid_code"))
            else:
                rep = import_cases(data.engine(), path, coords=coords, mapping=mapping, scope=auth.current_scope())
    except ImportFailed as exc:
        st.error(t("import_failed", error=md(exc)))
        if fmt == "table" and ("表头" in str(exc) or "缺少必填列" in str(exc)):
            st.session_state["imp_pending"] = str(path)
    else:
        st.session_state.pop("imp_pending", None)
        st.cache_data.clear()
        _show_report(rep)


def cases_tab() -> None:
    st.markdown(t("imp_help"))
    upload = st.file_uploader(t("import_upload"), type=["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "json"], key="up-cases")
    fmt = st.radio(t("imp_format"), ["table", "open311"], format_func=lambda f: t(f"imp_format_{f}"), horizontal=True)
    coords = st.radio(t("imp_coords"), ["wgs84", "gcj02", "bd09"], format_func=lambda c: t(f"imp_coords_{c}"),
                      horizontal=True, key="imp_coords")
    with data.engine().connect() as conn:
        saved = runlog.mappings(conn)
    pick = st.selectbox(t("imp_mapping_pick"), ["", *saved], format_func=lambda n: n or t("imp_mapping_none"))
    if upload is not None and st.button(t("import_button"), type="primary"):
        _run_cases(_keep(upload), saved.get(pick) if pick else None, coords, fmt)
    pending = st.session_state.get("imp_pending")
    if pending and Path(pending).exists():
        _mapping_step(Path(pending))


def bounds_tab() -> None:
    st.markdown(t("imp_b_help"))
    upload = st.file_uploader(t("imp_b_upload"), type=["geojson", "json", "zip", "gpkg"], key="up-bounds")
    level = st.selectbox(t("imp_b_level"), ["township", "village", "grid", "county"], format_func=lambda v: t(f"imp_b_level_{v}"))
    c1, c2, c3, c4 = st.columns(4)
    fields = dict(code_field=c1.text_input(t("imp_b_code")), name_field=c2.text_input(t("imp_b_name")),
                  parent_field=c3.text_input(t("imp_b_parent")), population_field=c4.text_input(t("imp_b_pop")))
    c5, c6 = st.columns(2)
    crs = c5.text_input(t("imp_b_crs"))
    coords = c6.radio(t("imp_coords"), ["wgs84", "gcj02", "bd09"], format_func=lambda c: t(f"imp_coords_{c}"),
                      horizontal=True, key="imp_b_coords")
    if upload is not None and st.button(t("imp_b_button"), type="primary"):
        from data_access.imports.boundaries import import_boundaries
        path = _keep(upload)
        try:
            with st.spinner(t("imp_b_running", name=upload.name)):
                rep = import_boundaries(data.engine(), path, level, crs=crs.strip() or None, coords=coords,
                                        user=_who(), row_filter=scope_filter(auth.current_scope(), "code"),
                                        **{k: (v.strip() or None) for k, v in fields.items()})
        except ImportFailed as exc:
            st.error(t("import_failed", error=md(exc)))
            return
        st.cache_data.clear()
        st.success(t("imp_b_done", read=rep.read, inserted=rep.inserted, updated=rep.updated, unchanged=rep.unchanged,
                     rejected=rep.rejected, removed=len(rep.removed)))
        if rep.notes:
            st.markdown(f"**{t('imp_notes')}**\n" + "\n".join(f"- {md(n)}" for n in rep.notes))
        if rep.orphaned_cases:
            st.warning(t("imp_b_orphans", n=rep.orphaned_cases, ids="、".join(rep.orphaned_sample[:20])))
        if rep.rejected:
            st.warning(t("imp_b_rejected"))
            st.dataframe(sanitize_frame(pd.DataFrame(rep.rejects, columns=["编码", "错误原因"]), {}), hide_index=True)


def log_tab() -> None:
    with data.engine().connect() as conn:
        runs = runlog.runs(conn, 100)
    if runs.empty:
        st.info(t("imp_log_empty"))
        return
    shown = pd.DataFrame({
        t("imp_col_id"): runs["id"], t("imp_col_at"): runs["started_at"],
        t("imp_col_kind"): runs["kind"].map(lambda k: t(f"imp_kind_{k}")),
        t("imp_col_actor"): runs["actor"], t("imp_col_file"): runs["file_name"],
        t("imp_col_status"): runs["status"].map(lambda s: t(f"imp_status_{s}") if s in ("ok", "failed") else s),
        t("imp_col_read"): runs["rows_read"], t("imp_col_inserted"): runs["inserted"],
        t("imp_col_updated"): runs["updated"], t("imp_col_rejected"): runs["rejected"],
        t("imp_col_unchanged"): runs["unchanged"], t("imp_col_seconds"): runs["seconds"],
        t("imp_col_message"): runs["message"], t("imp_col_sha"): runs["sha256"],
    })
    st.dataframe(sanitize_frame(shown, {}), hide_index=True)
    with_rejects = runs[runs["rejected"] > 0]
    if with_rejects.empty:
        return
    options = {int(r.id): t("imp_log_option", id=r.id, at=r.started_at, file=r.file_name, who=r.actor, rejected=r.rejected)
               for r in with_rejects.itertuples()}
    run_id = st.selectbox(t("imp_log_pick"), list(options), format_func=options.get)
    rows = _masked_rejects(run_id, SHOWN)
    st.markdown(t("imp_log_rows", id=run_id, n=len(rows)))
    st.dataframe(rows, hide_index=True)
    _download(run_id, "log")


auth.require("importer")
st.title(t("import_title"))
tab_cases, tab_bounds, tab_log = st.tabs([t("imp_tab_cases"), t("imp_tab_bounds"), t("imp_tab_log")])
with tab_cases:
    cases_tab()
with tab_bounds:
    bounds_tab()
with tab_log:
    log_tab()
st.caption(t("imp_cli_hint"))
