"""Cleaning and parsing cell text: codes, times, numbers, coordinates — vectorised, with reasons.

Why: the values that broke the old importer were all ordinary in real exports: full-width digits
(３３１１０２…), zero-width spaces pasted from chat apps into a category (a look-alike new category),
ISO times with ``Z`` or ``+08:00``, Excel serial dates (45736.5), 2026年3月5日, years 0001 and 9999 from
placeholder values, infinite coordinates. Each is either cleaned (and counted) or becomes a reason.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd

from .columns import ZERO_WIDTH

TZ = "Asia/Shanghai"
_ZW = "[" + ZERO_WIDTH + "]"
#: Plausible years for case times (placeholders like 0001 or 9999 fall outside).
MIN_YEAR = 1990


def strip_zero_width(s: pd.Series) -> tuple[pd.Series, int]:
    """(values without zero-width characters, how many values had one)."""
    hit = s.str.contains(_ZW, regex=True)
    n = int(hit.sum())
    return (s.str.replace(_ZW, "", regex=True) if n else s), n


def text(s: pd.Series) -> pd.Series:
    return s.astype(str).str.replace(_ZW, "", regex=True).str.strip()


def nfkc(s: pd.Series) -> pd.Series:
    """Full-width digits and letters to ASCII (for codes, times and numbers only, never for names)."""
    odd = s.str.contains(r"[^\x00-\x7f]", regex=True)
    if odd.any():
        s = s.copy()
        s[odd] = [unicodedata.normalize("NFKC", v) for v in s[odd]]
    return s


def code(s: pd.Series) -> pd.Series:
    """A code cell: ASCII, no separators; ``331102001001001.0`` (a code read as a float) loses ``.0``."""
    s = nfkc(text(s)).str.replace(r"[\s\-]", "", regex=True)
    return s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def times(s: pd.Series, max_year: int) -> tuple[pd.Series, pd.Series]:
    """(naive Asia/Shanghai datetimes, problem per value: '' ok / 'bad' / 'range').

    Accepted: ISO 8601 with or without seconds, ``T`` and time zone (converted to Beijing time), / or . as
    date separators, 2026年3月5日[ 9时30分], Excel serial numbers (days since 1899-12-30).
    """
    s = nfkc(text(s))
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    problem = pd.Series("", index=s.index, dtype=object)
    given = s.ne("")
    if not given.any():
        return out, problem
    s = s.str.replace(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?", r"\1-\2-\3", regex=True)
    s = s.str.replace(r"(\d{1,2})[时點点](\d{1,2})分?(?:(\d{1,2})秒)?$", r"\1:\2", regex=True)
    s = s.str.replace(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3", regex=True)
    serial = given & s.str.fullmatch(r"\d{5}(\.\d+)?")
    if serial.any():
        days = pd.to_numeric(s[serial], errors="coerce")
        ok = days.between(25000, 80000)
        out[serial & ok.reindex(s.index, fill_value=False)] = (
            pd.Timestamp("1899-12-30") + pd.to_timedelta(days[ok], unit="D")).dt.round("s")
        problem[serial & ~ok.reindex(s.index, fill_value=True)] = "range"
    year = pd.to_numeric(s.str.extract(r"^(\d{4})\D", expand=False), errors="coerce")
    rest = given & ~serial
    out_of_range = rest & year.notna() & ((year < MIN_YEAR) | (year > max_year))
    problem[out_of_range] = "range"
    rest &= ~out_of_range
    zoned = rest & s.str.contains(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    if zoned.any():
        z = pd.to_datetime(s[zoned].str.replace(" ", "T", n=1), utc=True, format="ISO8601", errors="coerce")
        out[zoned] = z.dt.tz_convert(TZ).dt.tz_localize(None).astype("datetime64[us]")
    plain = rest & ~zoned
    if plain.any():
        p = pd.to_datetime(s[plain], format="ISO8601", errors="coerce")
        left = p.isna()
        if left.any():
            p[left] = pd.to_datetime(s[plain][left], format="mixed", errors="coerce")
        out[plain] = p.astype("datetime64[us]")
    problem[given & out.isna() & problem.eq("")] = "bad"
    ok_range = out.notna() & ((out.dt.year < MIN_YEAR) | (out.dt.year > max_year))
    problem[ok_range] = "range"
    out[ok_range] = pd.NaT
    return out, problem


def numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(floats, problem: '' ok or empty / 'bad' not a number / 'inf' not finite)."""
    s = nfkc(text(s))
    v = pd.to_numeric(s, errors="coerce")
    problem = pd.Series("", index=s.index, dtype=object)
    problem[s.ne("") & v.isna() & ~s.str.lower().isin(["nan", "inf", "-inf", "infinity", "-infinity"])] = "bad"
    problem[s.str.lower().isin(["nan", "inf", "-inf", "infinity", "-infinity"]) | ~np.isfinite(v.fillna(0))] = "inf"
    return v.where(problem.eq("")), problem


def this_year() -> int:
    return dt.date.today().year
