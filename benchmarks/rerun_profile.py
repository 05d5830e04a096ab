"""Where a rerun's server time goes, page by page: each script run timed, then profiled, inside a real server.

    python -m benchmarks.rerun_profile --database-url sqlite:////tmp/i17_default.db [--pages 总览 地图钻取] [--taps 16]

Starts ``streamlit run app.py`` in a child process whose one call that executes the script
(``script_runner.exec_func_with_error_handling``) is wrapped: every pass of the script is timed there (wall and
the script thread's CPU) and, in the profiled round, run under cProfile. One real websocket session (as in
``benchmarks/concurrency.py``) then taps: what is measured is the script thread's own work per tap — queries or
cache hits, pandas, the deck JSON, the Arrow of a table, the protobuf of every element. Not included: sending the
messages (the server's event loop), and the browser.

For each page the session taps a drill path (city → a county → a township → a village → the city …, seeded):
every tap changes the View (the URL's ``region``), like a tap on the map, a table row or the breadcrumb; then the
same path again, so each page has a *new view* round (its data read from the database: the first person to open
that view this minute) and a *revisit* round (every query a cache hit, as for everyone after the first). A third,
profiled round (the profiler roughly doubles Python's time) gives where the time goes: the cumulative share of
each drawing function and Streamlit element, as ms of the unprofiled revisit p50. One tap is every script pass it
causes (a ``st.rerun()`` inside the run is a second pass of the same tap).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"总览": "overview", "地图钻取": "map", "事件办结": "cases", "三色预警": "warnings", "数据查询导出": "data",
         "大屏": "wall"}


class ScriptClock:
    """In the server process: times every pass of the script, and profiles it while ``<dir>/profile`` names a page.

    Each pass appends ``{"wall": s, "cpu": s}`` to ``<dir>/passes.jsonl``; a profiled pass adds its stats to
    ``<dir>/<page>.prof``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.profiles: dict[str, cProfile.Profile] = {}

    def install(self) -> None:
        from streamlit.runtime.scriptrunner import script_runner
        original = script_runner.exec_func_with_error_handling
        flag = self.folder / "profile"

        def timed(func, ctx):
            page = flag.read_text().strip() if flag.exists() else ""
            prof = self.profiles.setdefault(page, cProfile.Profile()) if page else None
            t0, c0 = time.perf_counter(), time.thread_time()
            if prof is not None:
                prof.enable()
            try:
                return original(func, ctx)
            finally:
                if prof is not None:
                    prof.disable()
                wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
                if prof is not None:
                    prof.dump_stats(str(self.folder / f"{page}.prof"))
                with open(self.folder / "passes.jsonl", "a") as f:
                    f.write(json.dumps({"wall": wall, "cpu": cpu}) + "\n")
        script_runner.exec_func_with_error_handling = timed


def serve(folder: str, port: int) -> None:
    """The child: ``streamlit run app.py`` in this process, with the clock installed."""
    ScriptClock(Path(folder)).install()
    from streamlit.web import cli
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--browser.gatherUsageStats",
                "false", "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType",
                "none"]
    cli.main()


def drill_path(url: str, taps: int, seed: int) -> list[str]:
    from benchmarks.concurrency import tree
    kids = tree(url)
    rnd = random.Random(seed)
    root = kids["root"][0]
    out, code = [], root
    while len(out) < taps:
        children = kids.get(code)
        code = rnd.choice(children) if children else root
        out.append(code)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


#: Where time is attributed: project code and Streamlit's element commands (the rest is their callees).
def _interesting(filename: str) -> bool:
    return (filename.startswith(str(ROOT)) and "/benchmarks/" not in filename) or "/streamlit/elements/" in filename


def _label(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    if filename.startswith(str(ROOT)):
        return f"{Path(filename).relative_to(ROOT).with_suffix('')}.{name}".replace("/", ".")
    return f"st.{Path(filename).stem}.{name}"


def attribution(stats: pstats.Stats, runs: int, top: int) -> list[tuple[str, float, float]]:
    """(function, cumulative ms per run under the profiler, share of a whole run) for the top functions."""
    raw = stats.stats  # func -> (cc, nc, tt, ct, callers)
    total = max((ct for _cc, _nc, _tt, ct, _c in raw.values()), default=1e-9)  # the script itself
    rows = [(_label(func), ct * 1000 / runs, ct / total) for func, (_cc, _nc, _tt, ct, _c) in raw.items()
            if _interesting(func[0]) and func[2] not in ("<module>", "<lambda>", "<genexpr>", "<listcomp>")]
    rows.sort(key=lambda r: -r[1])
    return rows[:top]


class Session:
    """One websocket session on the instrumented server; ``tap`` returns the script's (wall, cpu) ms of one tap."""

    def __init__(self, ws, folder: Path):
        self.ws, self.folder, self.seen = ws, folder, 0

    deck_id = ""  # the map's widget id in the last run (for a tap on it)

    async def tap(self, page: str, query: str, pick: str | None = None) -> tuple[float, float]:
        """A rerun with ``query`` as the URL; ``pick``: instead, a tap on region ``pick`` in the map (the selection
        the browser sends as the deck's widget state), the URL staying that of the view on screen."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = "" if page == "overview" else page
        if pick is not None and self.deck_id:
            w = msg.rerun_script.widget_states.widgets.add()
            w.id = self.deck_id
            selection = {"selection": {"indices": {"children": [0]},
                                       "objects": {"children": [{"properties": {"code": pick}}]}}}
            w.json_value = json.dumps(json.dumps(selection))  # the browser sends it as a JSON string, in JSON
        await self.ws.send(msg.SerializeToString())
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                if el.WhichOneof("type") == "deck_gl_json_chart":
                    self.deck_id = el.deck_gl_json_chart.id
                if el.WhichOneof("type") == "exception":
                    raise SystemExit(f"{page} {query} {pick}: the script raised (see the server log)")
            if kind == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                break  # a run cut short by st.rerun() is followed by the rest of the same tap
        await asyncio.sleep(0.05)  # the server writes the pass record just after script_finished
        lines = (self.folder / "passes.jsonl").read_text().splitlines()
        new, self.seen = lines[self.seen:], len(lines)
        passes = [json.loads(x) for x in new]
        return sum(p["wall"] for p in passes) * 1000, sum(p["cpu"] for p in passes) * 1000


async def run_page(name: str, path: list[str], args, port: int, folder: Path, fresh: list[str] | None = None) -> dict:
    """The rounds of one page; ``fresh``: the profiled round walks this other path (views not opened yet: where a
    *new view* goes) instead of the same path again (where a revisit goes)."""
    import websockets
    page = PAGES[name]
    period = f"from={args.start}&to={args.end}"
    rounds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=2 ** 27, open_timeout=60) as ws:
        s = Session(ws, folder)
        await s.tap(page, f"region={path[-1]}&{period}")
        names = ["new view", "revisit", "profiled"] + (["map tap"] if page in ("overview", "map") else [])
        for round_name in names:
            if round_name == "profiled":
                (folder / "profile").write_text(page)
            here = path[-1]
            walk = fresh if round_name == "profiled" and fresh else path
            for code in walk:
                if round_name == "map tap":  # the same path by taps on the map: views are warm, as in "revisit"
                    wall, c = await s.tap(page, f"region={here}&{period}", pick=code)
                else:
                    wall, c = await s.tap(page, f"region={code}&{period}")
                here = code
                rounds.setdefault(round_name, []).append(wall)
                cpu.setdefault(round_name, []).append(c)
            (folder / "profile").unlink(missing_ok=True)
    await asyncio.sleep(0.2)
    prof = pstats.Stats(str(folder / f"{page}.prof"))
    return {"rounds": rounds, "cpu": cpu, "top": attribution(prof, len(path), args.top)}


def start_server(folder: Path) -> tuple[subprocess.Popen, int]:
    from benchmarks.concurrency import free_port, wait_healthy
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.rerun_profile", "--serve", str(folder), str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "wb"))
    return wait_healthy(proc, port, 240, folder / "server.log"), port


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(argv[1], int(argv[2]))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.rerun_profile")
    p.add_argument("--database-url", required=True)
    p.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES))
    p.add_argument("--taps", type=int, default=16, help="views per round (drill path length)")
    p.add_argument("--top", type=int, default=18, help="functions listed per page")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile-new", action="store_true",
                   help="profile views not opened yet (another drill path) instead of revisits")
    p.add_argument("--from", dest="start", default="2026-01-01")
    p.add_argument("--to", dest="end", default="2026-11-20")
    args = p.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="rerun-profile-"))
    (folder / "passes.jsonl").write_text("")
    path = drill_path(args.database_url, args.taps, args.seed)
    fresh = drill_path(args.database_url, args.taps, args.seed + 1000) if args.profile_new else None
    proc, port = start_server(folder)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average: {load}; {args.taps} taps per round; {args.database_url.split('://')[0]}")
    print("\n| page | new view p50 / p95 ms | CPU p50 ms | revisit p50 / p95 ms | CPU p50 ms "
          "| map tap p50 / p95 ms | CPU p50 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    details = {}
    try:
        for name in args.pages:
            res = asyncio.run(run_page(name, path, args, port, folder, fresh))
            details[name] = res
            new, again = res["rounds"]["new view"], res["rounds"]["revisit"]
            cpu = {k: statistics.median(v) for k, v in res["cpu"].items()}
            tap = res["rounds"].get("map tap")
            taps = f"{statistics.median(tap):.0f} / {pct(tap, .95):.0f} | {cpu['map tap']:.0f}" if tap else "— | —"
            print(f"| {name} | {statistics.median(new):.0f} / {pct(new, .95):.0f} | {cpu['new view']:.0f} | "
                  f"{statistics.median(again):.0f} / {pct(again, .95):.0f} | {cpu['revisit']:.0f} | {taps} |",
                  flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    for name, res in details.items():
        base = statistics.median(res["rounds"]["revisit"])
        prof_ms = statistics.median(res["rounds"]["profiled"])
        if fresh:
            base = statistics.median(res["rounds"]["new view"])
        what = "a new view's" if fresh else "a revisit's"
        print(f"\n{name}: where {what} {base:.0f} ms go (profiled run {prof_ms:.0f} ms; cumulative, nested)")
        print("| function | share of the run | ≈ ms of the unprofiled run |")
        print("| --- | ---: | ---: |")
        for label, _ms, share in res["top"]:
            print(f"| `{label}` | {share:.0%} | {share * base:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
