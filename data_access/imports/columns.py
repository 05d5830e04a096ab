"""Column mapping: the file's own headers to the fields of a table kind.

Why: exports from different platforms name the same column differently (类别 / 事件类别 / category), and
a file may hold two synonyms at once. Every field keeps the list of file headers that feed it: a row takes
the first non-empty one, and two different non-empty values are that row's problem, not the file's. Reasons
name the file's header, never an internal column name. A saved mapping (数据导入 page) adds headers a
county uses that no synonym list knows.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pandas as pd


def norm_header(h: str) -> str:
    """Header as compared: full-width to half-width, no spaces, no zero-width characters, lower case."""
    h = unicodedata.normalize("NFKC", str(h or ""))
    return "".join(ch for ch in h if not ch.isspace() and ch not in ZERO_WIDTH).lower()


ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


@dataclass
class Mapping:
    """field -> the file headers that feed it, in the file's order."""
    sources: dict[str, list[str]]
    unused: list[str]

    def header(self, field: str) -> str:
        return self.sources[field][0]


def lookup(synonyms: dict[str, tuple[str, ...]], custom: dict[str, str] | None = None) -> dict[str, str]:
    """normalised header -> field, from a kind's synonyms plus a saved mapping {file header: field}."""
    out = {}
    for f, names in synonyms.items():
        out[norm_header(f)] = f
        for n in names:
            out[norm_header(n)] = f
    for h, f in (custom or {}).items():
        if f:
            out[norm_header(h)] = f
    return out


def scorer(table: dict[str, str]):
    """How many cells of a row are known headers (for finding the header row under a title)."""
    return lambda row: len({table[k] for k in (norm_header(c) for c in row) if k in table})


def resolve(headers: list[str], table: dict[str, str]) -> Mapping:
    sources: dict[str, list[str]] = {}
    unused = []
    for h in headers:
        base = h.rsplit("(", 1)[0] if h.endswith(")") and "(" in h else h  # 类别(2): a repeated header
        f = table.get(norm_header(h)) or table.get(norm_header(base))
        if f:
            sources.setdefault(f, []).append(h)
        else:
            unused.append(h)
    return Mapping(sources, unused)


def coalesce(rows: pd.DataFrame, mapping: Mapping, field: str, reasons: pd.Series) -> pd.Series:
    """The field's values: the first non-empty of its headers; two different values -> a reason."""
    heads = mapping.sources.get(field)
    if not heads:
        return pd.Series("", index=rows.index, dtype=object)
    out = rows[heads[0]].astype(str)
    for h in heads[1:]:
        other = rows[h].astype(str)
        a, b = out.str.strip(), other.str.strip()
        clash = a.ne("") & b.ne("") & a.ne(b)
        fail(reasons, clash, lambda i: f"{heads[0]}「{out[i]}」与{h}「{other[i]}」不一致", rows.index)
        out = out.where(a.ne(""), other)
    return out


def fail(reasons: pd.Series, mask: pd.Series, why, index=None) -> None:
    """Set ``why`` (a string, or a function of the row label) on rows of ``mask`` that have no reason yet."""
    hit = mask & reasons.eq("")
    if not hit.any():
        return
    if callable(why):
        reasons.loc[hit] = [why(i) for i in hit[hit].index]
    else:
        reasons.loc[hit] = why
