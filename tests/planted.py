"""Planted payloads for the hardening tests (issue 14): personal data in every shape and markup in every text
field, and the strings whose presence anywhere outside the server proves a leak.

``plant(conn, grid)`` adds a few cases (ids PLANT-…) under one grid; ``rename_regions`` gives a county, a
township, a village and its grid names that carry markup. ``SECRETS`` are fragments that only the unmasked
data contains (the middle digits of a phone together with its prefix, the birth date of an ID number, a name
past its first character): none may appear in a page's websocket frames, a download or a written file.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

HOST = "evil.example"
#: Markup that would fetch from HOST or link to it if anything rendered it.
MARKUP = {
    "md_image": f"![x](http://{HOST}/img.png)",
    "md_link": f"[点此重新登录](http://{HOST}/login)",
    "html_link": f'<a href="http://{HOST}/a">链接</a>',
    "html_img": f'<img src="http://{HOST}/i.png" onerror="alert(1)">',
    "autolink": f"http://{HOST}/auto",
}
# category and source hold 16 characters: plotly markup that would show as bold/italic if read as HTML.
MARKUP_CATEGORY = "<b>粗体类别</b>"
MARKUP_SOURCE = "<i>斜体来源</i>"
REGION_NAMES = {  # level -> planted name
    "county": f"[莲都](http://{HOST}/county)",
    "township": f'<img src="http://{HOST}/t.png">街道',
    "village": f"![村](http://{HOST}/v.png)村",
    "grid": f'<a href="http://{HOST}/g">网格</a>',
}

NAMES = ["欧阳娜娜", "司马相如", "上官婉儿"]
PHONES = ["139.5764.9031", "+86 139 5764 9032", "１３９５７６４９０３３", "(+86)139-5764-9034"]
ID_NUMBER = "33110219870214561X"
DESCRIPTIONS = [
    f"欧阳娜娜反映楼道堆物，电话139 5764 9035，身份证{ID_NUMBER}" + MARKUP["md_image"],
    "联系人：上官婉儿，手机＋８６　１３９　５７６４　９０３６" + MARKUP["html_img"],
    f'=HYPERLINK("http://{HOST}/x","司马相如 13957649037")' + MARKUP["md_link"],
]
HANDLING_UNITS = ["某街道综治中心 联系人司马相如 0578-5764903", MARKUP["html_link"] + " 电话13957649038",
                  MARKUP["autolink"]]
#: Fragments only the unmasked data holds (UTF-8 text).
SECRETS = ["欧阳", "阳娜娜", "马相如", "婉儿", "139.5764", "139 5764", "139-5764", "13957649", "１３９５７６４",
           "5764903", "19870214"]
CASE_IDS = [f"PLANT-{i}" for i in range(6)]


def cases_frame(grid: str, when: dt.datetime) -> pd.DataFrame:
    """Six cases under ``grid`` reported at ``when`` (two open and overdue, so they reach the overdue list)."""
    rows = []
    for i, cid in enumerate(CASE_IDS):
        closed = i >= 2
        rows.append({
            "id": cid, "category": MARKUP_CATEGORY if i % 2 else "矛盾纠纷", "source": MARKUP_SOURCE if i % 3 == 0 else "网格员上报",
            "grid_code": grid, "reported_at": when + dt.timedelta(hours=i),
            "dispatched_at": when + dt.timedelta(hours=i, minutes=30),
            "closed_at": when + dt.timedelta(days=1, hours=i) if closed else None,
            "deadline": when + dt.timedelta(days=2), "status": "closed" if closed else "dispatched",
            "resolution_level": "村" if closed else None, "satisfaction": 3 if closed else None,
            "is_major": False, "handling_unit": HANDLING_UNITS[i % len(HANDLING_UNITS)],
            "description": DESCRIPTIONS[i % len(DESCRIPTIONS)], "citizen_name": NAMES[i % len(NAMES)],
            "citizen_phone": PHONES[i % len(PHONES)], "lon": None, "lat": None,
        })
    return pd.DataFrame(rows)


def plant(conn, grid: str, when: dt.datetime) -> None:
    """Insert the planted cases (no rollup refresh: callers that need the pages' figures refresh them)."""
    from data_access.schema import cases as cases_t
    from data_access.writes import derive_columns, insert_frame
    insert_frame(conn, cases_t, derive_columns(cases_frame(grid, when)))


def remove(conn) -> None:
    from sqlalchemy import text
    conn.execute(text("DELETE FROM cases WHERE id LIKE 'PLANT-%'"))


def leaks(blob: bytes | str) -> list[str]:
    """The secrets found in ``blob`` (bytes are read as UTF-8, GB18030 callers decode first)."""
    body = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [s for s in SECRETS if s in body]


def quarantine_csv(path, grid_ok: str) -> None:
    """A CSV with Chinese headers whose planted rows are all rejected (unknown grid): for the quarantine file."""
    rows = []
    for i, name in enumerate(NAMES):
        rows.append({"事件编号": f"PLANT-Q{i}", "事件类别": "矛盾纠纷", "事件来源": "网格员上报",
                     "网格编码": "331199999999999", "上报时间": "2026-10-01 09:00", "办理时限": "2026-10-05 09:00",
                     "状态": "处置中", "承办单位": HANDLING_UNITS[i], "事件描述": DESCRIPTIONS[i],
                     "群众姓名": name, "联系电话": PHONES[i]})
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
