"""The case list (data_access.case_list) against the raw rows, on SQLite and PostgreSQL: filters, count,
paging, names, free text with LIKE wildcards in the search string, overdue only, streaming chunks."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from data_access import case_list
from data_access.case_list import BadFilter, CaseQuery
from data_access.codes import code_range
from data_access.schema import cases as cases_t
from data_access.view import View
from data_access.writes import derive_columns, insert_frame

from .conftest import AS_OF

CITY, COUNTY = "331100000000", "331127000000"
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 10, 31))


def raw(engine, view: View) -> pd.DataFrame:
    """Every case of the view's subtree and period, filtered in pandas, newest first."""
    lo, hi = code_range(view.region)
    with engine.connect() as conn:
        df = pd.read_sql(text("SELECT * FROM cases WHERE grid_code >= :lo AND grid_code < :hi"), conn,
                         params={"lo": lo, "hi": hi})
    for c in ("reported_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c], format="ISO8601")
    day = df["reported_at"].dt.normalize()
    df = df[(day >= pd.Timestamp(view.date_from)) & (day <= pd.Timestamp(view.date_to))]
    for col, values in (("category", view.categories), ("source", view.sources), ("status", view.statuses)):
        if values:
            df = df[df[col].isin(values)]
    return df.sort_values(["reported_at", "id"], ascending=False).reset_index(drop=True)


def overdue(df: pd.DataFrame) -> pd.Series:
    return df["closed_at"].isna() & (df["deadline"] < pd.Timestamp(AS_OF))


def codes(engine):
    with engine.connect() as conn:
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{COUNTY}'")).scalar()
        village = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{town}'")).scalar()
    return town, village


VIEWS = {
    "city, year": lambda t, v: View(CITY, *YEAR),
    "city, partial months": lambda t, v: View(CITY, dt.date(2025, 12, 17), dt.date(2026, 3, 9)),
    "county, sources, partial": lambda t, v: View(COUNTY, dt.date(2026, 2, 3), dt.date(2026, 5, 20),
                                                  sources=("12345热线", "网格员上报")),
    "county, one month": lambda t, v: View(COUNTY, dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    "county, categories": lambda t, v: View(COUNTY, *YEAR, categories=("安全隐患", "治安")),
    "city, source + status": lambda t, v: View(CITY, *YEAR, sources=("12345热线",), statuses=("dispatched", "reopened")),
    "township": lambda t, v: View(t, *YEAR),
    "village, whole sample": lambda t, v: View(v, dt.date(2025, 1, 1), dt.date(2026, 10, 31)),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_count_and_first_page_match_raw_rows(small_db, name):
    engine, _ = small_db
    view = VIEWS[name](*codes(engine))
    want = raw(engine, view)
    q = CaseQuery(view, AS_OF)
    with engine.connect() as conn:
        assert case_list.count(conn, q) == len(want) > 0
        first = case_list.page(conn, q, 0, 50)
    assert list(first["id"]) == list(want["id"][:50])
    assert list(first.columns) == list(case_list.COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(first["reported_at"])
    assert list(first["reported_at"]) == list(want["reported_at"][:50])
    assert list(first["overdue"]) == list(overdue(want)[:50])


def test_pages_cover_every_row_once_in_order(small_db):
    engine, _ = small_db
    town, _ = codes(engine)
    view = View(town, *YEAR)
    want = raw(engine, view)
    q = CaseQuery(view, AS_OF)
    got = []
    with engine.connect() as conn:
        for offset in range(0, len(want) + 300, 300):
            got += list(case_list.page(conn, q, offset, 300)["id"])
        assert case_list.page(conn, q, len(want), 300).empty
    assert got == list(want["id"])


def test_page_size_is_capped(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        assert len(case_list.page(conn, CaseQuery(View(CITY, *YEAR), AS_OF), 0, 10**6)) == case_list.MAX_PAGE_ROWS
        with pytest.raises(BadFilter, match="分页"):
            case_list.page(conn, CaseQuery(View(CITY, *YEAR), AS_OF), -1, 10)


def test_names_are_joined_from_regions_and_grids(small_db):
    engine, _ = small_db
    q = CaseQuery(View(COUNTY, *YEAR), AS_OF)
    with engine.connect() as conn:
        df = case_list.page(conn, q, 0, 200)
        regions = dict(conn.execute(text("SELECT code, name FROM regions")).all())
        grids = dict(conn.execute(text("SELECT code, name FROM grids")).all())
    assert (df["county_name"] == regions[COUNTY]).all()
    assert list(df["township_name"]) == [regions[c[:9] + "000"] for c in df["grid_code"]]
    assert list(df["village_name"]) == [regions[c[:12]] for c in df["grid_code"]]
    assert list(df["grid_name"]) == [grids[c] for c in df["grid_code"]]


def test_overdue_only(small_db):
    engine, _ = small_db
    view = View(CITY, *YEAR, categories=("矛盾纠纷",))
    want = raw(engine, view)
    want = want[overdue(want)]
    q = CaseQuery(view, AS_OF, overdue_only=True)
    with engine.connect() as conn:
        assert case_list.count(conn, q) == len(want) > 0
        rows = pd.concat(case_list.iter_chunks(conn, q, chunk_rows=100))
    assert list(rows["id"]) == list(want["id"]) and rows["overdue"].all()
    assert rows["closed_at"].isna().all()


def test_regions_restrict_to_those_subtrees(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        kids = [r[0] for r in conn.execute(text(f"SELECT code FROM regions WHERE parent_code = '{COUNTY}' ORDER BY code"))]
        view = View(COUNTY, *YEAR)
        some = tuple(kids[:2])
        want = raw(engine, view)
        want = want[want["grid_code"].str[:9].isin([k[:9] for k in some])]
        assert case_list.count(conn, CaseQuery(view, AS_OF, regions=some)) == len(want) > 0
        assert case_list.count(conn, CaseQuery(view, AS_OF, regions=())) == 0  # a colour no child has
        assert case_list.page(conn, CaseQuery(view, AS_OF, regions=()), 0, 10).empty


# --- free text: LIKE wildcards in the search string are literal ---

TEXTS = {
    "TXT-1": "满意度 100% 已回访",
    "TXT-2": "满意度 1000 已回访",
    "TXT-3": "编号 a_b 的井盖",
    "TXT-4": "编号 axb 的井盖",
    "TXT-5": "路径 C:\\temp\\x 的文件",
    "TXT-6": "Electric BIKE 充电",
}


@pytest.fixture
def text_cases(small_db):
    engine, _ = small_db
    with engine.begin() as conn:
        grid = conn.execute(text("SELECT MIN(code) FROM grids WHERE code >= '331127' AND code < '331128'")).scalar()
        rows = [{"id": cid, "category": "民生服务", "source": "12345热线", "grid_code": grid,
                 "reported_at": dt.datetime(2026, 6, 1, 9, i), "closed_at": None,
                 "deadline": dt.datetime(2026, 6, 8), "status": "dispatched", "is_major": False,
                 "description": desc} for i, (cid, desc) in enumerate(TEXTS.items())]
        insert_frame(conn, cases_t, derive_columns(pd.DataFrame(rows)))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id LIKE 'TXT-%'"))


@pytest.mark.parametrize("search, ids", [
    ("100%", {"TXT-1"}),            # % is a percent sign, not "anything"
    ("%", {"TXT-1"}),
    ("a_b", {"TXT-3"}),             # _ is an underscore, not "one character"
    ("_", {"TXT-3"}),
    ("C:\\temp", {"TXT-5"}),        # the escape character itself
    ("\\", {"TXT-5"}),
    ("bike", {"TXT-6"}),            # ASCII case does not matter
    ("electric 充电", {"TXT-6"}),    # every word must occur
    ("满意度 已回访", {"TXT-1", "TXT-2"}),
    ("满意度 井盖", set()),
])
def test_text_search_is_literal(text_cases, search, ids):
    view = View(COUNTY, dt.date(2026, 6, 1), dt.date(2026, 6, 1), categories=("民生服务",), sources=("12345热线",))
    q = CaseQuery(view, AS_OF, text=search)
    with text_cases.connect() as conn:
        got = set(case_list.page(conn, q, 0, 100)["id"]) & set(TEXTS)
        n = case_list.count(conn, q)
        all_ids = set(case_list.page(conn, q, 0, 100)["id"])
    assert got == ids
    assert n == len(all_ids)  # count and rows agree whatever the other cases of that day


def test_text_matches_pandas_on_sample_data(small_db):
    engine, _ = small_db
    view = View(CITY, *YEAR)
    want = raw(engine, view)
    want = want[want["description"].fillna("").str.contains("消防通道", regex=False)]
    with engine.connect() as conn:
        assert case_list.count(conn, CaseQuery(view, AS_OF, text=" 消防通道 ")) == len(want) > 0


def test_chunks_are_bounded_and_complete(small_db):
    engine, _ = small_db
    q = CaseQuery(View(COUNTY, *YEAR), AS_OF)
    with engine.connect() as conn:
        sizes = [len(c) for c in case_list.iter_chunks(conn, q, chunk_rows=500)]
        n = case_list.count(conn, q)
    assert max(sizes) <= 500 and sum(sizes) == n and len(sizes) == -(-n // 500)


def test_bad_filters_are_clear_chinese_errors():
    view = View(CITY, *YEAR)
    with pytest.raises(BadFilter, match="搜索内容过长"):
        CaseQuery(view, AS_OF, text="长" * (case_list.MAX_TEXT + 1))
    with pytest.raises(BadFilter, match="区划代码"):
        CaseQuery(view, AS_OF, regions=("33112x",))


def test_like_pattern_escapes():
    assert case_list.like_pattern("10%_a\\B") == "%10\\%\\_a\\\\b%"
