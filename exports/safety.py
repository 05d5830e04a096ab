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

#: Headers of raw case tables (as imported, as quarantined) that hold personal data, and their kind.
PERSONAL_HEADERS = {
    "群众姓名": "name", "姓名": "name", "联系人": "name", "citizen_name": "name",
    "联系电话": "phone", "电话": "phone", "手机": "phone", "手机号": "phone", "citizen_phone": "phone",
    "身份证号": "id", "身份证号码": "id", "证件号码": "id",
    "事件描述": "text", "描述": "text", "description": "text", "承办单位": "text", "handling_unit": "text",
    "备注": "text", "地址": "text",
}

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_RE = r"^[=+\-@\t\r]"

# Patterns are matched on a copy of the text with full-width digits, signs and spaces turned into ASCII (one
# character for one, so positions stay the same) and applied to the original: ０５７８－２１２３４５６ is a phone.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－．（）Ｘｘ\u3000\u2014\u2013\u2010\u2012\u00b7\uff65",
                           "0123456789+-.()Xx       ")
_SEP = r"[ \t\-.]"  # between digit groups: space, dash, dot (full-width ones already folded)
# Each pattern has three groups: (kept)(starred digits)(kept).
# 18-digit resident ID: 6-digit area, birth date 19xx/20xx, 3-digit sequence, check digit.
# The birth-date part keeps long case numbers and amounts in free text from being starred.
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[\dXx])"
    r"(?![0-9A-Za-z])"
)
# Old 15-digit ID: area, yymmdd, 3-digit sequence.
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{2}(?:0[1-9]|1[0-2])[0-3])(\d{4})(?![0-9A-Za-z])")
# Mainland mobile in any common shape: 13812341234, 138-1234-1234, 138 1234 1234, 138.1234.1234,
# +86 138…, (+86)138…, 0086-138…, with at most two separators between any two digits.
_MOBILE_RE = re.compile(
    rf"(?<!\d)((?:\(?(?:\+|00)?86\)?{_SEP}{{0,2}})?1{_SEP}{{0,2}}[3-9]{_SEP}{{0,2}}\d)"
    rf"((?:{_SEP}{{0,2}}\d){{4}})((?:{_SEP}{{0,2}}\d){{4}})(?!\d)"
)
# Landline with area code: 010/02x have 3 digits, all others 4; local number 7-8 digits.
_LANDLINE_RE = re.compile(
    rf"(?<!\d)(\(?0(?:10|2\d|[3-9]\d{{2}})\)?{_SEP}{{0,2}})(\d{{3,4}})({_SEP}?\d{{4}})(?!\d)")
_NUMBER_PATTERNS = (_ID_RE, _ID15_RE, _MOBILE_RE, _LANDLINE_RE)
_FULL_MOBILE_RE = r"^(1[3-9]\d)\d{4}(\d{4})$"
#: A text worth the number patterns: seven digits, ASCII or full-width, possibly apart.
_HAS_DIGITS_RE = r"(?:[0-9０-９][^0-9０-９]{0,3}){7}"

# Names inside free text. A name written after a label (姓名：张三, 联系人欧阳娜娜), and any word starting with a
# two-character surname (欧阳…, 司马…: rare outside names). The row's own 群众姓名 is masked wherever the row's
# text repeats it (``sanitize_frame``).
_HAN = r"[\u3400-\u9fff]"
_NAME_LABELS = "(?:姓名|联系人|报告人|反映人|当事人|申请人|投诉人|举报人|来电人|求助人|户主)"
_LABELLED_NAME_RE = re.compile(rf"({_NAME_LABELS}[:：\s]*)({_HAN})({_HAN}{{1,3}})")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "皇甫", "尉迟", "公孙", "慕容", "令狐", "宇文", "司徒", "夏侯",
                     "轩辕", "端木", "独孤", "呼延", "澹台", "公冶", "申屠", "闻人", "钟离", "万俟", "赫连", "司空",
                     "濮阳", "长孙", "太史")
_COMPOUND_HINT = re.compile("|".join(COMPOUND_SURNAMES))
_COMPOUND_RE = re.compile(rf"()({'|'.join(COMPOUND_SURNAMES)})({_HAN}{{1,2}})")
#: Characters of a name field that stay as they are: separators between several names.
_NAME_KEEP = " \t、,，/;；"


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


def _star_groups(value: str, patterns, digits_only: bool = True) -> str:
    """Star group 2 of every match of ``patterns`` (in order; a starred part is not matched again)."""
    norm = value.translate(_FULLWIDTH)
    out = None
    for rx in patterns:
        hits = list(rx.finditer(norm))
        if not hits:
            continue
        out = out or list(value)
        for m in hits:
            for i in range(*m.span(2)):
                if not digits_only or norm[i].isdigit() or norm[i] in "Xx":
                    out[i] = "*"
        norm = "".join(out).translate(_FULLWIDTH)
    return value if out is None else "".join(out)


def _mask_names_in(s: str, names=()) -> str:
    """Known names (the row's 群众姓名), labelled names and compound-surname names, first character kept."""
    for name in names:
        if isinstance(name, str) and len(name.strip()) >= 2 and name.strip() in s:
            name = name.strip()
            s = s.replace(name, mask_name(name))
    if _COMPOUND_HINT.search(s) or _LABELLED_NAME_RE.search(s):
        s = _LABELLED_NAME_RE.sub(lambda m: m[1] + m[2] + "*" * len(m[3]), s)
        s = _COMPOUND_RE.sub(lambda m: m[2][0] + "*" * (len(m[2]) - 1 + len(m[3])), s)
    return s


def mask_text(value: object, names=()) -> object:
    """Mask ID numbers, mobile and landline numbers (any separators, +86, full-width digits) and names found
    inside free text; ``names``: names known to belong to the row (its 群众姓名), masked wherever they occur."""
    if _missing(value):
        return value
    s = _star_groups(str(value), _NUMBER_PATTERNS)
    return _mask_names_in(s, names)


def mask_phone(value: object) -> object:
    """``13812341234`` → ``138****1234``; ``0578-2123456`` → ``0578-***3456``.

    Separators and a +86 prefix are dropped for a single number; a local number without area
    code keeps its last 4 digits; anything else (several numbers, short or odd strings) is
    masked as free text, or starred except for its last quarter. Missing values pass through.
    """
    if _missing(value):
        return value
    s = _text(value).translate(_FULLWIDTH)
    digits = re.sub(r"[^0-9]", "", s)
    prefix = re.match(r"[(\s]*(?:\+|00)?86", s)
    if prefix and len(digits) in (13, 15) and digits[len(digits) - 11] == "1":
        digits = digits[-11:]
    only_number = re.fullmatch(r"[0-9\s()+\-.]+", s) is not None
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
    """Keep the first character, one * per other character: 欧阳小明 → 欧***, whatever the surname's length.

    Several names in one field (张三、李四) keep only the very first character: 张*、**."""
    if _missing(value):
        return value
    s = _text(value)
    return s[:1] + "".join(c if c in _NAME_KEEP else "*" for c in s[1:])


def mask_id_number(value: object) -> object:
    """Resident ID: keep the 6-digit area code and the last 4: ``331102********1234``.

    Old 15-digit numbers follow the same rule; strings that are not ID-shaped are starred except
    for their last quarter.
    """
    if _missing(value):
        return value
    s = _text(value).translate(_FULLWIDTH)
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
        return s.str[:1] + s.str[1:].str.replace(rf"[^{_NAME_KEEP}]", "*", regex=True)
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
        return _mask_text_series(s)
    raise ValueError(f"未知的个人信息列类型 {kind!r}，应为 {', '.join(KINDS)} 之一")


def _mask_text_series(s: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """mask_text over a column; only rows with digits, a label or a compound surname (or the row's name) go
    through Python, so a 500,000-row export stays fast."""
    s = _as_strings(s)
    hit = s.str.contains(_HAS_DIGITS_RE, regex=True) | s.str.contains(_NAME_LABELS + _HAN, regex=True) \
        | s.str.contains("|".join(COMPOUND_SURNAMES), regex=True)
    if names is not None:
        named = _as_strings(names)
        hit = hit | pd.Series([isinstance(n, str) and len(n) >= 2 and isinstance(v, str) and n in v
                               for v, n in zip(s.tolist(), named.tolist())], index=s.index)
    hit = hit.fillna(False).astype(bool)
    if not hit.any():
        return s
    out = s.copy()
    if names is None:
        out[hit] = s[hit].map(mask_text)
    else:
        out[hit] = [mask_text(v, (n,)) for v, n in zip(s[hit].tolist(), named[hit].tolist())]
    return out


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
        names = [c for c, k in personal_columns.items() if k == "name" and c in out.columns]
        for col, kind in personal_columns.items():
            if col in out.columns and kind == "text":  # before the names are masked: the row's name is searched
                out[col] = _mask_text_series(out[col], out[names[0]] if names else None)
        for col, kind in personal_columns.items():
            if col in out.columns and kind != "text":
                out[col] = _mask_series(out[col], kind)
    for col in out.columns:
        if _is_string(out[col]) or out[col].dtype == object:
            out[col] = _defuse_series(out[col])
    return out


def header_kinds(columns, known: dict[str, str] | None = None) -> dict[str, str]:
    """The personal columns among ``columns`` found by their header (``PERSONAL_HEADERS``), then ``known``
    (column -> kind, e.g. an import's own column mapping) on top."""
    found = {c: PERSONAL_HEADERS[str(c).strip()] for c in columns if str(c).strip() in PERSONAL_HEADERS}
    return {**found, **(known or {})}


def sanitize_raw_frame(df: pd.DataFrame, unmask: bool = False, known: dict[str, str] | None = None) -> pd.DataFrame:
    """A raw case table (Chinese or column headers, e.g. a quarantine file or the rejected rows the import page
    shows) made safe like an export: personal columns found by header (``PERSONAL_HEADERS``) and ``known``,
    formulas defused."""
    return sanitize_frame(df, header_kinds(df.columns, known), unmask=unmask)
