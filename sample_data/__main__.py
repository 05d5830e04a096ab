"""python -m sample_data --city 丽水市 --years 3 --cases 700000 --seed 7 [--end 2026-10-31] [--empty]

Writes a generated sample city into DATABASE_URL (replacing its contents).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from data_access.engine import DatabaseUnavailable, check, database_url, get_engine, safe_url
from .build import DEFAULTS, build
from .counties import UnknownCity


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sample_data", description="生成示例城市数据并写入 DATABASE_URL")
    p.add_argument("--city", default=DEFAULTS["city"], help="城市名称，如 丽水市、温州市")
    p.add_argument("--years", type=int, default=DEFAULTS["years"], help="事件覆盖的年数")
    p.add_argument("--cases", type=int, default=DEFAULTS["cases"], help="事件总数")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="随机种子（相同种子生成相同数据）")
    p.add_argument("--end", type=dt.date.fromisoformat, default=None, help="最后一天 YYYY-MM-DD（默认今天）")
    p.add_argument("--empty", action="store_true",
                   help="只写入城市与县（市、区）的真实边界，不生成乡镇、村、网格与事件（之后导入自己的边界与事件）")
    p.add_argument("--database-url", default=None, help="默认读取环境变量 DATABASE_URL")
    args = p.parse_args(argv)
    url = args.database_url or database_url()
    try:
        engine = get_engine(url)
        check(engine)

        def show(frac: float, msg: str) -> None:
            print(f"[{frac:4.0%}] {msg}", file=sys.stderr, flush=True)

        if args.empty:
            from .empty import build_empty
            r = build_empty(engine, args.city)
        else:
            r = build(engine, args.city, args.years, args.cases, args.seed, args.end, progress=show)
    except (UnknownCity, DatabaseUnavailable) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已生成 {r.city}：{r.regions} 个区划、{r.grids} 个网格、{r.cases:,} 条事件，用时 {r.seconds:.1f} 秒 → {safe_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
