"""Make exported tables safe to hand out: mask personal data, defuse spreadsheet formulas.

Why this exists:

* Exports leave the command centre. Case tables carry the reporter's name, mobile or landline
  number and sometimes an ID number, and the free-text description often repeats them
  ("张三，电话13812341234，反映……"). Masking is the default; only a user with the right to see
  personal data asks for ``unmask=True``. When in doubt a value is masked rather than kept:
  an odd string in a phone column is starred, not passed through.
* CSV/formula injection (OWASP "CSV Injection"): a cell text starting with ``= + - @`` TAB or
  CR is run as a formula by Excel once the file is opened or the cell edited, e.g.
  ``=HYPERLINK(...)`` in a citizen's complaint. Prefixing a single quote makes it inert text.
  Only strings are touched: a negative *number* stays a number.

``sanitize_frame`` is what exporters call, chunk by chunk (500,000 rows go through it in
pieces), so the common cases use pandas string methods and only odd values fall back to Python.
"""
from __future__ import annotations

import re

import pandas as pd

#: Column kinds understood by ``sanitize_frame``.
KINDS = ("name", "phone", "id", "text")

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_RE = r"^[=+\-@\t\r]"

# 18-digit resident ID: 6-digit area, birth date 19xx/20xx, 3-digit sequence, check digit.
# The birth-date part keeps long case numbers and amounts in free text from being starred.
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx])"
    r"(?![0-9A-Za-z])"
)
# Mainland mobile, optionally +86 and written 138-1234-1234 or 138 1234 1234.
_MOBILE_RE = re.compile(r"(?<!\d)((?:\+?86[-\s]?)?1[3-9]\d)([-\s]?\d{4}[-\s]?)(\d{4})(?!\d)")
# Landline with area code: 010/02x have 3 digits, all others 4; local number 7-8 digits.
_LANDLINE_RE = re.compile(r"(?<!\d)(\(?0(?:10|2\d|[3-9]\d{2})\)?[-\s]?)(\d{3,4})(\d{4})(?!\d)")
_FULL_MOBILE_RE = r"^(1[3-9]\d)\d{4}(\d{4})$"


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: object) -> str:
    """The string of a value; 13812341234.0 (a phone read from a column with NaN) loses '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _stars(s: str, keep_last: int) -> str:
    return "*" * len(s) if keep_last == 0 else "*" * (len(s) - keep_last) + s[-keep_last:]


def _mask_rest(s: str) -> str:
    """Fallback for values that fit no pattern: keep at most the last quarter (≤ 4 characters)."""
    return _stars(s, min(4, len(s) // 4))


def _id_repl(m: re.Match) -> str:
    return m[1] + "*" * (len(m[2]) - 4) + m[2][-4:]


def _landline_repl(m: re.Match) -> str:
    return m[1] + "*" * len(m[2]) + m[3]


def _mobile_repl(m: re.Match) -> str:
    return m[1] + re.sub(r"\d", "*", m[2]) + m[3]


def mask_text(value: object) -> object:
    """Mask ID numbers, mobile and landline numbers found inside free text; the rest is kept."""
    if _missing(value):
        return value
    s = _ID_RE.sub(_id_repl, str(value))
    s = _MOBILE_RE.sub(_mobile_repl, s)
    return _LANDLINE_RE.sub(_landline_repl, s)


def mask_phone(value: object) -> object:
    """``13812341234`` → ``138****1234``; ``0578-2123456`` → ``0578-***3456``.

    Separators and a +86 prefix are dropped for a single number; a local number without area
    code keeps its last 4 digits; anything else (several numbers, short or odd strings) is
    masked as free text, or starred except for its last quarter. Missing values pass through.
    """
    if _missing(value):
        return value
    s = _text(value)
    digits = re.sub(r"\D", "", s)
    if len(digits) == 13 and digits.startswith("86") and s.lstrip("+ ").startswith("86"):
        digits = digits[2:]
    only_number = re.fullmatch(r"[\d\s()+\-]+", s) is not None
    if only_number and re.fullmatch(r"1[3-9]\d{9}", digits):
        return f"{digits[:3]}****{digits[-4:]}"
    if only_number and digits.startswith("0") and 10 <= len(digits) <= 12:
        area, local = (digits[:3], digits[3:]) if digits[1] in "12" else (digits[:4], digits[4:])
        if 7 <= len(local) <= 8:
            return f"{area}-{_stars(local, 4)}"
    if only_number and 7 <= len(digits) <= 8:
        return _stars(digits, 4)
    masked = mask_text(s)
    return masked if masked != s else _mask_rest(s)


def mask_name(value: object) -> object:
    """Keep the first character (the surname, mostly), one * per other character: 欧阳小明 → 欧***."""
    if _missing(value):
        return value
    s = _text(value)
    return s[:1] + "*" * (len(s) - 1)


def mask_id_number(value: object) -> object:
    """Resident ID: keep the 6-digit area code and the last 4: ``331102********1234``.

    Old 15-digit numbers follow the same rule; strings that are not ID-shaped are starred except
    for their last quarter.
    """
    if _missing(value):
        return value
    s = _text(value)
    if len(s) in (15, 18) and re.fullmatch(r"\d{14}(?:\d|\d{3}[\dXx])", s):
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    return _mask_rest(s)


def defuse_formula(value: object) -> object:
    """Prefix ``'`` to a string that Excel would read as a formula; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _is_string(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype)


def _as_strings(s: pd.Series) -> pd.Series:
    """Values as a pandas string column (missing stays missing), for the vectorised paths."""
    if _is_string(s):
        return s.str.strip()
    return s.map(_text, na_action="ignore").astype("str")


def _mask_series(s: pd.Series, kind: str) -> pd.Series:
    if kind == "name":
        s = _as_strings(s)
        return s.str[:1] + s.str[1:].str.replace(r".", "*", regex=True)
    if kind == "phone":
        s = _as_strings(s)
        plain = s.str.fullmatch(_FULL_MOBILE_RE).fillna(False).astype(bool)
        out = s.str.replace(_FULL_MOBILE_RE, r"\1****\2", regex=True)
        if not plain.all():
            out[~plain] = s[~plain].map(mask_phone, na_action="ignore")
        return out
    if kind == "id":
        return s.map(mask_id_number, na_action="ignore")
    if kind == "text":
        s = _as_strings(s)
        return (
            s.str.replace(_ID_RE.pattern, _id_repl, regex=True)
            .str.replace(_MOBILE_RE.pattern, _mobile_repl, regex=True)
            .str.replace(_LANDLINE_RE.pattern, _landline_repl, regex=True)
        )
    raise ValueError(f"未知的个人信息列类型 {kind!r}，应为 {', '.join(KINDS)} 之一")


def _defuse_series(s: pd.Series) -> pd.Series:
    if _is_string(s):
        hit = s.str.contains(_TRIGGER_RE, regex=True).fillna(False).astype(bool)
        return s.where(~hit, "'" + s) if hit.any() else s
    return s.map(defuse_formula)


def sanitize_frame(
    df: pd.DataFrame, personal_columns: dict[str, str], unmask: bool = False
) -> pd.DataFrame:
    """A copy of ``df`` with personal columns masked (unless ``unmask``) and formulas defused.

    ``personal_columns`` maps a column to its kind: "name", "phone", "id" or "text" (free text
    that may contain numbers). Columns absent from ``df`` are skipped, so one mapping can serve
    every table shape. Formula defusal always runs, on every string or object column.
    """
    for kind in set(personal_columns.values()) - set(KINDS):
        raise ValueError(f"未知的个人信息列类型 {kind!r}，应为 {', '.join(KINDS)} 之一")
    out = df.copy()
    if not unmask:
        for col, kind in personal_columns.items():
            if col in out.columns:
                out[col] = _mask_series(out[col], kind)
    for col in out.columns:
        if _is_string(out[col]) or out[col].dtype == object:
            out[col] = _defuse_series(out[col])
    return out
