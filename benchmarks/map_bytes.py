"""Map JSON bytes and server time per view of 地图钻取, at every level, on the default sample city.

    python -m benchmarks.map_bytes                                   # builds the default sample in a temp SQLite
    python -m benchmarks.map_bytes --database-url sqlite:////tmp/default.db   # builds it there once, then reuses it

What is measured for each view (several regions per level, no Streamlit cache, so every number is a cold view):
- ``shapes``: boundary rows from the database, re-noded and coverage-simplified (geo.boundaries.view_shapes);
- ``indicators``: the children's indicators and warning levels (queries.indicator_table + evaluate);
- ``points``: the view's case points (village and grid views only; data_access.points.case_points);
- ``deck``: colours, Chinese tooltips, layers and the JSON that st.pydeck_chart sends (geo.layers.build_deck);
- ``bytes``: the length of that JSON (UTF-8), the number of polygons and vertices drawn.
Two reference rows: a village view carrying the most points the map draws (POINT_CAP synthetic points: the
worst case of the bytes), and a whole county's grids in one map (the UI never draws that).
Prints a Markdown table for benchmarks/RESULTS.md (section "Map JSON per view").
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # ui.widgets imports Streamlit (no runtime here)

import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from sqlalchemy import text  # noqa: E402

from analytics.warnings import load_rules  # noqa: E402
from data_access import points as point_queries  # noqa: E402
from data_access import queries  # noqa: E402
from data_access.engine import get_engine
from data_access.judged import warning_table  # noqa: E402
from data_access.view import View  # noqa: E402
from geo import boundaries, colors, layers  # noqa: E402
from benchmarks.run import LEVEL_SQL  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_END = dt.date(2026, 11, 20)


def ensure_sample(url: str | None):
    """An engine on the default sample city: the given database (built there if empty) or a temp SQLite."""
    from sample_data.build import DEFAULTS, build, is_built
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='map-bytes-')) / 'default.db'}"
    engine = get_engine(url)
    if not is_built(engine):
        print(f"building the default sample city into {url} …", flush=True)
        result = build(engine, **DEFAULTS, end=DEFAULT_END)
        print(f"built: {result.regions} regions, {result.grids} grids, {result.cases:,} cases in {result.seconds:.0f} s")
    return engine


def tips_for(kids: pd.DataFrame, shapes, mode: str) -> tuple[list[str], list[str]]:
    """Colours and tooltips exactly as the page makes them (ui.widgets), so the bytes are the real ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ui.widgets import _tip  # pure formatting; importing Streamlit outside a run is harmless
        from ui.strings import t
    rows = kids.set_index("code")
    tips = []
    for code, name in zip(shapes.children["code"], shapes.children["name"]):
        row = rows.loc[code].copy() if code in rows.index else pd.Series({"name": name})
        row["name"] = name
        tips.append(_tip(row, mode, t("map_tip_drill")))
    return tips, [t("map_sibling_tip", name=n) for n in shapes.siblings["name"]]


def one_view(conn, code: str, period: tuple[dt.date, dt.date], at: dt.datetime, rules, mode: str) -> dict:
    view = View(code, *period)
    t0 = time.perf_counter()
    shapes = boundaries.view_shapes(conn, code)
    t1 = time.perf_counter()
    table = warning_table(conn, view, at, rules)
    kids = table[~table["is_total"]].reset_index(drop=True)
    t2 = time.perf_counter()
    pts = point_queries.case_points(conn, view, at) if view.level in ("village", "grid") else None
    t3 = time.perf_counter()
    scale = colors.color_by(kids, mode, rules)
    color_of = dict(zip(kids["code"], scale.colors))
    fills = [color_of.get(c, colors.NAN_COLOR) for c in shapes.children["code"]]
    tips, sib_tips = tips_for(kids, shapes, mode)
    deck = layers.build_deck(shapes, fills, tips, width=layers.MAP_PX, height=layers.MAP_PX, sibling_tips=sib_tips,
                             points=None if pts is None else pts.frame)
    spec = deck.to_json()
    t4 = time.perf_counter()
    drawn = [*shapes.children.geometry, *shapes.siblings.geometry]
    return {"bytes": len(spec.encode("utf-8")), "polygons": len(drawn),
            "vertices": int(shapely.get_num_coordinates(drawn).sum()) if drawn else 0,
            "points": 0 if pts is None else len(pts.frame),
            "shapes": (t1 - t0) * 1000, "indicators": (t2 - t1) * 1000, "points_ms": (t3 - t2) * 1000,
            "deck": (t4 - t3) * 1000, "total": (t4 - t0) * 1000}


def county_grids(conn) -> dict:
    code = conn.execute(text("SELECT code FROM regions WHERE level = 'county' ORDER BY code LIMIT 1")).scalar()
    t0 = time.perf_counter()
    frame = boundaries.level_boundaries(conn, "grid", within=code)
    t1 = time.perf_counter()
    fake = boundaries.ViewShapes(code, code, "county", frame, frame.iloc[:0], shapely.union_all(frame.geometry.to_numpy()),
                                 boundaries.TOLERANCE["county"])
    deck = layers.build_deck(fake, ["#2e7d32"] * len(frame), ["<b>网格</b>"] * len(frame), width=layers.MAP_PX,
                             height=layers.MAP_PX)
    spec = deck.to_json()
    t2 = time.perf_counter()
    return {"bytes": len(spec.encode("utf-8")), "polygons": len(frame),
            "vertices": int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum()), "points": 0,
            "shapes": (t1 - t0) * 1000, "indicators": 0.0, "points_ms": 0.0, "deck": (t2 - t1) * 1000,
            "total": (t2 - t0) * 1000}


def at_the_cap(conn, code: str, period, at, rules) -> dict:
    """A village view with the most points the map draws (synthetic points inside the village): the worst case."""
    import numpy as np
    shapes = boundaries.view_shapes(conn, code)
    table = warning_table(conn, View(code, *period), at, rules)
    kids = table[~table["is_total"]].reset_index(drop=True)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = shapes.bounds
    n = point_queries.POINT_CAP
    fake = pd.DataFrame({"lon": rng.uniform(x0, x1, n), "lat": rng.uniform(y0, y1, n), "state": rng.integers(0, 3, n)})
    t0 = time.perf_counter()
    scale = colors.color_by(kids, colors.WARNING, rules)
    tips, sib_tips = tips_for(kids, shapes, colors.WARNING)
    deck = layers.build_deck(shapes, scale.colors[:len(shapes.children)] or [colors.NAN_COLOR], tips,
                             width=layers.MAP_PX, height=layers.MAP_PX, sibling_tips=sib_tips, points=fake)
    spec = deck.to_json()
    t1 = time.perf_counter()
    drawn = [*shapes.children.geometry, *shapes.siblings.geometry]
    return {"bytes": len(spec.encode("utf-8")), "polygons": len(drawn),
            "vertices": int(shapely.get_num_coordinates(drawn).sum()), "points": n, "shapes": float("nan"),
            "indicators": float("nan"), "points_ms": float("nan"), "deck": (t1 - t0) * 1000, "total": (t1 - t0) * 1000}


def run(engine, per_level: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    rules = load_rules(ROOT / "config" / "warning_rules.toml")
    end = DEFAULT_END
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'end'")).scalar()
        end = dt.date.fromisoformat(value) if value else end
        period = (dt.date(end.year, 1, 1), end)
        at = dt.datetime.combine(end, dt.time(12))
        rows, samples = [], {}
        for level, sql in LEVEL_SQL.items():
            codes = [r[0] for r in conn.execute(text(sql))]
            sample = samples[level] = rnd.sample(codes, min(per_level, len(codes)))
            for mode in (colors.WARNING, "closure_rate"):
                one_view(conn, sample[0], period, at, rules, mode)  # warm-up (imports, SQLite page cache)
            results = [one_view(conn, code, period, at, rules, colors.WARNING) for code in sample]
            rows.append(summarise(level, results))
        rows.append(summarise(f"village at the {point_queries.POINT_CAP:,}-point cap (synthetic points; deck only)",
                              [at_the_cap(conn, samples["village"][0], period, at, rules)]))
        rows.append(summarise("whole county's grids (reference, not offered)", [county_grids(conn)]))
    return rows


def summarise(level: str, results: list[dict]) -> dict:
    def med(key):
        return statistics.median(r[key] for r in results)
    return {"level": level, "n": len(results), "bytes_p50": med("bytes"), "bytes_max": max(r["bytes"] for r in results),
            "polygons": med("polygons"), "vertices": med("vertices"), "points": max(r["points"] for r in results),
            "shapes": med("shapes"), "indicators": med("indicators"), "points_ms": med("points_ms"),
            "deck": med("deck"), "total": med("total"), "total_max": max(r["total"] for r in results)}


def _ms(v: float) -> str:
    return "—" if v != v else f"{v:.1f}"


def table(rows: list[dict]) -> str:
    out = ["| view level | views | map JSON p50 | map JSON max | polygons | vertices | points (max) | shapes ms | "
           "indicators ms | points ms | deck+JSON ms | total ms p50 | total ms max |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['level']} | {r['n']} | {r['bytes_p50'] / 1024:,.1f} KB | {r['bytes_max'] / 1024:,.1f} KB | "
                   f"{r['polygons']:.0f} | {r['vertices']:,.0f} | {r['points']:,} | {_ms(r['shapes'])} | "
                   f"{_ms(r['indicators'])} | {_ms(r['points_ms'])} | {_ms(r['deck'])} | {_ms(r['total'])} | "
                   f"{_ms(r['total_max'])} |")
    return "\n".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="database with (or to build) the default sample; default: a temp SQLite")
    ap.add_argument("--per-level", type=int, default=8, help="regions sampled per level (default 8)")
    args = ap.parse_args(argv)
    engine = ensure_sample(args.database_url)
    rows = run(engine, args.per_level)
    print(f"\n{engine.dialect.name}, Python {platform.python_version()}, {platform.machine()}, "
          f"period = year to date of the sample's end, coloured by warning level\n")
    print(table(rows))


if __name__ == "__main__":
    main()
