"""pydeck layers and the view state of a drill-down map, fully offline (no basemap, no web fonts).

- ``fit_view``: centre and zoom that fit a region's bounds into a map of known pixel size (Web Mercator, the
  512-px world of deck.gl); ``to_pixel`` is its inverse, used by the tests to click on a region.
- ``build_deck``: siblings (faded, pickable to move there), children (coloured, pickable to drill), the
  region's outline, case points (by state) or a heat layer, and labels (TextLayer with the label characters
  and a local CJK font). Every layer has an ``id`` (Streamlit keeps selections per layer id).
- ``CompactDeck``: pydeck's JSON is indented; this one is compact (a county view shrinks ~4x).
"""
from __future__ import annotations

import functools
import json
import math
import string
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings import deck as _pydeck_deck
from pydeck.bindings.json_tools import default_serialize

from .boundaries import ViewShapes
from .colors import POINT_COLORS, rgba

# pydeck asks five times per Deck whether its Jupyter widget imports, and Python does not remember a failed
# import: under load that was an eighth of every map rerun. The answer cannot change while the server runs.
_pydeck_deck.has_jupyter_extra = functools.cache(_pydeck_deck.has_jupyter_extra)

#: deck.gl's world is 512 px wide at zoom 0.
TILE = 512
MAX_ZOOM = 18.0
#: The map's assumed pixel size (square) on the 地图钻取 page and in 总览's compact map: the view state fits the
#: region into it. A wider canvas only adds margin; deck.gl centres the view state in whatever it gets.
MAP_PX = 560
COMPACT_MAP_PX = 420
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
DECIMALS = 5
#: pydeck reads a bare string as an accessor expression; quoted, it is passed through as a literal.
PIXELS = '"pixels"'
LAYER_IDS = ("siblings", "children", "outline", "heat", "points_closed", "points_open", "points_overdue",
             "sibling_labels", "labels")


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation and keeps Chinese as UTF-8 (what st.pydeck_chart sends)."""

    def to_json(self):
        """Made once: a deck is not changed after it is built, and a memoised one is sent on every rerun."""
        cached = self.__dict__.get("_json_text")
        if cached is None:
            cached = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"),
                                ensure_ascii=False)
            self.__dict__["_json_text"] = cached
        return cached


def _merc_y(lat: float) -> float:
    """Web Mercator y in [0, 1] from the top (north) edge of the world."""
    lat = max(min(lat, 85.05112878), -85.05112878)
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def _merc_x(lon: float) -> float:
    return (lon + 180.0) / 360.0


def _inv_merc_y(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def fit_view(bounds: Sequence[float], width: int, height: int, padding: float = 0.06) -> dict:
    """``{"longitude", "latitude", "zoom"}`` that shows ``bounds`` (min lon, min lat, max lon, max lat) whole in a
    ``width`` x ``height`` px map, leaving ``padding`` (a fraction of each side) free."""
    x0, y0, x1, y1 = (float(b) for b in bounds)
    mx0, mx1 = _merc_x(x0), _merc_x(x1)
    my0, my1 = _merc_y(y1), _merc_y(y0)  # north has the smaller y
    usable_w = max(1.0, width * (1 - 2 * padding))
    usable_h = max(1.0, height * (1 - 2 * padding))
    span_x = max(mx1 - mx0, 1e-9)
    span_y = max(my1 - my0, 1e-9)
    zoom = min(math.log2(usable_w / (TILE * span_x)), math.log2(usable_h / (TILE * span_y)), MAX_ZOOM)
    return {"longitude": round((x0 + x1) / 2, 6), "latitude": round(_inv_merc_y((my0 + my1) / 2), 6),
            "zoom": round(zoom, 3)}


def to_pixel(lon: float, lat: float, view: dict, width: float, height: float) -> tuple[float, float]:
    """Pixel (x, y from the map's top-left) of a point in a ``width`` x ``height`` map showing ``view``."""
    scale = TILE * 2 ** view["zoom"]
    x = width / 2 + (_merc_x(lon) - _merc_x(view["longitude"])) * scale
    y = height / 2 + (_merc_y(lat) - _merc_y(view["latitude"])) * scale
    return x, y


def _ring(coords) -> list:
    return np.round(np.asarray(coords, dtype=float)[:, :2], DECIMALS).tolist()


def geometry_json(geom) -> dict | None:
    """GeoJSON geometry of a (Multi)Polygon with coordinates rounded to 5 decimals."""
    if geom is None or geom.is_empty:
        return None
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom] if geom.geom_type == "Polygon" else [
        g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    rings = [[_ring(p.exterior.coords), *[_ring(i.coords) for i in p.interiors]] for p in polys if not p.is_empty]
    if not rings:
        return None
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def features(frame, properties: list[dict]) -> dict:
    """A FeatureCollection of ``frame``'s geometries with one properties dict per row (same order)."""
    out = []
    for geom, props in zip(frame.geometry, properties):
        g = geometry_json(geom)
        if g is not None:
            out.append({"type": "Feature", "geometry": g, "properties": props})
    return {"type": "FeatureCollection", "features": out}


def _labels(frame, names: Sequence[str]) -> list[dict]:
    """Label rows: position ``p``, text ``t`` and collision priority ``r`` (bigger regions win)."""
    areas = shapely.area(np.asarray(frame.geometry.to_numpy(), dtype=object)) if len(frame) else np.array([])
    ranks = pd.Series(areas).rank(method="first").to_numpy() if len(areas) else areas
    rows = []
    for name, lon, lat, geom, rank in zip(names, frame["label_lon"], frame["label_lat"], frame.geometry, ranks):
        if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
            p = geom.representative_point()
            lon, lat = p.x, p.y
        rows.append({"p": [round(float(lon), DECIMALS), round(float(lat), DECIMALS)], "t": str(name),
                     "r": int(min(rank, 999))})
    return rows


def character_set(texts) -> str:
    """Every character the labels use plus printable ASCII: TextLayer draws only characters in its atlas."""
    chars = set(string.printable.strip()) | {" "}
    for text_ in texts:
        chars.update(str(text_))
    return "".join(sorted(chars))


def build_deck(shapes: ViewShapes, fills: Sequence[str], tips: Sequence[str], *, width: int, height: int,
               sibling_tips: Sequence[str] | None = None, points: pd.DataFrame | None = None, heat: bool = False,
               label_size: int = 14, fill_alpha: int = 210) -> CompactDeck:
    """The map of ``shapes``: ``fills`` (hex) and ``tips`` (plain text, lines split by \\n) per child row, optional
    case points.

    ``points``: lon, lat, state (0 closed, 1 open, 2 overdue); with ``heat`` a heat layer replaces them.
    """
    kids = shapes.children
    child_props = [{"code": str(c), "name": str(n), "fill": rgba(f, fill_alpha), "tip": tip}
                   for c, n, f, tip in zip(kids["code"], kids["name"], fills, tips)]
    sib = shapes.siblings
    sibling_tips = sibling_tips if sibling_tips is not None else [str(n) for n in sib["name"]]
    sib_props = [{"code": str(c), "name": str(n), "tip": tip, "sibling": 1}
                 for c, n, tip in zip(sib["code"], sib["name"], sibling_tips)]
    layers = []
    if len(sib):
        layers.append(pdk.Layer(
            "GeoJsonLayer", features(sib, sib_props), id="siblings", pickable=True, stroked=True, filled=True,
            get_fill_color=[236, 239, 241, 150], get_line_color=[150, 160, 170, 255], line_width_units=PIXELS,
            get_line_width=1, auto_highlight=True, highlight_color=[255, 255, 255, 90]))
    layers.append(pdk.Layer(
        "GeoJsonLayer", features(kids, child_props), id="children", pickable=True, stroked=True, filled=True,
        get_fill_color="properties.fill", get_line_color=[255, 255, 255, 255], line_width_units=PIXELS,
        get_line_width=1.2, auto_highlight=True, highlight_color=[0, 0, 0, 50]))
    layers.append(pdk.Layer(
        "GeoJsonLayer", {"type": "Feature", "geometry": geometry_json(shapes.outline), "properties": {}},
        id="outline", pickable=False, stroked=True, filled=False, get_line_color=[33, 37, 41, 255],
        line_width_units=PIXELS, get_line_width=2.5))
    if points is not None and len(points):
        if heat:
            layers.append(pdk.Layer(
                "HeatmapLayer", _positions(points), id="heat", get_position="-", radius_pixels=40,
                intensity=1, threshold=0.05, opacity=0.75, pickable=False))
        else:
            radius = 3 if len(points) > 2000 else 4
            for state, layer_id in enumerate(("points_closed", "points_open", "points_overdue")):
                part = points[points["state"] == state]
                if len(part):
                    layers.append(pdk.Layer(
                        "ScatterplotLayer", _positions(part), id=layer_id, get_position="-",
                        get_fill_color=rgba(POINT_COLORS[state], 220), get_line_color=[255, 255, 255, 200],
                        stroked=True, line_width_min_pixels=0.5, radius_units=PIXELS, get_radius=radius,
                        pickable=False))
    names = list(kids["name"])
    sib_names = list(sib["name"])
    charset = character_set(names + sib_names)
    text_common = dict(get_position="p", get_text="t", get_text_anchor='"middle"',
                       get_alignment_baseline='"center"', font_settings={"sdf": True}, outline_width=1, font_weight=600,
                       outline_color=[255, 255, 255, 230], pickable=False, billboard=True, size_units=PIXELS,
                       # labels that would overlap are hidden (the bigger region keeps its label; hover shows all)
                       extensions=[{"@@type": "CollisionFilterExtension"}], get_collision_priority="r",
                       collision_test_props={"sizeScale": 1.1})
    if len(sib):
        layers.append(_raw(pdk.Layer("TextLayer", _labels(sib, sib_names), id="sibling_labels",
                                     get_size=max(10, label_size - 2), get_color=[110, 120, 130, 255],
                                     collision_group='"siblings"', **text_common),
                           font_family=FONT, character_set=charset))
    layers.append(_raw(pdk.Layer("TextLayer", _labels(kids, names), id="labels", get_size=label_size,
                                 get_color=[20, 24, 28, 255], collision_group='"children"', **text_common),
                       font_family=FONT, character_set=charset))
    view = fit_view(shapes.bounds, width, height)
    return CompactDeck(
        layers=layers, initial_view_state=pdk.ViewState(**view, pitch=0, bearing=0),
        views=[pdk.View(type="MapView", controller=True)], map_provider=None,
        tooltip={"text": "{tip}", "style": {"backgroundColor": "rgba(33,37,41,0.92)", "color": "#fff",
                                            "fontSize": "13px", "padding": "6px 8px", "borderRadius": "4px",
                                            "whiteSpace": "pre-line", "lineHeight": "1.5"}})


def _raw(layer: pdk.Layer, **props) -> pdk.Layer:
    """Set layer props verbatim (pydeck would read a plain string such as a font family as an expression)."""
    layer.__dict__.update(props)
    return layer


def _positions(points: pd.DataFrame) -> list:
    return np.round(points[["lon", "lat"]].to_numpy(dtype=float), DECIMALS).tolist()


def picked_code(selection, layer_ids: Sequence[str] = ("children", "siblings")) -> str | None:
    """The region code of the object a pydeck selection picked on a polygon layer (None if nothing)."""
    if not selection:
        return None
    objects = (selection.get("selection") or {}).get("objects") or {}
    for layer_id in layer_ids:
        for obj in objects.get(layer_id) or []:
            if isinstance(obj, dict):
                code = (obj.get("properties") or {}).get("code") or obj.get("code")
                if code:
                    return str(code)
    return None
