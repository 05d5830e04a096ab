"""geo/ without Streamlit: coverage simplification (valid, no gaps, close to the original at the view's zoom),
the view state that fits a region, colour scales and their edge cases, the pydeck spec (offline, compact, every
layer with an id), and the case points query (data_access.points) on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box

from analytics.warnings import DEFAULT_RULES, Level, Rules, evaluate, load_rules
from data_access import points, queries
from data_access.view import View
from geo import boundaries, colors, layers
from geo.boundaries import ShapeError, gap_area, max_deviation, node_coverage, simplify, to_frame, view_shapes

from .conftest import AS_OF, ROOT

CITY, COUNTY = "331100000000", "331102000000"
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 10, 31))


def deg_per_px(bounds, px=layers.MAP_PX) -> float:
    """Degrees of longitude per pixel at the zoom that fits ``bounds`` into the map."""
    return 360.0 / (layers.TILE * 2 ** layers.fit_view(bounds, px, px)["zoom"])


@pytest.fixture(scope="module")
def codes(small_sqlite):
    with small_sqlite.connect() as conn:
        town = queries.children(conn, COUNTY)["code"].iloc[0]
        village = queries.children(conn, town)["code"].iloc[0]
        grid = queries.children(conn, village)["code"].iloc[0]
    return {"city": CITY, "county": COUNTY, "township": town, "village": village, "grid": grid}


LEVELS = ["city", "county", "township", "village", "grid"]


# --- simplification on the sample city -------------------------------------------------------------------

@pytest.mark.parametrize("level", LEVELS)
def test_view_shapes_are_valid_non_empty_and_rounded(small_sqlite, codes, level):
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, codes[level])
        kids = queries.children(conn, codes[level])
    assert shapes.level == level
    drawn = np.concatenate([shapes.children.geometry.to_numpy(), shapes.siblings.geometry.to_numpy()])
    assert len(drawn) and shapely.is_valid(drawn).all() and not shapely.is_empty(drawn).any()
    assert set(shapely.get_type_id(drawn)) <= {3, 6}  # polygons only
    expected = kids["code"].tolist() if level != "grid" else [codes["grid"]]
    assert shapes.children["code"].tolist() == expected  # one shape per child, none lost
    xy = shapely.get_coordinates(drawn)
    assert np.allclose(xy, np.round(xy, 5), atol=1e-9)  # on the 5-decimal grid
    assert shapes.outline.is_valid and not shapes.outline.is_empty
    assert level == "city" or len(shapes.siblings) > 0  # neighbours stay visible for orientation


@pytest.mark.parametrize("level", LEVELS[:-1])
def test_children_tile_the_region_without_visible_gaps(small_sqlite, codes, level):
    """Union of the simplified children ≈ the region; the holes between neighbours (children and siblings)
    add up to less than one pixel at the zoom that shows this region."""
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, codes[level])
        region = to_frame(points.shape_rows(conn, codes[level])["region"]).geometry.iloc[0]
    px = deg_per_px(shapes.bounds)
    kids = shapes.children.geometry.to_numpy()
    union = shapely.union_all(kids)
    assert abs(union.area - region.area) / region.area < 0.01
    assert union.symmetric_difference(region).area < 0.01 * region.area
    assert gap_area(kids) < px ** 2
    assert gap_area(np.concatenate([kids, shapes.siblings.geometry.to_numpy()])) < px ** 2
    # neighbours do not overlap either
    overlap = sum(a.intersection(b).area for i, a in enumerate(kids) for b in kids[i + 1:])
    assert overlap < px ** 2


@pytest.mark.parametrize("level", LEVELS)
def test_simplified_shapes_stay_within_two_pixels_of_the_original(small_sqlite, codes, level):
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, codes[level])
        rows = points.shape_rows(conn, codes[level])
    original = to_frame(rows["children"] if level != "grid" else rows["region"]).geometry.to_numpy()
    assert max_deviation(original, shapes.children.geometry.to_numpy()) < 2 * deg_per_px(shapes.bounds)


def test_whole_level_boundaries(small_sqlite):
    with small_sqlite.connect() as conn:
        grids = boundaries.level_boundaries(conn, "grid", within=COUNTY)
        counties = boundaries.level_boundaries(conn, "county")
    assert len(counties) == 9 and grids["code"].str.startswith("331102").all()
    for frame in (grids, counties):
        assert shapely.is_valid(frame.geometry.to_numpy()).all()
        assert shapely.coverage_is_valid(frame.geometry.to_numpy())


def test_unknown_region_and_missing_geometry_give_chinese_messages(small_sqlite):
    with small_sqlite.connect() as conn:
        with pytest.raises(ShapeError, match="不存在"):
            view_shapes(conn, "339999000000")
    rows = pd.DataFrame([{"code": "1", "name": "甲", "level": "county", "parent_code": "0", "geometry": None,
                          "label_lon": None, "label_lat": None},
                         {"code": "2", "name": "乙", "level": "county", "parent_code": "0", "geometry": b"junk",
                          "label_lon": None, "label_lat": None}])
    assert to_frame(rows).empty  # unusable geometry is dropped, never a traceback


# --- coverage simplification on synthetic shapes -----------------------------------------------------------

def _wiggly_pair(extra_vertex: bool):
    """Two polygons sharing a zig-zag edge; with ``extra_vertex`` the right one has a vertex the left one lacks,
    a hair off the shared segment (as clipping leaves it in floating point)."""
    edge = [(1.0 + 0.03 * math.sin(i * 1.3) + 0.015 * math.sin(i * 0.37), i / 50) for i in range(51)]
    left = Polygon([(0, 0), *edge, (0, 1)])
    right_edge = list(reversed(edge))
    if extra_vertex:
        a, b = right_edge[10], right_edge[11]
        right_edge.insert(11, ((a[0] + b[0]) / 2 - 1e-7, (a[1] + b[1]) / 2))  # into the left one
    right = Polygon([(2, 1), *right_edge, (2, 0)])
    return np.array([left, right], dtype=object)


def test_node_coverage_repairs_t_junctions():
    pair = _wiggly_pair(extra_vertex=True)
    assert not shapely.coverage_is_valid(pair)
    noded = node_coverage(pair)
    assert shapely.coverage_is_valid(noded)
    assert abs(sum(shapely.area(noded)) - sum(shapely.area(pair))) < 1e-6


def test_coverage_simplify_keeps_shared_edges_where_one_by_one_would_open_gaps():
    pair = _wiggly_pair(extra_vertex=True)
    tolerance = 0.02
    alone = shapely.simplify(pair, tolerance)  # each polygon on its own: the shared edge differs per side
    together = simplify(pair, tolerance)
    assert shapely.get_num_coordinates(together).sum() < shapely.get_num_coordinates(pair).sum()
    assert shapely.union_all(alone).area < 2.0 - 1e-3 and shapely.intersection(*alone).area > 1e-4
    assert shapely.union_all(together).area == pytest.approx(2.0, abs=1e-9)  # no gap
    assert shapely.intersection(*together).area < 1e-12  # no overlap


def test_simplify_handles_empty_input_and_tiny_polygons():
    assert len(simplify([], 0.01)) == 0
    tiny = np.array([box(0, 0, 1, 1), box(1, 0, 1.00003, 0.00003)], dtype=object)
    out = simplify(tiny, 0.01)
    assert shapely.is_valid(out).all() and not shapely.is_empty(out).any()


# --- view state ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bounds", [(118.69595, 27.4247, 120.4331, 28.95294), (119.85, 28.38, 119.868, 28.3924),
                                    (100.0, 40.0, 100.001, 40.5)])
@pytest.mark.parametrize("size", [(560, 560), (900, 420), (400, 700)])
def test_view_state_contains_the_bounds(bounds, size):
    w, h = size
    view = layers.fit_view(bounds, w, h)
    x0, y0, x1, y1 = bounds
    corners = [layers.to_pixel(x, y, view, w, h) for x in (x0, x1) for y in (y0, y1)]
    for x, y in corners:
        assert 0 <= x <= w and 0 <= y <= h
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    # and it is as close as it can be: one side fills the map up to the padding
    assert max((max(xs) - min(xs)) / w, (max(ys) - min(ys)) / h) > 0.85
    cx, cy = layers.to_pixel((x0 + x1) / 2, view["latitude"], view, w, h)
    assert cx == pytest.approx(w / 2) and cy == pytest.approx(h / 2)


def test_view_state_of_a_real_region_contains_its_label_points(small_sqlite):
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, CITY)
    view = layers.fit_view(shapes.bounds, layers.MAP_PX, layers.MAP_PX)
    for lon, lat in zip(shapes.children["label_lon"], shapes.children["label_lat"]):
        x, y = layers.to_pixel(lon, lat, view, layers.MAP_PX, layers.MAP_PX)
        assert 0 < x < layers.MAP_PX and 0 < y < layers.MAP_PX


# --- colours ---------------------------------------------------------------------------------------------------

def test_indicator_scale_all_nan_is_grey_with_only_a_no_data_row():
    s = colors.indicator_scale([np.nan, None, np.nan], "closure_rate")
    assert s.colors == [colors.NAN_COLOR] * 3
    assert len(s.legend) == 1 and s.legend[0].lo is None and s.legend[0].count == 3


@pytest.mark.parametrize("values", [[0.97, 0.97, 0.97], [0.97], [5, 5]])
def test_indicator_scale_equal_or_single_values_make_one_class(values):
    s = colors.indicator_scale(values, "closure_rate")
    assert len(set(s.colors)) == 1 and s.colors[0] == colors.SEQUENTIAL[len(colors.SEQUENTIAL) // 2]
    assert len(s.legend) == 1 and s.legend[0].lo == s.legend[0].hi == values[0]


def test_indicator_scale_direction_follows_higher_is_better():
    values = [0.80, 0.90, 1.00, np.nan]
    good_high = colors.indicator_scale(values, "closure_rate")  # higher is better: 100% lightest
    good_low = colors.indicator_scale(values, "overdue")        # lower is better: the smallest lightest
    light, dark = colors.SEQUENTIAL[0], colors.SEQUENTIAL[-1]
    assert good_high.colors[:3] == [dark, colors.SEQUENTIAL[2], light]
    assert good_low.colors[:3] == [light, colors.SEQUENTIAL[2], dark]
    assert good_high.colors[3] == good_low.colors[3] == colors.NAN_COLOR
    # legend: best first, ranges cover min..max, counts add up
    assert good_high.legend[0].color == light and good_high.legend[0].hi == pytest.approx(1.0)
    assert good_low.legend[0].color == light and good_low.legend[0].lo == pytest.approx(0.8)
    assert sum(e.count for e in good_high.legend) == 4
    assert good_high.legend[-1].lo is None  # the no-data row last


def test_indicator_scale_boundaries_and_unknown_indicator():
    s = colors.indicator_scale([0, 1, 2, 3, 4, 5], "received")  # lower is better
    assert s.colors[0] == colors.SEQUENTIAL[0] and s.colors[-1] == colors.SEQUENTIAL[-1]
    assert colors.indicator_scale([1, 2], "not_an_indicator").colors  # no KeyError


def test_warning_colours_come_from_the_rules_including_no_data():
    s = colors.warning_scale([0, 1, 2, -1, np.nan], DEFAULT_RULES)
    want = [lv.color for lv in DEFAULT_RULES.levels] + [DEFAULT_RULES.no_data.color] * 2
    assert s.colors == want
    assert [e.name for e in s.legend] == ["绿", "黄", "红", "数据不足"]
    assert s.legend[-1].color == "#9e9e9e" and s.legend[-1].count == 2
    five = Rules(levels=tuple(Level(f"l{i}", f"级{i}", f"#00000{i}") for i in range(5)),
                 indicators=DEFAULT_RULES.indicators[:1], no_data=Level("no_data", "无", "#abcdef"))
    s5 = colors.warning_scale([4, -1], five)
    assert s5.colors == ["#000004", "#abcdef"] and len(s5.legend) == 6


def test_color_by_uses_evaluated_overall_levels():
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    table = pd.DataFrame({"code": ["a", "b"], "name": ["甲", "乙"], "received": [100, 0],
                          "closure_rate": [0.99, float("nan")], "overdue": [0, 0]})
    ev = evaluate(table, rules)
    s = colors.color_by(ev, colors.WARNING, rules)
    assert s.colors == list(ev["overall_color"])
    assert s.colors[0] == rules.levels[0].color
    assert s.colors[1] == rules.no_data.color  # no cases: 数据不足, never red


def test_rgba():
    assert colors.rgba("#c62828") == [198, 40, 40, 255] and colors.rgba("#000000", 10)[3] == 10


# --- the pydeck spec -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def village_points(small_sqlite, codes):
    with small_sqlite.connect() as conn:
        return points.case_points(conn, View(codes["village"], dt.date(2025, 11, 1), dt.date(2026, 10, 31)), AS_OF)


@pytest.mark.parametrize("heat", [False, True])
def test_deck_is_offline_compact_and_every_layer_has_an_id(small_sqlite, codes, village_points, heat):
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, codes["village"])
    n = len(shapes.children)
    deck = layers.build_deck(shapes, ["#2e7d32"] * n, ["<b>x</b>"] * n, width=560, height=560,
                             points=village_points.frame, heat=heat)
    spec = json.loads(deck.to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    assert all(ids) and len(ids) == len(set(ids)) and set(ids) <= set(layers.LAYER_IDS)
    assert ("heat" in ids) == heat
    raw = deck.to_json()
    assert "\n" not in raw and "http" not in raw
    assert spec.get("mapStyle") in (None, "__MAP_STYLE__") and "mapProvider" not in spec  # no basemap
    texts = [layer for layer in spec["layers"] if layer["@@type"] == "TextLayer"]
    for layer in texts:
        assert layer["fontFamily"].startswith('"Noto Sans CJK SC"')
        for row in layer["data"]:
            assert set(row["t"]) <= set(layer["characterSet"])
        assert layer["sizeUnits"] == "pixels"
    assert spec["initialViewState"]["zoom"] > 12  # a village fills the map
    pickable = {layer["id"] for layer in spec["layers"] if layer.get("pickable")}
    assert pickable == {"children", "siblings"}


def test_deck_json_is_much_smaller_than_pydecks_default(small_sqlite):
    with small_sqlite.connect() as conn:
        shapes = view_shapes(conn, COUNTY)
    n = len(shapes.children)
    deck = layers.build_deck(shapes, ["#2e7d32"] * n, ["x"] * n, width=560, height=560)
    compact = len(deck.to_json().encode())
    indented = len(super(layers.CompactDeck, deck).to_json().encode())
    assert compact * 3 < indented and compact < 1_000_000


def test_picked_code_reads_streamlit_selections():
    feature = {"type": "Feature", "properties": {"code": COUNTY, "name": "莲都区"}}
    assert layers.picked_code({"selection": {"objects": {"children": [feature]}}}) == COUNTY
    assert layers.picked_code({"selection": {"objects": {"siblings": [{"properties": {"code": "x"}}]}}}) == "x"
    assert layers.picked_code({"selection": {"objects": {"points_open": [[1, 2]]}}}) is None
    assert layers.picked_code({"selection": {"indices": {}, "objects": {}}}) is None
    assert layers.picked_code(None) is None


# --- case points (SQLite and PostgreSQL) ------------------------------------------------------------------------

def test_case_points_match_the_indicator_measures(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        town = queries.children(conn, COUNTY)["code"].iloc[0]
        view = View(town, *YEAR)
        pts = points.case_points(conn, view, AS_OF)
        me = queries.indicator_table(conn, view, AS_OF).iloc[0]
        capped = points.case_points(conn, view, AS_OF, cap=10)
        filtered = points.case_points(conn, View(town, *YEAR, categories=("安全隐患",)), AS_OF)
        want_filtered = queries.indicator_table(conn, View(town, *YEAR, categories=("安全隐患",)), AS_OF).iloc[0]
    assert not pts.capped and pts.total == len(pts.frame) == int(me["received"])
    states = pts.frame["state"].value_counts()
    assert int(states.get(points.OVERDUE, 0)) == int(me["overdue"])
    assert int(states.get(points.OPEN, 0)) + int(states.get(points.OVERDUE, 0)) == int(me["open"])
    assert capped.capped and len(capped.frame) == 10 and capped.total == int(me["received"])
    assert len(filtered.frame) == int(want_filtered["received"])
    assert pts.frame["lon"].between(118, 121).all() and pts.frame["lat"].between(27, 29.5).all()


def test_shape_rows_on_both_databases(small_db, codes):
    engine, _ = small_db
    with engine.connect() as conn:
        rows = points.shape_rows(conn, codes["village"])
        grid_rows = points.shape_rows(conn, codes["grid"])
        city_rows = points.shape_rows(conn, CITY)
    assert len(rows["region"]) == 1 and len(rows["children"]) >= 1
    assert rows["siblings"]["parent_code"].eq(codes["township"]).all()
    assert grid_rows["children"].empty and grid_rows["region"]["level"].iloc[0] == "grid"
    assert city_rows["siblings"].empty and len(city_rows["children"]) == 9
    assert grid_rows["siblings"]["level"].isin(["grid", "village"]).all() and len(grid_rows["siblings"]) > 0
    assert isinstance(bytes(rows["region"]["geometry"].iloc[0]), bytes)


def test_gap_area_counts_slivers_but_not_own_holes():
    ring = box(0, 0, 3, 3).difference(box(1, 1, 2, 2))  # a region with a hole (an enclave not drawn)
    assert gap_area([ring]) == pytest.approx(0.0)
    assert gap_area([ring, box(1, 1, 2, 2)]) == pytest.approx(0.0)  # the enclave drawn: still no gap
    left, right = box(0, 0, 1, 3), box(1.001, 0, 2, 3)
    frame = box(-1, -1, 3, 4).difference(box(0, 0, 2, 3))
    assert gap_area([left, right, frame]) == pytest.approx(0.001 * 3)  # a sliver enclosed by neighbours


def test_pydeck_asks_for_its_jupyter_widget_once():
    """pydeck re-tried a failing import five times per Deck; geo.layers makes it remember the answer. If pydeck
    renames the function, this fails instead of the patch silently doing nothing."""
    from pydeck.bindings import deck

    import geo.layers  # noqa: F401 - applies the patch
    assert hasattr(deck.has_jupyter_extra, "cache_info")
    deck.Deck(layers=[], map_provider=None)
    deck.Deck(layers=[], map_provider=None)
    assert deck.has_jupyter_extra.cache_info().misses <= 1
