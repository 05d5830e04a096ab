"""数据导入: upload a CSV/Excel of cases; see what landed, what was quarantined and why."""
import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from data_access.importer import ImportFailed, import_cases
from data_access import audit
from ui import auth, data
from ui.escape import md
from ui.strings import t

who = auth.require("importer")
st.title(t("import_title"))
st.markdown(t("import_help"))
upload = st.file_uploader(t("import_upload"), type=["csv", "xlsx"])
if upload is not None and st.button(t("import_button"), type="primary"):
    # Kept on the server (data/imports/), with its quarantine file beside it: nothing uploaded is lost.
    path = data.imports_dir() / f"{dt.datetime.now():%Y%m%d-%H%M%S}_{Path(upload.name).name}"
    path.write_bytes(upload.getvalue())
    try:
        with st.spinner(t("import_running", name=upload.name)):
            report = import_cases(data.engine(), path, scope=who)
    except ImportFailed as exc:
        with data.engine().begin() as conn:
            audit.record(conn, who.user, "import", region=who.region, details={"file": upload.name, "error": str(exc)})
        st.error(t("import_failed", error=md(exc)))
    else:
        with data.engine().begin() as conn:
            audit.record(conn, who.user, "import", region=who.region, details={
                "file": upload.name, "inserted": report.inserted, "updated": report.updated,
                "rejected": report.rejected})
        st.cache_data.clear()
        st.success(t("import_done", inserted=report.inserted, updated=report.updated, rejected=report.rejected,
                     months=len(report.months)))
        if report.quarantine is not None:
            rejected = pd.read_csv(report.quarantine, dtype=str, encoding="utf-8-sig")
            st.warning(t("import_rejected", n=len(rejected)))
            reasons = rejected["错误原因"].value_counts()
            st.markdown("\n".join(f"- {md(why)}：{n:,} 行" for why, n in reasons.items()))
            st.dataframe(rejected.head(200), hide_index=True)
            st.download_button(t("import_download_rejected"), report.quarantine.read_bytes(),
                               file_name=report.quarantine.name, mime="text/csv")
st.caption(t("import_cli_hint"))
