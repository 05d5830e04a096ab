"""Masking cost (issue 14): ``sanitize_frame`` over the case-export columns, the code before issue 14 vs now.

    python -m benchmarks.masking_bench [--rows 200000] [--old exports/safety.py@<commit> file]

Rows look like the sample's: one description in seven carries a phone number; every row has a name and a phone.
"""
from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np
import pandas as pd


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    desc = np.where(rng.random(n) < 1 / 7, "石岭村道路积水，联系电话13812341234", "石岭村道路积水需清理")
    return pd.DataFrame({"citizen_name": ["张三丰"] * n, "citizen_phone": ["13812341234"] * n, "description": desc,
                         "handling_unit": ["莲都区某街道综治中心"] * n, "category": ["矛盾纠纷"] * n})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--old", help="a copy of an older exports/safety.py to compare with")
    args = ap.parse_args()
    from exports import safety
    from exports.tables import PERSONAL
    mods = [("now", safety, PERSONAL)]
    if args.old:
        spec = importlib.util.spec_from_file_location("old_safety", args.old)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        mods.insert(0, ("old", old, {k: v for k, v in PERSONAL.items() if k != "handling_unit"}))
    df = frame(args.rows)
    for _round in range(3):
        for label, mod, personal in mods:
            t = time.perf_counter()
            mod.sanitize_frame(df, personal)
            print(f"{label}: {args.rows:,} rows {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
