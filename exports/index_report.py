"""强基善治指数 as an XLSX in the 平安报表 style: one row per region ranked, the index and each dimension score
as a cell filled with the map's colour, stars and the reasons a star was missed, and an 导出说明 sheet with the
year, the configuration file, the weights in force and the export time.

Text cells go through ``exports.safety.sanitize_frame`` (formula defusal) like every export; there is no
personal data here. Words come from ``ui.strings``.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.index_config import IndexConfig
from exports.safety import sanitize_frame
from exports.writers import ColumnSpec, Target, export_filename, write_xlsx
from geo.colors import indicator_scale
from ui.strings import t


def columns(cfg: IndexConfig, with_reasons: bool) -> list[ColumnSpec]:
    cols = [ColumnSpec("rank", t("idx_col_rank"), "int"), ColumnSpec("name", t("col_name")),
            ColumnSpec("code", t("col_code")), ColumnSpec("index", cfg.name, "float"),
            ColumnSpec("change", t("idx_col_change"), "float"),
            *[ColumnSpec(f"d_{d.key}", d.name, "float") for d in cfg.dimensions],
            ColumnSpec("stars", t("idx_col_stars"), "float")]
    if with_reasons:
        cols.append(ColumnSpec("reasons", t("idx_col_reasons")))
    return cols


def frame(table: pd.DataFrame, cfg: IndexConfig) -> pd.DataFrame:
    """The ranked table with a colour column per score (same scale as the map: light = better)."""
    out = table.copy()
    for col in ["index", *[f"d_{d.key}" for d in cfg.dimensions]]:
        out[f"color_{col}"] = indicator_scale(out[col], "index").colors
    return sanitize_frame(out, {}, unmask=True)  # no personal data; formulas in names or reasons defused


def export_index(table: pd.DataFrame, cfg: IndexConfig, year: int, target: Target, *, region_name: str,
                 weights: dict[str, float], now: dt.datetime | None = None) -> int:
    """Write the ranked children of a region (columns: rank, name, code, index, change, d_*, stars[, reasons])."""
    with_reasons = "reasons" in table.columns
    cols = columns(cfg, with_reasons)
    fills = {c.key: f"color_{c.key}" for c in cols if c.key == "index" or c.key.startswith("d_")}
    names = {d.key: d.name for d in cfg.dimensions}
    meta = [(t("export_meta_region"), region_name), (t("idx_meta_year"), str(year)),
            (t("idx_meta_config"), cfg.source),
            (t("idx_meta_method"), t("idx_method", normalise=t(f"idx_norm_{cfg.normalise}"),
                                     group=t(f"idx_group_{cfg.group}"), weighting=t(f"idx_weighting_{cfg.weighting}"),
                                     parent=t(f"idx_parent_{cfg.parent}"))),
            (t("idx_meta_weights"), "；".join(f"{names[k]} {w:.3f}" for k, w in weights.items())),
            (t("export_meta_exported_at"), (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S"))]
    return write_xlsx([frame(table, cfg)], cols, target, sheet_name=t("idx_sheet"), meta=meta, fills=fills)


def filename(region_name: str, year: int) -> str:
    return export_filename(region_name, dt.date(year, 1, 1), dt.date(year, 12, 31), t("idx_export_what"), "xlsx")
