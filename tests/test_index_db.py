"""强基善治指数 and stars on the small sample city, on SQLite and PostgreSQL, against a hand computation from the
raw case rows; the yearly village table's import accounts for every row."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from analytics import village_index as av
from analytics.index_config import VILLAGE_COLUMNS, load_config
from data_access import village_index as vi
from data_access.importer import ImportFailed
from data_access.village_import import import_villages

YEAR = 2026
COUNTY = "331102000000"
AS_OF = dt.datetime(2026, 11, 1)  # the small city's data ends on 2026-10-31


def _evaluate(engine, region=COUNTY, cfg=None):
    cfg = cfg or load_config()
    with engine.connect() as conn:
        root = vi.group_root(region, cfg.group)
        return av.evaluate(vi.villages(conn, root), vi.village_table(conn, root, YEAR),
                           vi.case_counts(conn, root, YEAR, AS_OF), cfg), cfg


def _by_hand(engine) -> pd.DataFrame:
    """Every raw indicator of every village of the county, from plain rows (no aggregate SQL)."""
    with engine.connect() as conn:
        cases = pd.read_sql(text(
            "SELECT grid_code, category, resolution_level, is_major, reported_at, closed_at, deadline, satisfaction "
            "FROM cases WHERE grid_code LIKE '331102%'"), conn)
        vil = pd.read_sql(text("SELECT code, population FROM regions WHERE level = 'village' AND code LIKE '331102%' ORDER BY code"),
                          conn).set_index("code")
        tab = pd.read_sql(text(f"SELECT * FROM village_year WHERE year = {YEAR} AND village_code LIKE '331102%'"),
                          conn).set_index("village_code")
    cases = cases[pd.to_datetime(cases["reported_at"]).dt.year == YEAR].copy()
    cases["village"] = cases["grid_code"].str[:12]
    closed = cases["closed_at"].notna()
    cases["closed"] = closed
    cases["on_time"] = closed & (pd.to_datetime(cases["closed_at"]) <= pd.to_datetime(cases["deadline"]))
    cases["overdue"] = ~closed & (pd.to_datetime(cases["deadline"]) < AS_OF)
    not_due = closed & (pd.to_datetime(cases["deadline"]) > AS_OF)   # 应办结 = deadline passed, closed or not
    cases["closed_due"] = closed & ~not_due
    cases["on_time_due"] = cases["on_time"] & ~not_due
    cases["local"] = closed & cases["resolution_level"].isin(["村", "镇"])
    cases["rated"] = cases["satisfaction"].notna()
    cases["ok"] = cases["satisfaction"].isin([2, 3])
    cases["petition"] = cases["category"] == "信访诉求"
    g = cases.groupby("village")
    n = g.size().reindex(vil.index, fill_value=0)
    s = g[["closed", "on_time", "closed_due", "on_time_due", "overdue", "local", "rated", "ok", "petition"]].sum().reindex(vil.index, fill_value=0)
    pop = vil["population"].astype(float)
    out = pd.DataFrame(index=vil.index)
    out["collective_income"] = tab["collective_income"]
    out["income_growth"] = tab["income_growth"]
    out["incidence"] = n / pop * 10000
    due = s["closed_due"] + s["overdue"]
    out["closure"] = s["closed_due"] / due.where(due > 0)
    out["on_time"] = s["on_time_due"] / due.where(due > 0)
    out["petitions"] = s["petition"] / pop * 10000
    out["local"] = s["local"] / s["closed"].where(s["closed"] > 0)
    out["environment"] = tab["environment_score"]
    out["satisfaction"] = s["ok"] / s["rated"].where(s["rated"] > 0)
    out["linked"] = tab["linked_households"] / tab["households"]
    out["young_members"] = tab["young_members"] / tab["party_members"]
    out.attrs["cases"] = cases
    return out


def test_index_and_stars_of_two_villages_equal_a_hand_computation(small_db):
    engine, _ = small_db
    ev, cfg = _evaluate(engine)
    frame = ev.frame.set_index("code")
    hand = _by_hand(engine)
    assert frame.index.tolist() == hand.index.tolist()
    for key in hand.columns:  # every raw value of every village of the county
        np.testing.assert_allclose(frame[key].to_numpy(dtype=float), hand[key].to_numpy(dtype=float), rtol=1e-9)
    iw, dw = cfg.expert_weights()
    higher = {i.key: i.higher_better for i in cfg.indicators}
    star_rules = {r.name: r for r in cfg.stars}
    cases = hand.attrs["cases"]
    best = frame["index"].idxmax()
    for code in (frame.index[0], best):
        dims = {}
        for d in cfg.dimensions:
            parts = []
            for ind in d.indicators:
                col = hand[ind.key]
                lo, hi, x = col.min(), col.max(), col[code]
                if pd.isna(x):
                    continue
                score = 100 * ((x - lo) / (hi - lo) if higher[ind.key] else (hi - x) / (hi - lo))
                parts.append((iw[ind.key], score))
                assert frame.loc[code, f"s_{ind.key}"] == pytest.approx(score)
            dims[d.key] = sum(w * s for w, s in parts) / sum(w for w, _ in parts)
        index = sum(dw[k] * v for k, v in dims.items()) / sum(dw.values())
        assert frame.loc[code, "index"] == pytest.approx(index)
        # stars: count the cases each rule names, by hand
        mine = cases[cases["village"] == code]
        kept = 0
        for rule in star_rules.values():
            hit = mine["category"].isin(rule.categories)
            if rule.levels:
                hit &= mine["resolution_level"].isin(rule.levels)
            if rule.major:
                hit &= mine["is_major"].astype(bool)
            kept += int(hit.sum() <= rule.max)
            assert (rule.name in frame.loc[code, "missed"]) == (hit.sum() > rule.max)
        assert frame.loc[code, "stars"] == kept
    assert frame.loc[best, "rank"] == 1
    assert (frame["stars"] < frame["of"]).any()  # the sample has villages that missed a star, with reasons
    assert frame.loc[frame["stars"] < frame["of"], "reasons"].str.contains("件，超过").all()


def test_a_township_view_is_scored_within_its_whole_county(small_db):
    engine, _ = small_db
    county, _cfg = _evaluate(engine)
    town = county.frame["code"].iloc[0][:9] + "000"
    again, _cfg = _evaluate(engine, town)
    assert vi.group_root(town, "county") == COUNTY and vi.group_root("331100000000", "county") == "331100000000"
    pd.testing.assert_series_equal(county.frame["index"], again.frame["index"])


def test_parents_are_population_weighted_means_of_their_villages(small_db):
    engine, _ = small_db
    ev, cfg = _evaluate(engine)
    towns = av.parents(ev, cfg, "township")
    f = ev.frame
    code = f["code"].iloc[0][:9] + "000"
    mine = f[f["code"].str.startswith(code[:9]) & f["index"].notna()]
    assert towns.loc[code, "index"] == pytest.approx((mine["index"] * mine["population"]).sum() / mine["population"].sum())
    assert towns.loc[code, "villages"] == len(f[f["code"].str.startswith(code[:9])])


def test_sample_city_ships_a_plausible_village_table(small_db):
    engine, _ = small_db
    with engine.connect() as conn:
        tab = pd.read_sql(text("SELECT * FROM village_year"), conn)
        n_villages = conn.execute(text("SELECT COUNT(*) FROM regions WHERE level = 'village'")).scalar()
        assert vi.years(conn)[:2] == [2026, 2025]
    assert sorted(tab["year"].unique()) == [2025, 2026] and len(tab) == 2 * n_villages
    assert (tab["linked_households"] <= tab["households"]).all() and (tab["young_members"] <= tab["party_members"]).all()
    assert tab["environment_score"].between(50, 100).all() and (tab["collective_income"] > 0).all()


@pytest.fixture
def village_file(small_db, tmp_path):
    engine, _ = small_db
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT code FROM regions WHERE level = 'village' ORDER BY code LIMIT 3")).scalars().all()
    yield engine, codes, tmp_path
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM village_year WHERE year = 2090"))


def test_village_table_import_accounts_for_every_row(village_file):
    engine, codes, tmp = village_file
    headers = ["村（社区）代码", "年度", *VILLAGE_COLUMNS.values()]
    good = [codes[0], "2090", "120.5", "6.1", "88", "300", "250", "20", "5"]
    rows = [
        good,
        [codes[1], "2090年", "80", "-1.5", "", "200", "150", "12", "3"],
        ["999999999999", "2090", "1", "1", "1", "1", "1", "1", "1"],                 # unknown village
        [codes[2], "2090", "abc", "1", "1", "1", "1", "1", "1"],                      # not a number
        [codes[2], "2090", "10", "1", "1", "100", "200", "1", "1"],                   # more linked than households
        [codes[2], "1899", "10", "1", "1", "1", "1", "1", "1"],                       # bad year
    ]
    path = tmp / "村社年度表.csv"
    pd.DataFrame(rows, columns=headers).to_csv(path, index=False, encoding="gb18030")
    r = import_villages(engine, path)
    assert (r.read, r.inserted, r.updated, r.unchanged, r.rejected) == (6, 2, 0, 0, 4)
    rejected = pd.read_csv(r.quarantine, dtype=str)
    assert rejected["错误原因"].tolist() == ["村（社区）代码不存在（须为 12 位村级区划代码）",
                                        "村级集体经济经营性收入（万元） 不是数字", "党员联系户数多于户数",
                                        "年度无效（应为 2000—2100 的整数）"]
    assert rejected["行号"].tolist() == ["4", "5", "6", "7"]
    # again, one value changed, one row the same: updated + unchanged; the empty cell stayed empty, not zero
    rows2 = [good[:2] + ["130"] + good[3:], rows[1]]
    path2 = tmp / "村社年度表2.xlsx"
    pd.DataFrame(rows2, columns=headers).to_excel(path2, index=False)
    r2 = import_villages(engine, path2)
    assert (r2.read, r2.inserted, r2.updated, r2.unchanged, r2.rejected, r2.quarantine) == (2, 0, 1, 1, 0, None)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT village_code, collective_income, income_growth, environment_score "
                                "FROM village_year WHERE year = 2090 ORDER BY village_code")).all()
    assert [tuple(g) for g in got] == [(codes[0], 130.0, 6.1, 88.0), (codes[1], 80.0, -1.5, None)]


def test_village_table_without_its_key_columns_is_refused(village_file):
    engine, _codes, tmp = village_file
    path = tmp / "bad.csv"
    pd.DataFrame({"村名": ["甲村"], "党员人数": ["3"]}).to_csv(path, index=False)
    with pytest.raises(ImportFailed, match="缺少必填列：村（社区）代码、年度"):
        import_villages(engine, path)


def test_the_index_benchmark_command_runs(small_sqlite, capsys):
    from benchmarks import index_bench
    assert index_bench.main([small_sqlite.url.render_as_string(hide_password=False), "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert all(f"| {name} |" in out for name in ("city", "county", "township"))


def test_a_township_user_sees_only_their_villages_ranked_within_the_county(small_db):
    """Scope: the county's comparison group is computed, but only the user's villages leave data_access, with their
    county-wide ranks; another township, the county or no scope gives nothing (OutsideScope)."""
    from data_access.scope import NOBODY, OutsideScope, Scope
    engine, _ = small_db
    ev, _cfg = _evaluate(engine)
    towns = sorted(ev.frame["code"].str[:9].unique())
    mine, other = towns[0].ljust(12, "0"), towns[1].ljust(12, "0")
    user = Scope("town-viewer", "viewer", mine)
    seen = vi.restrict(ev, mine, user)
    expected = ev.frame[ev.frame["code"].str.startswith(towns[0])]
    assert seen.frame["code"].tolist() == expected["code"].tolist() and len(seen.frame) > 0
    assert seen.frame["rank"].tolist() == expected["rank"].tolist()  # ranks within the whole county
    for outside in (other, COUNTY):
        with pytest.raises(OutsideScope):
            vi.restrict(ev, outside, user)
    with pytest.raises(OutsideScope):
        vi.restrict(ev, COUNTY, NOBODY)
