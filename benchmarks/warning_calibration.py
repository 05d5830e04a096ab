"""How the shipped warning rules colour generated cities: every level × every preset period (issue 13, point 4).

For each city the generator builds (seed, end date, size), every view — the city's counties, each county's
townships, each township's villages — in the last full month, this month and the year to date is judged with
``config/warning_rules.toml``, and the script prints how many views break the issue's rules:
at most a quarter of the children red, more than one colour, at most a fifth grey (township level and above).

    python -m benchmarks.warning_calibration --seed 7 --end 2026-11-29 --cases 300000 --years 3
    python -m benchmarks.warning_calibration --seed 11 --seed 23 --end 2026-06-17 --cases 60000 --years 1

The databases are SQLite files in a temporary folder (``--keep DIR`` keeps them).
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import text

from analytics.warnings import load_rules
from data_access import queries
from data_access.engine import get_engine
from data_access.judged import warning_table
from data_access.view import View
from sample_data.build import build
from ui.state import presets

ROOT = Path(__file__).resolve().parents[1]
PERIODS = {"last full month": "preset_last_month", "this month": "preset_this_month",
           "year to date": "preset_this_year"}
LEVELS = ("county", "township", "village")


def views(conn, as_of: dt.datetime, rules):
    """Yield (level, parent code, period, evaluated children) for every view."""
    today = as_of.date()
    city = queries.root_code(conn)
    counties = list(queries.children(conn, city)["code"])
    towns = [t for c in counties for t in queries.children(conn, c)["code"]]
    for level, parents in zip(LEVELS, ([city], counties, towns)):
        for code in parents:
            for period, key in PERIODS.items():
                a, b = presets(today)[key]
                ev = warning_table(conn, View(code, a, b), as_of, rules)
                yield level, code, period, ev[~ev["is_total"]]


def breaks(level: str, kids) -> list[str]:
    """The rules of point 4 that this view breaks."""
    o = kids["overall"]
    out = []
    if (o == 2).mean() > 0.25:
        out.append("red>1/4")
    if o[o >= 0].nunique() < 2:
        out.append("one colour")
    if level != "village" and (o == -1).mean() > 0.2:
        out.append("grey>1/5")
    return out


def report(engine, as_of: dt.datetime, rules, show: int = 5) -> dict:
    tally = collections.defaultdict(collections.Counter)
    examples = collections.defaultdict(list)
    with engine.connect() as conn:
        struggling = set((conn.execute(text("SELECT value FROM meta WHERE key = 'struggling_townships'"))
                          .scalar() or "").split(","))
        for level, code, period, kids in views(conn, as_of, rules):
            key = (level, period)
            tally[key]["views"] += 1
            counts = kids["overall"].value_counts()
            for lv, name in ((0, "G"), (1, "Y"), (2, "R"), (-1, "grey")):
                tally[key][name] += int(counts.get(lv, 0))
            for b in breaks(level, kids):
                tally[key][b] += 1
                if len(examples[key]) < show:
                    mark = "*" if code in struggling else ""
                    examples[key].append(f"{code}{mark} {b}: " + " ".join(
                        f"{n}{int(counts.get(lv, 0))}" for lv, n in ((0, "G"), (1, "Y"), (2, "R"), (-1, "grey"))))
    for key in sorted(tally, key=lambda k: (LEVELS.index(k[0]), k[1])):
        t = tally[key]
        print(f"{key[0]:9} {key[1]:16} views {t['views']:4}  children G {t['G']:5} Y {t['Y']:5} R {t['R']:5} "
              f"grey {t['grey']:5} | red>1/4 {t['red>1/4']:3}  one colour {t['one colour']:3}  "
              f"grey>1/5 {t['grey>1/5']:3}")
        for e in examples[key]:
            print("      ", e)
    return tally


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, action="append")
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 6, 17))
    p.add_argument("--hour", type=int, default=18, help="as-of hour on the end date")
    p.add_argument("--cases", type=int, default=60_000)
    p.add_argument("--years", type=int, default=1)
    p.add_argument("--city", default="丽水市")
    p.add_argument("--rules", type=Path, default=ROOT / "config" / "warning_rules.toml")
    p.add_argument("--keep", type=Path)
    args = p.parse_args()
    rules = load_rules(args.rules)
    folder = args.keep or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    as_of = dt.datetime.combine(args.end, dt.time(args.hour))
    for seed in args.seed or [11]:
        path = folder / f"{args.city}-{seed}-{args.end}-{args.cases}.db"
        engine = get_engine(f"sqlite:///{path}")
        if not path.exists() or path.stat().st_size < 100_000:
            build(engine, city=args.city, years=args.years, cases=args.cases, seed=seed, end=args.end)
        print(f"== {args.city} seed {seed}, {args.cases:,} cases over {args.years} year(s) to {args.end}, "
              f"as of {as_of:%Y-%m-%d %H:%M}")
        report(engine, as_of, rules)


if __name__ == "__main__":
    main()
