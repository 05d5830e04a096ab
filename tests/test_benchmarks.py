"""The benchmark commands keep working (on the small city): they are how RESULTS.md is reproduced."""
import datetime as dt
import re

from benchmarks import percall, run


def test_run_times_every_level_of_a_page_and_the_open_case_load(small_sqlite, capsys):
    path = small_sqlite.url.database
    assert run.main(["--sqlite", path, "--per-level", "1", "--repeat", "1", "--pages", "事件办结"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"loading [\d,]+ open cases takes \d+ ms", out)
    rows = [line for line in out.splitlines() if line.startswith("| 事件办结 |")]
    assert [r.split("|")[2].strip() for r in rows] == ["city", "county", "township", "village", "grid"]


def test_percall_lists_every_call_with_a_time(small_sqlite, capsys):
    assert percall.main([str(small_sqlite.url), "--runs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines[2:] if line.startswith("| ")]
    assert len(rows) == len(percall.calls("331100000000", dt.date(2026, 10, 31), dt.datetime(2026, 10, 31, 12)))
    assert all(re.fullmatch(r"\| .+ \| \d+\.\d \|", r) for r in rows), rows
