"""Each data call of the city's busiest pages (事件办结, 大屏) on its own: where a page's time goes.

    python -m benchmarks.percall sqlite:////work/bench/city2m.db "postgresql+psycopg://…"

The whole city, year to date up to the data's end; median of 5 warm runs per call (after one unmeasured run),
with the open cases loaded (data_access.open_cases), no Streamlit cache. Prints a Markdown table, one column
per database URL.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from data_access import breakdowns, open_cases, queries, wall
from data_access.engine import get_engine
from data_access.view import View
from geo.boundaries import view_shapes

from .run import data_end


def calls(city: str, end: dt.date, at: dt.datetime) -> list[tuple[str, object]]:
    v = View(city, end.replace(month=1, day=1), end)
    return [
        ("indicator table (children + city)", lambda c: queries.indicator_table(c, v, at)),
        ("the same, previous period", lambda c: queries.indicator_table(c, v.previous(), at)),
        ("closed, not yet due: load (per data version and day)",
         lambda c: open_cases.load_not_due(c, dt.datetime.combine(at.date(), dt.time()))),
        ("closed, not yet due: per county, from memory",
         lambda c: open_cases.grouped_not_due(c, v, at, open_cases.prefix(6))),
        ("closed, not yet due: per county, SQL", lambda c: queries.early_closed(c, v, at, "substr(grid_code, 1, 6)")),
        ("monthly trend", lambda c: queries.monthly(c, v, at)),
        ("weekly trend (事件办结·按周)", lambda c: breakdowns.weekly(c, v, at)),
        ("category × source", lambda c: breakdowns.by_dimensions(c, v, at)),
        ("resolution levels (村/镇/县/市)", lambda c: breakdowns.resolution_levels(c, v)),
        ("ageing of open cases", lambda c: breakdowns.ageing(c, v, at)),
        ("overdue list (top 20)", lambda c: breakdowns.overdue_list(c, v, at, 20)),
        ("all-time open/overdue (大屏)", lambda c: queries.open_overdue(c, View(city, dt.date(2000, 1, 1), end), at)),
        ("ticker (大屏)", lambda c: wall.latest_cases(c, city, end, 12)),
        ("map shapes (no cache)", lambda c: view_shapes(c, city)),
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.percall")
    p.add_argument("urls", nargs="+", help="database URLs with the benchmark city")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    table: dict[str, list[float]] = {}
    for url in args.urls:
        engine = get_engine(url)
        end = data_end(engine)
        with engine.connect() as conn:
            open_cases.snapshot(conn)
            for name, call in calls(queries.root_code(conn), end, dt.datetime.combine(end, dt.time(12))):
                call(conn)
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    call(conn)
                    times.append((time.perf_counter() - t0) * 1000)
                table.setdefault(name, []).append(statistics.median(times))
    print("| call | " + " | ".join(u.split("://")[0] for u in args.urls) + " |")
    print("| --- | " + " | ".join("---:" for _ in args.urls) + " |")
    for name, values in table.items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
