"""Import throughput and peak memory: 1,000,000 case rows (CSV) and 4,000 grid boundaries.

    python -m benchmarks.import_bench --database-url sqlite:////tmp/imp.db [--rows 1000000] [--grids 4000]
    python -m benchmarks.import_bench --database-url "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dimpbench"

The database gets the small sample city (丽水市, 20,000 cases) first. The CSV (every column of a platform
export, a GB18030-free UTF-8 file) is written by this process; each import runs in a fresh child process
(``python -m data_access import``), so its RSS high-water mark (getrusage RUSAGE_CHILDREN) is the import's
own. Runs: a first import of the file (every row inserted), then the same file again (every row unchanged).
The boundary run writes 4,000 grids (village cells split in a grid of squares) as GeoJSON and imports them
with ``python -m data_access boundaries --level grid``. Prints a Markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def write_csv(path: Path, rows: int, grids: list[str], seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    cats = np.array(["矛盾纠纷", "信访诉求", "安全隐患", "治安", "劳动欠薪", "环境卫生", "食品安全", "民生服务"])
    chunk = 100_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        rep = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600 * 86400, n), unit="s")
        closed = rep + pd.to_timedelta(rng.integers(3600, 10 * 86400, n), unit="s")
        is_closed = rng.random(n) < 0.9
        df = pd.DataFrame({
            "事件编号": [f"BENCH-{i:08d}" for i in range(start, start + n)],
            "事件类别": cats[rng.integers(0, len(cats), n)], "事件来源": "12345热线",
            "网格编码": np.array(grids)[rng.integers(0, len(grids), n)],
            "上报时间": rep.strftime("%Y-%m-%d %H:%M:%S"),
            "办结时间": np.where(is_closed, closed.strftime("%Y-%m-%d %H:%M:%S"), ""),
            "办理时限": (rep + pd.Timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S"),
            "状态": np.where(is_closed, "已办结", "处置中"), "化解层级": np.where(is_closed, "村", ""),
            "满意度": np.where(is_closed, "满意", ""), "承办单位": "某某街道综治中心",
            "事件描述": "群众反映楼道堆放杂物，存在消防隐患", "群众姓名": "张三", "联系电话": "13812341234",
        })
        df.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False, encoding="utf-8")


def run(cmd: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if out.returncode:
        raise SystemExit(out.stderr)
    return secs, max(peak, before) / 1024, out.stdout.strip().splitlines()[0]


def grid_file(path: Path, engine, count: int) -> int:
    """``count`` grid squares inside existing villages (each village split into k×k squares)."""
    import geopandas as gpd
    import shapely
    from sqlalchemy import text
    with engine.connect() as conn:
        villages = conn.execute(text("SELECT code, geometry FROM regions WHERE level = 'village' ORDER BY code")).all()
    k = 2
    rows = []
    for code, wkb in villages:
        geom = shapely.from_wkb(bytes(wkb))
        x0, y0, x1, y1 = geom.bounds
        n = 0
        for i in range(k):
            for j in range(k):
                cell = shapely.box(x0 + (x1 - x0) * i / k, y0 + (y1 - y0) * j / k,
                                   x0 + (x1 - x0) * (i + 1) / k, y0 + (y1 - y0) * (j + 1) / k).intersection(geom)
                if cell.area > 0 and cell.geom_type in ("Polygon", "MultiPolygon"):
                    n += 1
                    rows.append((f"{code}{n:03d}", f"第{n}网格", code, cell))
        if len(rows) >= count:
            break
    rows = rows[:count]
    gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[1] for r in rows], "parent": [r[2] for r in rows]},
                     geometry=[r[3] for r in rows], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return len(rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--grids", type=int, default=4000)
    p.add_argument("--keep", default=None, help="reuse/keep the CSV here")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text
    from data_access.engine import get_engine
    from sample_data.build import build
    engine = get_engine(args.database_url)
    build(engine, city="丽水市", years=1, cases=20_000, seed=3, end=dt.date(2026, 10, 31))
    with engine.connect() as conn:
        grids = list(conn.execute(text("SELECT code FROM grids")).scalars())
    csv = Path(args.keep or tempfile.mkdtemp(prefix="import-bench-")) / f"cases-{args.rows}.csv"
    if not csv.exists():
        write_csv(csv, args.rows, grids)
    size = csv.stat().st_size / 1e6
    load = os.getloadavg()
    lines = [f"| run | rows | seconds | rows/s | peak RSS (MB) | summary |", "|---|---|---|---|---|---|"]
    for label in ("first import (all inserted)", "same file again (all unchanged)"):
        secs, peak, summary = run([sys.executable, "-m", "data_access", "import", str(csv), "--database-url",
                                   args.database_url, "--user", "bench"])
        lines.append(f"| {label} | {args.rows:,} | {secs:.1f} | {args.rows / secs:,.0f} | {peak:,.0f} | {summary[:90]} |")
    gj = csv.with_name("grids.geojson")
    n = grid_file(gj, engine, args.grids)
    secs, peak, summary = run([sys.executable, "-m", "data_access", "boundaries", str(gj), "--level", "grid",
                               "--parent-field", "parent", "--database-url", args.database_url, "--user", "bench"])
    lines.append(f"| boundaries: {n:,} grids (GeoJSON) | {n:,} | {secs:.1f} | {n / secs:,.0f} | {peak:,.0f} | {summary[:90]} |")
    print(f"{engine.dialect.name}, CSV {size:,.0f} MB, load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
