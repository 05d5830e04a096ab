"""Open311 GeoReport v2 service requests in (JSON or CSV) as cases, through the shared pipeline.

Why a kind of its own: Open311 names its fields in English and has no grid, category or source of ours.
``service_code``/``service_name`` become a 事件类别 through config/open311.toml (staff edit it); status
open/closed maps to 处置中/已办结 with ``updated_datetime`` as the close time; ``expected_datetime`` is the
deadline (else requested + default_deadline_days); lat/long place the case in its grid by point. Our own
export writes the fields Open311 has no place for under ``extended_attributes`` (grid code, source,
resolution level, satisfaction …), which this importer reads back, so a round trip keeps every indicator.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..engine import PROJECT_DIR
from .cases import SYNONYMS, CaseKind, Context
from .columns import Mapping
from .pipeline import ImportReport, run_import

CONFIG_ENV = "OPEN311_CONFIG"
EXT = "extended_attributes."
OPEN311_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("service_request_id",),
    "service_code": ("service_code",),
    "service_name": ("service_name",),
    "open311_status": ("status",),
    "status_notes": ("status_notes",),
    "lon": ("long", "lon", "longitude"),
    "lat": ("lat", "latitude"),
    "reported_at": ("requested_datetime",),
    "updated_at": ("updated_datetime",),
    "deadline": ("expected_datetime",),
    "handling_unit": ("agency_responsible",),
    "description": ("description",),
    "address": ("address",),
    "grid_code": (EXT + "grid_code",),
    "source": (EXT + "source",),
    "category": (EXT + "category",),
    "dispatched_at": (EXT + "dispatched_datetime",),
    "closed_at": (EXT + "closed_datetime",),
    "resolution_level": (EXT + "resolution_level",),
    "satisfaction": (EXT + "satisfaction",),
    "is_major": (EXT + "is_major",),
}


@dataclass(frozen=True)
class Open311Config:
    source: str
    deadline_days: int
    categories: dict[str, str]

    def code_for(self, category: str) -> str:
        """The service_code our export writes for a category (the first code mapped to it, else the name)."""
        for code, cat in self.categories.items():
            if cat == category:
                return code
        return category


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or PROJECT_DIR / "config" / "open311.toml")


def load_config(path: Path | None = None) -> Open311Config:
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except tomllib.TOMLDecodeError as exc:
        from .readers import ImportFailed
        raise ImportFailed(f"Open311 对应关系文件 {path} 格式有误：{exc}") from None
    return Open311Config(str(data.get("source", "Open311")), int(data.get("default_deadline_days", 15)),
                         {str(k): str(v) for k, v in data.get("categories", {}).items()})


class Open311Kind(CaseKind):
    name = "open311"
    synonyms = OPEN311_SYNONYMS

    def __init__(self, config: Open311Config | None = None):
        self.config = config or load_config()

    def missing(self, m: Mapping) -> list[str]:
        need = {"id": "service_request_id", "reported_at": "requested_datetime"}
        out = [name for f, name in need.items() if f not in m.sources]
        if "service_code" not in m.sources and "service_name" not in m.sources and "category" not in m.sources:
            out.append("service_code 或 service_name")
        if "grid_code" not in m.sources and not ("lon" in m.sources and "lat" in m.sources):
            out.append("lat/long")
        return out

    def validate(self, rows: pd.DataFrame, m: Mapping, reasons: pd.Series, ctx: Context) -> pd.DataFrame:
        rows = rows.copy()
        src = dict(m.sources)

        def col(f):
            return rows[m.header(f)].astype(str).str.strip() if f in m.sources else pd.Series("", index=rows.index)

        cats = self.config.categories
        code, name, own = col("service_code"), col("service_name"), col("category")
        category = own.where(own.ne(""), code.map(cats).fillna(name.map(cats)).fillna(name).where(lambda s: s.ne(""), code))
        head = m.header("service_name") if "service_name" in m.sources else m.header("service_code") if "service_code" in m.sources else m.header("category")
        rows[head] = category
        src["category"] = [head]
        if "source" not in m.sources:
            rows["来源"] = self.config.source
            src["source"] = ["来源"]
        status = col("open311_status").str.lower()
        closed = status.eq("closed")
        if "open311_status" in m.sources:
            rows[m.header("open311_status")] = status.map({"open": "处置中", "closed": "已办结"}).fillna(status)
            src["status"] = [m.header("open311_status")]
        if "closed_at" not in m.sources and "updated_at" in m.sources:
            rows["updated_datetime(closed)"] = col("updated_at").where(closed, "")
            src["closed_at"] = ["updated_datetime(closed)"]
        if "deadline" not in m.sources:
            rows["expected_datetime"] = ""
            src["deadline"] = ["expected_datetime"]
        dl = rows[src["deadline"][0]].astype(str).str.strip()
        requested = pd.to_datetime(col("reported_at"), utc=True, format="ISO8601", errors="coerce")
        fallback = (requested.dt.tz_convert("Asia/Shanghai") + pd.Timedelta(days=self.config.deadline_days)).dt.strftime("%Y-%m-%d %H:%M:%S")
        rows[src["deadline"][0]] = dl.where(dl.ne(""), fallback.fillna(""))
        return super().validate(rows, Mapping({k: v for k, v in src.items() if k in SYNONYMS}, m.unused), reasons, ctx)


def import_open311(engine, path, *, user: str | None = None, row_filter=None, config: Open311Config | None = None) -> ImportReport:
    """Import an Open311 GeoReport v2 requests file (JSON array or CSV with the same field names)."""
    return run_import(engine, path, Open311Kind(config), user=user, row_filter=row_filter, options={})
