"""Boundaries as GeoDataFrames, re-noded and simplified as one coverage per view, so neighbours keep shared edges.

Why a coverage: the generated townships, villages and grids are Voronoi cells clipped to their parent, so a
shared edge often has a vertex on one side that the other side lacks (a T-junction). Simplifying each polygon
alone would then open slivers between neighbours. :func:`node_coverage` first snaps every vertex to a 1e-5°
grid (≈1 m, the 5 decimals the browser receives) and splits every edge where another polygon has a vertex;
``shapely.coverage_simplify`` then simplifies each shared edge once, for both sides, and never makes gaps.

Tolerance per level: what is drawn at a view is simplified for the zoom at which that view's region fills the
map (``TOLERANCE``, about one pixel there), so a city view carries counties at ~200 m detail and a village view
carries grids at ~4 m. Pure functions of database rows: no Streamlit (ui/data.py caches the results).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from data_access import points as point_queries
from data_access.codes import level_of

#: Coordinates are snapped to this grid (degrees): 5 decimals, about 1 m.
GRID = 1e-5
#: coverage_simplify tolerance (≈ square root of the triangle area removed, degrees) for the shapes drawn at a
#: view of a region of this level: about one pixel when that region fills an ~600 px map (a city spans ~1.7°,
#: a county ~0.5°, a township ~0.1°, a village ~0.03°).
TOLERANCE: dict[str, float] = {"city": 2e-3, "county": 6e-4, "township": 1.5e-4, "village": 4e-5, "grid": 4e-5}
CRS = "EPSG:4326"
LEVEL_NAMES = {"city": "市", "county": "县（市、区）", "township": "乡镇（街道）", "village": "村（社区）", "grid": "网格"}
COLUMNS = ["code", "name", "level", "parent_code", "label_lon", "label_lat", "geometry"]


class ShapeError(LookupError):
    """Boundaries that cannot be drawn; the message is for people (Chinese)."""


@dataclass(frozen=True)
class ViewShapes:
    """What a map of ``code`` draws: its children (or, for a grid, itself), its siblings and its outline."""
    code: str
    name: str
    level: str
    children: gpd.GeoDataFrame
    siblings: gpd.GeoDataFrame
    outline: BaseGeometry
    tolerance: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the region: what the view state fits."""
        return tuple(float(v) for v in self.outline.bounds)


def to_frame(rows: pd.DataFrame) -> gpd.GeoDataFrame:
    """Database rows (geometry as WKB) to a GeoDataFrame; rows without a usable polygon are dropped."""
    wkb = np.array([bytes(b) if b is not None else None for b in rows["geometry"]], dtype=object)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore") if len(wkb) else np.array([], dtype=object)
    ok = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    geoms = shapely.make_valid(geoms[ok])
    return _frame({c: rows[c].to_numpy()[ok] if c in rows.columns else np.full(ok.sum(), None)
                   for c in COLUMNS if c != "geometry"}, geoms)


def _frame(columns: dict, geoms) -> gpd.GeoDataFrame:
    """A GeoDataFrame built in one go (column by column geopandas edits cost more than the geometry work)."""
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=CRS), crs=CRS)


def node_coverage(geoms, grid: float = GRID) -> np.ndarray:
    """Polygons that should tile, rebuilt so every shared edge has the same vertices on both sides.

    Edges are noded with snap-rounding to ``grid`` and polygonized; each face goes to the input polygon that
    holds its interior point (the first one, where inputs overlapped). A polygon too small to keep a face
    falls back to itself snapped to the grid.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    edges = shapely.union_all(shapely.boundary(geoms), grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    owner = np.full(len(faces), -1)
    if len(faces):
        face_idx, geom_idx = shapely.STRtree(geoms).query(shapely.point_on_surface(faces), predicate="within")
        owner[face_idx[::-1]] = geom_idx[::-1]  # the lowest input index wins
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        mine = faces[owner == i]
        out[i] = shapely.coverage_union_all(mine) if len(mine) else shapely.set_precision(geom, grid)
    return out


def simplify(geoms, tolerance: float, grid: float = GRID) -> np.ndarray:
    """Coverage-simplified polygons (valid, non-empty, shared edges kept), coordinates on ``grid``."""
    noded = node_coverage(geoms, grid)
    if not len(noded):
        return noded
    simple = shapely.coverage_simplify(noded, tolerance)
    bad = ~shapely.is_valid(simple) | shapely.is_empty(simple)
    if bad.any():  # never expected from a valid coverage; keep the noded shape rather than draw nothing
        simple[bad] = noded[bad]
    return simple


def simplify_frames(frames: list[gpd.GeoDataFrame], tolerance: float) -> list[gpd.GeoDataFrame]:
    """Simplify several frames as one coverage (so their shared edges stay shared); same rows out."""
    sizes = [len(f) for f in frames]
    simple = simplify(np.concatenate([f.geometry.to_numpy() for f in frames]) if sum(sizes) else [], tolerance)
    out, start = [], 0
    for frame, n in zip(frames, sizes):
        out.append(_frame({c: frame[c].to_numpy() for c in frame.columns if c != "geometry"}, simple[start:start + n]))
        start += n
    return out


def level_boundaries(conn, level: str, within: str | None = None, scope=None) -> gpd.GeoDataFrame:
    """Every region of ``level`` (optionally inside ``within``), simplified as one coverage at that level's zoom."""
    frame = to_frame(point_queries.level_rows(conn, level, within, scope))
    if frame.empty:
        where = f"区划 {within} 下" if within else ""
        raise ShapeError(f"数据库中没有{where}{LEVEL_NAMES.get(level, level)}一级的边界数据。")
    parent = {"county": "city", "township": "county", "village": "township", "grid": "village"}.get(level, level)
    return simplify_frames([frame], TOLERANCE[parent])[0]


def view_shapes(conn, code: str, scope=None) -> ViewShapes:
    """Boundaries around ``code`` for its map, simplified together for the zoom that fits ``code``.

    Raises :class:`ShapeError` (Chinese message) when the region has no usable geometry.
    """
    rows = point_queries.shape_rows(conn, code, scope)
    region = to_frame(rows["region"])
    if region.empty:
        if rows["region"].empty:
            raise ShapeError(f"区划代码 {code} 不存在于当前数据库中。")
        raise ShapeError(f"{rows['region']['name'].iloc[0]}（{code}）没有可用的边界数据，无法绘制地图。")
    level = level_of(code)
    children = to_frame(rows["children"])
    if children.empty:  # a grid, or a region whose children have no geometry: draw the region itself
        children = region
    siblings = to_frame(rows["siblings"])
    tolerance = TOLERANCE[level]
    children, siblings = simplify_frames([children, siblings], tolerance)
    outline = shapely.coverage_union_all(children.geometry.to_numpy())
    if outline.is_empty or not outline.is_valid:
        outline = shapely.make_valid(shapely.union_all(children.geometry.to_numpy()))
    me = region.iloc[0]
    return ViewShapes(code=code, name=str(me["name"]), level=level, children=children, siblings=siblings,
                      outline=outline, tolerance=tolerance)


def max_deviation(before, after) -> float:
    """Largest Hausdorff distance (degrees) between matching original and simplified polygons."""
    return float(np.max(shapely.hausdorff_distance(np.asarray(before, dtype=object),
                                                   np.asarray(after, dtype=object)), initial=0.0))


def _holes(geom) -> list:
    return [shapely.polygons(shapely.get_interior_ring(p, i))
            for p in shapely.get_parts(geom) for i in range(shapely.get_num_interior_rings(p))]


def gap_area(geoms) -> float:
    """Area (deg²) of the gaps between polygons that should tile: holes of their union, except an input's own hole
    that no other input reaches into (an enclave of a region not drawn is no gap)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return 0.0
    union = shapely.union_all(geoms)
    holes = sum(shapely.area(h) for h in _holes(union))
    own = 0.0
    for i, g in enumerate(geoms):
        others = np.delete(geoms, i)
        for h in _holes(g):
            if not (shapely.intersects(h, others) & ~shapely.touches(h, others)).any():
                own += shapely.area(h)
    return float(max(0.0, holes - own))
