"""How long the 强基善治指数 of a year takes: the grouped case query, the village table, the evaluation
(normalise, weight, aggregate, stars) and the ±20 % sensitivity, for the city, a county and a township.

    python -m benchmarks.index_bench sqlite:////tmp/default.db [--year 2026] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from analytics import village_index as av
from analytics.index_config import load_config
from data_access import village_index as vi
from data_access.engine import get_engine


def timed(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.index_bench")
    p.add_argument("url")
    p.add_argument("--year", type=int, default=None)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    engine = get_engine(args.url)
    cfg = load_config()
    with engine.connect() as conn:
        year = args.year or vi.years(conn)[0]
        city = conn.execute(text("SELECT code FROM regions WHERE level = 'city'")).scalar()
        county = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{city}'")).scalar()
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{county}'")).scalar()
    print(f"{args.url.split('://')[0]} · year {year} · median of {args.runs}")
    print("| region | villages | case rows read | query s | table s | evaluate s | sensitivity s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, code in (("city", city), ("county", county), ("township", town)):
        with engine.connect() as conn:
            tv, villages = timed(lambda: vi.villages(conn, code), args.runs)
            tq, counts = timed(lambda: vi.case_counts(conn, code, year), args.runs)
            tt, table = timed(lambda: vi.village_table(conn, code, year), args.runs)
        te, ev = timed(lambda: av.evaluate(villages, table, counts, cfg), args.runs)
        ts, _ = timed(lambda: av.sensitivity(ev, cfg), max(1, args.runs // 2))
        print(f"| {name} | {len(villages):,} | {int(counts['received'].sum()):,} | {tq:.3f} | {tt + tv:.3f} | "
              f"{te:.3f} | {ts:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
