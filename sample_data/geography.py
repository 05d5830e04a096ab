"""Townships, villages and grids generated inside real county boundaries.

Each level is a Voronoi partition of its parent, clipped to it, so children tile the parent
exactly (no gaps, no overlaps) and every child lies inside its parent. Seeds are drawn from a
population surface that peaks at the county seat, so urban streets (街道) are small and dense
and mountain townships (乡) large, as on a real map. Codes follow the 12-digit scheme:
街道 001–099, 镇 100–199, 乡 200–399 within a county; 社区 001–199, 村 200–399 within a township;
a grid is its village's code plus 3 digits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from .counties import City
from .names import mobile_numbers, person_names, place_stems


@dataclass
class Unit:
    code: str
    name: str
    level: str
    parent_code: str
    geometry: BaseGeometry
    population: int = 0
    urban: bool = False
    extra: dict = field(default_factory=dict)


def _polygons_only(g: BaseGeometry) -> BaseGeometry:
    """Keep the polygonal part of a clip result (intersections can add stray lines or points)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def sample_points(rng: np.random.Generator, geom: BaseGeometry, n: int, centre: Point | None = None,
                  spread: float = 0.0) -> np.ndarray:
    """``n`` random points inside ``geom``; with ``centre``, denser near it (exp(-d/spread) + floor)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    out = np.empty((0, 2))
    for _ in range(200):
        m = max(4 * n, 64)
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        keep = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
        if centre is not None and spread > 0:
            d = np.hypot(xy[:, 0] - centre.x, xy[:, 1] - centre.y)
            keep &= rng.random(m) < (0.15 + 0.85 * np.exp(-d / spread))
        out = np.vstack([out, xy[keep]])
        if len(out) >= n:
            return out[:n]
    # A sliver too thin to hit: fall back to points on its interior.
    p = geom.representative_point()
    return np.vstack([out, np.repeat([[p.x, p.y]], n - len(out), axis=0)])


def partition(rng: np.random.Generator, parent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, in seed order."""
    if len(seeds) == 1:
        return [parent]
    # Jitter duplicate seeds apart; Voronoi needs distinct points.
    seeds = seeds + rng.normal(0, 1e-7, seeds.shape)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=parent.envelope.buffer(0.1), ordered=True)
    out = []
    for cell in cells.geoms:
        clipped = _polygons_only(shapely.make_valid(cell.intersection(parent)))
        out.append(clipped)
    return out


def _spread(geom: BaseGeometry) -> float:
    minx, miny, maxx, maxy = geom.bounds
    return 0.18 * max(maxx - minx, maxy - miny)


def build_hierarchy(city: City, rng: np.random.Generator, townships_per_county: float = 19.0,
                    villages_per_township: float = 15.5) -> dict[str, list[Unit]]:
    """All generated units by level: county, township, village, grid (city not included)."""
    mean_area = np.mean([c.geometry.area for c in city.counties])
    out: dict[str, list[Unit]] = {"county": [], "township": [], "village": [], "grid": []}
    taken: set[str] = set()
    for county in city.counties:
        is_district = county.name.endswith("区")
        seat = county.geometry.representative_point()
        area_factor = float(np.clip(np.sqrt(county.geometry.area / mean_area), 0.6, 1.5))
        n_town = max(3, int(round(townships_per_county * area_factor * rng.uniform(0.85, 1.15))))
        seeds = sample_points(rng, county.geometry, n_town, seat, _spread(county.geometry))
        dist = np.hypot(seeds[:, 0] - seat.x, seeds[:, 1] - seat.y)
        order = np.argsort(dist)  # nearest the seat first: those become 街道
        seeds = seeds[order]
        n_street = max(1, int(n_town * (0.45 if is_district else 0.2)))
        n_town_zhen = int((n_town - n_street) * 0.6)
        cells = partition(rng, county.geometry, seeds)
        stems = place_stems(rng, n_town, taken)
        county_unit = Unit(county.code, county.name, "county", city.code, county.geometry, urban=is_district)
        out["county"].append(county_unit)
        for i, (cell, stem) in enumerate(zip(cells, stems)):
            if cell.is_empty:
                continue
            if i < n_street:
                kind, num, urban = "街道", 1 + i, True
            elif i < n_street + n_town_zhen:
                kind, num, urban = "镇", 101 + (i - n_street), False
            else:
                kind, num, urban = "乡", 201 + (i - n_street - n_town_zhen), False
            code = county.code[:6] + f"{num:03d}" + "000"
            town = Unit(code, stem + kind, "township", county.code, cell, urban=urban)
            out["township"].append(town)
            _villages(rng, town, villages_per_township, out, taken)
        county_unit.population = sum(t.population for t in out["township"] if t.parent_code == county.code)
    return out


def _villages(rng, town: Unit, per_township: float, out: dict[str, list[Unit]], taken: set[str]) -> None:
    n = max(2, int(rng.poisson(per_township * (1.2 if town.urban else 1.0))))
    seeds = sample_points(rng, town.geometry, n, town.geometry.representative_point(), _spread(town.geometry))
    cells = partition(rng, town.geometry, seeds)
    stems = place_stems(rng, n, taken)
    share_community = 0.8 if town.urban else 0.05
    n_comm = int(round(n * share_community))
    for j, (cell, stem) in enumerate(zip(cells, stems)):
        if cell.is_empty:
            continue
        community = j < n_comm
        num = 1 + j if community else 200 + (j - n_comm) + 1
        code = town.code[:9] + f"{num:03d}"
        pop = int(rng.lognormal(np.log(2600), 0.35)) if community else int(rng.lognormal(np.log(480), 0.5))
        village = Unit(code, stem + ("社区" if community else "村"), "village", town.code, cell, pop, community)
        out["village"].append(village)
        town.population += pop
        _grids(rng, village, out)


def _grids(rng, village: Unit, out: dict[str, list[Unit]]) -> None:
    n = int(rng.integers(1, 4)) if village.urban else (2 if rng.random() < 0.1 else 1)
    seeds = sample_points(rng, village.geometry, n)
    cells = partition(rng, village.geometry, seeds)
    workers = person_names(rng, n)
    phones = mobile_numbers(rng, n)
    for k, cell in enumerate(cells):
        if cell.is_empty:
            continue
        code = village.code + f"{k + 1:03d}"
        out["grid"].append(Unit(
            code, f"{village.name}第{k + 1}网格", "grid", village.code, cell, village.population // n,
            village.urban, {"worker_name": str(workers[k]), "worker_phone": str(phones[k])},
        ))
