"""Time and peak memory of the case-list export (事件明细) of 500,000 rows: XLSX and CSV.

    python -m benchmarks.export_bench                       # builds a 500k-case SQLite city in a temp dir
    python -m benchmarks.export_bench --sqlite /tmp/b.db    # reuse (or build once into) this file
    python -m benchmarks.export_bench --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Each measurement runs in a fresh child process (so one format's high-water mark cannot hide
another's) that exports the whole city and, for comparison, one county, through the same code the page
and the CLI use (data_access.case_list.iter_chunks -> exports.tables.safe_cases -> exports.writers).
Reported per run: rows, seconds, file size, the RSS high-water mark (resource.getrusage ru_maxrss) before
and after the export, and in a second child the tracemalloc peak of Python allocations during the
export (tracemalloc slows Python down, so its run is not the timed one). Memory that stays flat from
a county (~10 % of the rows) to the whole city is what "bounded" means. Prints a Markdown table for
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = 500_000
END = dt.date(2026, 11, 20)
CITY = "331100000000"
COUNTY = "331102000000"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(url: str, region: str, fmt: str, trace: bool, chunk_rows: int) -> dict:
    """One export in this process; returns the measurements."""
    from data_access.case_list import CaseQuery, count
    from data_access.engine import get_engine
    from data_access.view import View
    from exports import tables

    engine = get_engine(url)
    view = View(region, dt.date(2000, 1, 1), END)
    q = CaseQuery(view, dt.datetime.combine(END, dt.time(12)))
    with engine.connect() as conn:
        expected = count(conn, q)
    rss_before = _rss_mb()
    out = Path(tempfile.mkdtemp(prefix="export-bench-")) / f"export.{tables.FORMATS[fmt][0]}"
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    with engine.connect() as conn:
        rows = tables.export_cases(conn, q, fmt, out, region_name="bench", chunk_rows=chunk_rows)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()
    size = out.stat().st_size / 2**20
    out.unlink()
    out.parent.rmdir()
    assert rows == expected, (rows, expected)
    return {"region": region, "format": fmt, "rows": rows, "seconds": seconds, "size_mb": size,
            "rss_before_mb": rss_before, "rss_peak_mb": _rss_mb(), "tracemalloc_peak_mb": peak}


def run_child(url: str, region: str, fmt: str, trace: bool, chunk_rows: int) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.export_bench", "--child", "--database-url", url, "--region", region,
           "--format", fmt, "--chunk-rows", str(chunk_rows)] + (["--trace"] if trace else [])
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"child failed: {' '.join(cmd)}\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def ensure_db(url: str | None, sqlite: str | None) -> str:
    from data_access.engine import get_engine
    from sample_data.build import build, is_built
    if url is None:
        path = Path(sqlite) if sqlite else Path(tempfile.mkdtemp(prefix="export-bench-db-")) / "bench500k.db"
        url = f"sqlite:///{path}"
    engine = get_engine(url)
    if not is_built(engine) or _cases(engine) != CASES:
        t0 = time.perf_counter()
        print(f"building {CASES:,} cases into {url} ...", file=sys.stderr, flush=True)
        build(engine, cases=CASES, end=END)
        print(f"built in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return url


def _cases(engine) -> int:
    from sqlalchemy import text
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM cases")).scalar())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.export_bench", description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=None, help="a database that holds (or gets) the 500k-case city")
    p.add_argument("--sqlite", default=None, help="SQLite file to build/reuse when no --database-url is given")
    p.add_argument("--formats", default="xlsx,csv", help="comma-separated: xlsx,csv,csv-gb18030")
    p.add_argument("--chunk-rows", type=int, default=10_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--region", default=CITY, help=argparse.SUPPRESS)
    p.add_argument("--format", default="xlsx", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.database_url, args.region, args.format, args.trace, args.chunk_rows)))
        return 0
    url = ensure_db(args.database_url, args.sqlite)
    from data_access.engine import get_engine, safe_url
    dialect = get_engine(url).dialect.name
    lines = [f"{dialect} ({safe_url(url)}), {platform.python_version()}, {os.cpu_count()} cores, "
             f"chunk {args.chunk_rows:,} rows", "",
             "| export | rows | time | rows/s | file | RSS before → peak | tracemalloc peak |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for fmt in args.formats.split(","):
        for region, label in ((COUNTY, "one county"), (CITY, "whole city")):
            timed = run_child(url, region, fmt, False, args.chunk_rows)
            traced = run_child(url, region, fmt, True, args.chunk_rows)
            print(json.dumps({"timed": timed, "traced": traced}), file=sys.stderr, flush=True)
            lines.append(
                f"| {fmt}, {label} | {timed['rows']:,} | {timed['seconds']:.1f} s | "
                f"{timed['rows'] / timed['seconds']:,.0f} | {timed['size_mb']:.1f} MB | "
                f"{timed['rss_before_mb']:.0f} → {timed['rss_peak_mb']:.0f} MB | "
                f"{traced['tracemalloc_peak_mb']:.1f} MB |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
