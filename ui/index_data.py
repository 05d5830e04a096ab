"""The 指数评价 page's door to the data: the index configuration (re-read when the file changes) and the
evaluated index of a year, cached per (comparison-group region, year, data version, configuration)."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from analytics import village_index as av
from analytics.index_config import DEFAULT_PATH, IndexConfig, config_store
from data_access import village_index as vi
from . import data


def config_path() -> Path:
    """config/index.toml, or the file named by INDEX_CONFIG."""
    return Path(os.environ.get("INDEX_CONFIG") or DEFAULT_PATH)


@st.cache_resource(show_spinner=False)
def _store(path: str):
    return config_store(path)


def config() -> tuple[IndexConfig, str | None]:
    """(config, error or None): a broken file keeps the last good configuration in force."""
    return _store(str(config_path())).get()


@st.cache_data(ttl=3600, show_spinner=False)
def years(version: int) -> list[int]:
    return data._conn_call(vi.years)


def _inputs(conn, root: str, year: int):
    return vi.villages(conn, root), vi.village_table(conn, root, year), vi.case_counts(conn, root, year)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _group(root: str, year: int, version: int, cfg: IndexConfig) -> av.Evaluated:
    """The index of every village of a whole comparison group (``root``) for ``year``: the shared computation,
    never shown as such (:func:`evaluated` restricts it to the user's scope)."""
    villages, table, counts = data._conn_call(_inputs, root, year)
    return av.evaluate(villages, table, counts, cfg)


@data.scoped
def evaluated(region: str, year: int, version: int, cfg: IndexConfig, scope=None) -> av.Evaluated:
    """The index of ``region``'s comparison group for ``year``, with only the villages the signed-in user may see
    (data_access.village_index.restrict: outside the scope nothing)."""
    ev = _group(vi.group_root(region, cfg.group), year, version, cfg)
    return data.guarded(vi.restrict, ev, region, scope)


@data.scoped
def sensitivity(region: str, year: int, version: int, cfg: IndexConfig, scope=None):
    """How many villages of ``region``'s comparison group change rank when each weight moves ±20 % (counts only)."""
    ev = _group(vi.group_root(region, cfg.group), year, version, cfg)
    data.guarded(vi.restrict, ev, region, scope)  # the region must be the user's: else OutsideScope
    return _sensitivity(vi.group_root(region, cfg.group), year, version, cfg)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _sensitivity(root: str, year: int, version: int, cfg: IndexConfig):
    return av.sensitivity(_group(root, year, version, cfg), cfg)


def export_recorder(region: str, year: int):
    """A function that puts one 指数 export on record (data_access.audit, with issue 15's signed-in user) when
    this installation has the audit log; until then it does nothing. Called when the file is made."""
    try:
        from data_access import audit
        from ui.auth import current_scope
        user = current_scope().user
    except ImportError:
        return lambda: None
    eng = data.engine()

    def record() -> None:
        with eng.begin() as conn:
            audit.record(conn, user, "export_index", region=region, details={"year": year})
    return record
