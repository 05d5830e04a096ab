"""Speed of every page's data at city scale, on SQLite and PostgreSQL.

    python -m benchmarks.run --sqlite /work/bench/city2m.db --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m benchmarks.run --build --cases 2000000 ...   # (re)generate the city first, timing the build
    python -m benchmarks.run --build --map --concurrency 50 --sqlite … --pg …   # everything the scale issue asks

``--map`` adds the map JSON bytes per level (benchmarks/map_bytes.py) and ``--concurrency N`` a run of N
real websocket sessions against a streamlit server for ``--minutes`` (benchmarks/concurrency.py), per database.

Times are server-side: one call of the page's data functions (benchmarks/pagedata.py) with no
Streamlit cache (the open cases of data_access.open_cases are loaded once per data version, timed
separately), over several regions per level and two periods (the last full month, and the year
to date: the latter has a partial month at its end). Prints a Markdown table (p50/p95 ms per page
and level) that goes into benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import resource
import statistics
import time

from sqlalchemy import text

from data_access.engine import get_engine
from data_access.view import View
from .pagedata import PAGES

LEVEL_SQL = {
    "city": "SELECT code FROM regions WHERE level = 'city'",
    "county": "SELECT code FROM regions WHERE level = 'county'",
    "township": "SELECT code FROM regions WHERE level = 'township'",
    "village": "SELECT code FROM regions WHERE level = 'village'",
    "grid": "SELECT code FROM grids",
}


def regions(engine, per_level: int, seed: int = 1) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    out = {}
    with engine.connect() as conn:
        for level, sql in LEVEL_SQL.items():
            codes = [r[0] for r in conn.execute(text(sql))]
            out[level] = rnd.sample(codes, min(per_level, len(codes)))
    return out


def periods(end: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    first = end.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    return {"last full month": (last_month_end.replace(day=1), last_month_end),
            "year to date": (dt.date(end.year, 1, 1), end)}


def data_end(engine) -> dt.date:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'end'")).scalar()
    return dt.date.fromisoformat(value)


def time_pages(engine, per_level: int, repeat: int, pages: list[str] | None = None) -> list[dict]:
    end = data_end(engine)
    at = dt.datetime.combine(end, dt.time(12))
    rows = []
    codes = regions(engine, per_level)
    with engine.connect() as conn:
        for page, call in PAGES.items():
            if pages and page not in pages:
                continue
            for level, level_codes in codes.items():
                samples = []
                for name, (d0, d1) in periods(end).items():
                    for code in level_codes:
                        view = View(code, d0, d1)
                        for _ in range(repeat):
                            t0 = time.perf_counter()
                            call(conn, view, at)
                            samples.append((time.perf_counter() - t0) * 1000)
                samples.sort()
                rows.append({"page": page, "level": level, "n": len(samples),
                             "p50": statistics.median(samples),
                             "p95": samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))],
                             "max": samples[-1]})
    return rows


def open_cases_load(engine, name: str, runs: int = 5) -> str:
    """What the first view after a write pays once: loading the open cases (data_access.open_cases)."""
    from data_access import open_cases
    times = []
    with engine.connect() as conn:
        for _ in range(runs):
            t0 = time.perf_counter()
            snap = open_cases.load(conn)
            times.append((time.perf_counter() - t0) * 1000)
        open_cases.snapshot(conn)  # loaded for this process, as the app has it after its first view
    size = sum(a.nbytes for a in (snap.grid, snap.day, snap.deadline, snap.category, snap.source, snap.status))
    return (f"{name}: loading {len(snap):,} open cases takes {statistics.median(times):.0f} ms (median of {runs}), "
            f"{size / 1e6:.1f} MB in memory; the page timings below start with it loaded, as after any view")


def markdown(title: str, rows: list[dict]) -> str:
    out = [f"### {title}", "", "| page | level | calls | p50 ms | p95 ms | max ms |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['page']} | {r['level']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run")
    p.add_argument("--sqlite", help="SQLite file with the benchmark city")
    p.add_argument("--pg", help="PostgreSQL URL with the benchmark city")
    p.add_argument("--build", action="store_true", help="generate the city into each database first")
    p.add_argument("--cases", type=int, default=2_000_000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    p.add_argument("--per-level", type=int, default=8, help="regions sampled per level")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--map", action="store_true", help="also measure map JSON bytes per level")
    p.add_argument("--concurrency", type=int, default=0, help="also run N simulated sessions (0: skip)")
    p.add_argument("--minutes", type=float, default=5, help="length of the concurrency run")
    p.add_argument("--pages", nargs="+", choices=list(PAGES), help="time only these pages (default: all)")
    args = p.parse_args(argv)
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}, "
          f"date {dt.date.today()}")
    targets = [("SQLite", f"sqlite:///{args.sqlite}")] if args.sqlite else []
    targets += [("PostgreSQL", args.pg)] if args.pg else []
    for name, url in targets:
        engine = get_engine(url)
        if args.build:
            from sample_data.build import build
            t0 = time.perf_counter()
            r = build(engine, cases=args.cases, years=args.years, end=args.end)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{name}: built {r.cases:,} cases in {time.perf_counter() - t0:.0f} s (peak RSS {rss:.0f} MB)")
        print()
        print(open_cases_load(engine, name))
        print()
        print(markdown(f"{name}", time_pages(engine, args.per_level, args.repeat, args.pages)))
        print()
        if args.map:
            from . import map_bytes
            map_bytes.main(["--database-url", url, "--per-level", str(args.per_level)])
        if args.concurrency:
            from . import concurrency
            concurrency.main(["--database-url", url, "--sessions", str(args.concurrency),
                              "--minutes", str(args.minutes), "--to", str(args.end)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
