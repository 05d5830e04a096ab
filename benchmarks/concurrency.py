"""Many sessions drilling at once against a real server: p95 rerun time and the server's memory.

    python -m benchmarks.concurrency --database-url sqlite:////work/bench/city2m.db --sessions 50 --minutes 5
    # as a command centre uses it: leaders tap every 5-15 s, two walls refresh every 60 s, 2 replicas behind nginx
    python -m benchmarks.concurrency --database-url … --sessions 50 --think-min 5 --think-max 15 --walls 2 --replicas 2

Starts ``streamlit run app.py`` (headless, its own port) on the given database, then opens N real
websocket sessions (Streamlit's own protocol: a BackMsg ``rerun_script`` with the URL's query string,
timed until the server's ``script_finished``). Each session taps through drill paths like a leader
on a tablet: city → a random county → a random township → a random village → back to the city.
The server's RSS is read from /proc/<pid>/status every few seconds. Sessions start spread over the first think
time (people do not tap in step). ``--walls``: sessions on the 大屏 page, rerun every ``--wall-refresh`` seconds
(a whole run of the wall page, a little more than its fragment's refresh). ``--replicas N``: ``deploy/run`` with N
replicas behind nginx, every session through nginx (new sessions go round-robin); RSS is the replicas' sum.

Memory under long use: ``--session-minutes M`` closes each leader's session after M minutes and opens a new one
(people come and go: a 30-minute run with M=5 opens and closes six sessions per leader), ``--rss-every S`` prints
the RSS and the reruns every S seconds (``--series FILE`` also writes them as CSV), and ``--after S`` keeps the
server up S seconds after the last session closed, sampling RSS: what closed sessions leave behind.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from sqlalchemy import text
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from data_access.engine import get_engine

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(url: str) -> dict[str, list[str]]:
    """parent code -> child codes, for city, counties and townships."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT code, parent_code, level FROM regions WHERE level IN ('county', 'township', 'village')")).all()
        root = conn.execute(text("SELECT code FROM regions WHERE level = 'city'")).scalar()
    kids: dict[str, list[str]] = {}
    for code, parent, _level in rows:
        kids.setdefault(parent, []).append(code)
    kids["root"] = [root]
    return kids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    # the sign-in mode too (benchmarks/__init__.py sets YIPING_AUTH=off): without it a database other than the
    # default one means local sign-in, and every session would measure the sign-in form instead of the pages
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "YIPING_AUTH": os.environ.get("YIPING_AUTH", "off")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_healthy(proc, port), port


def wait_healthy(proc: subprocess.Popen, port: int, seconds: float = 120, log: Path | None = None) -> subprocess.Popen:
    """Wait until the server on ``port`` answers /_stcore/health; kill it and stop if it never does."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start" + (": " + log.read_text()[-2000:] if log else ""))


async def rerun(ws, query: str, page: str = "") -> float:
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    t0 = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(await ws.recv())
        if fm.WhichOneof("type") == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return (time.perf_counter() - t0) * 1000  # (a run cut short by st.rerun() goes on)


async def session(port: int, kids: dict, seed: int, stop_at: float, times: list, errors: list, period: str,
                  think: tuple[float, float] = (0.5, 2.0), minutes: float = 0, stamps: list | None = None,
                  opened: list | None = None) -> None:
    """One leader tapping until ``stop_at``; ``minutes`` > 0: the session is closed after that long and a new one
    opened (another person, or the same tablet reloaded)."""
    rnd = random.Random(seed)
    root = kids["root"][0]
    first = True
    try:
        while time.time() < stop_at:
            until = min(stop_at, time.time() + minutes * 60) if minutes > 0 else stop_at
            async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                          max_size=2 ** 27, open_timeout=60) as ws:
                if opened is not None:
                    opened.append(time.time())
                await rerun(ws, f"region={root}&{period}")
                code = root
                if first:
                    await asyncio.sleep(rnd.uniform(0, think[1]))  # people do not tap in step
                    first = False
                while time.time() < until:
                    children = kids.get(code)
                    code = rnd.choice(children) if children else root
                    times.append(await rerun(ws, f"region={code}&{period}"))
                    if stamps is not None:
                        stamps.append(time.time())
                    await asyncio.sleep(rnd.uniform(*think))  # a person reads before the next tap
    except Exception as exc:  # noqa: BLE001 - the benchmark records and goes on
        errors.append(repr(exc))


async def wall(port: int, root: str, seed: int, stop_at: float, times: list, errors: list, end: str,
               refresh: float) -> None:
    """A wall on 大屏: the page run again every ``refresh`` seconds."""
    rnd = random.Random(seed)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=2 ** 27, open_timeout=60) as ws:
            query = f"region={root}&to={end}&refresh={int(refresh)}"
            await rerun(ws, query, "wall")
            await asyncio.sleep(rnd.uniform(0, refresh))
            while time.time() < stop_at:
                times.append(await rerun(ws, query, "wall"))
                await asyncio.sleep(max(0.0, min(refresh, stop_at - time.time())))
    except Exception as exc:  # noqa: BLE001
        errors.append(repr(exc))


def start_replicas(url: str, n: int) -> tuple[subprocess.Popen, int, list[int]]:
    """deploy/run with ``n`` replicas on a free port: (runner, nginx port, replica pids)."""
    import re
    import tempfile
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="concurrency-deploy-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "run"), "--replicas", str(n), "--port", str(port),
                                 "--host", "127.0.0.1"], cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while "serving on" not in log.read_text() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(0.5)
    pids = [int(x) for x in re.findall(r"replica r\d+ pid (\d+)", log.read_text())]
    if len(pids) != n:
        proc.kill()
        raise SystemExit("deploy/run did not start: " + log.read_text()[-2000:])
    return proc, port, pids


def pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


async def run(args) -> int:
    kids = tree(args.database_url)
    if args.replicas:
        proc, port, pids = start_replicas(args.database_url, args.replicas)
    else:
        proc, port = start_server(args.database_url)
        pids = [proc.pid]
    try:
        load0 = os.getloadavg()
        rss = [sum(rss_mb(p) for p in pids)]
        cpu0 = sum(cpu_seconds(p) for p in pids)
        times: list[float] = []
        wall_times: list[float] = []
        errors: list[str] = []
        stop_at = time.time() + args.minutes * 60
        period = f"from={args.start}&to={args.end}"
        stamps: list[float] = []
        opened: list[float] = []
        tasks = [asyncio.create_task(session(port, kids, i, stop_at, times, errors, period,
                                             (args.think_min, args.think_max), args.session_minutes, stamps, opened))
                 for i in range(args.sessions)]
        tasks += [asyncio.create_task(wall(port, kids["root"][0], 1000 + i, stop_at, wall_times, errors, args.end,
                                           args.wall_refresh)) for i in range(args.walls)]
        t0 = time.time()
        series = []  # (seconds since start, RSS MB, sessions opened so far, leader reruns so far, p95 of the interval)
        next_sample, seen = t0 + args.rss_every, 0

        def sample(now: float) -> None:
            nonlocal seen
            window = sorted(times[seen:len(stamps)])
            seen = len(stamps)
            series.append((now - t0, sum(rss_mb(p) for p in pids), len(opened), len(stamps),
                           pct(window, .95) if window else float("nan")))
            if args.rss_every < 10 ** 8:
                print(f"  {series[-1][0] / 60:5.1f} min  RSS {series[-1][1]:6.1f} MB  sessions opened "
                      f"{series[-1][2]:4d}  reruns {series[-1][3]:6d}  p95 {series[-1][4]:6.0f} ms", flush=True)

        while not all(t.done() for t in tasks):
            await asyncio.sleep(5)
            rss.append(sum(rss_mb(p) for p in pids))
            if time.time() >= next_sample:
                sample(time.time())
                next_sample += args.rss_every
        ordered = sorted(times)
        elapsed = time.time() - t0
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        after = []
        if args.after > 0:  # every session closed: what is left after the server's disconnected-session TTL
            end_all = time.time()
            sample(end_all)
            while time.time() - end_all < args.after:
                await asyncio.sleep(min(30, args.after))
                after.append((time.time() - end_all, sum(rss_mb(p) for p in pids)))
                print(f"  all sessions closed {after[-1][0]:4.0f} s ago: RSS {after[-1][1]:.1f} MB", flush=True)
        if args.series and series:
            with open(args.series, "w") as f:
                f.write("seconds,rss_mb,sessions_opened,reruns,p95_ms\n")
                for row in series:
                    f.write(",".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + "\n")
                for secs, mb in after:
                    f.write(f"{elapsed + secs:.1f},{mb:.1f},{len(opened)},{len(stamps)},\n")
        load1 = os.getloadavg()
        print(f"{args.sessions} sessions + {args.walls} walls, {args.minutes} min, think {args.think_min}-"
              f"{args.think_max} s, {args.replicas or 1} replica(s){' behind nginx' if args.replicas else ''}, "
              f"{args.database_url.split('://')[0]}; load average {load0[0]:.1f} at start, {load1[0]:.1f} at end")
        print(f"reruns: {len(ordered)} ({len(ordered) / elapsed:.1f}/s), errors: {len(errors)}; server CPU "
              f"{cpu:.0f} s ({cpu / elapsed:.2f} cores, {1000 * cpu / max(1, len(ordered) + len(wall_times)):.0f} ms a rerun)")
        if ordered:
            print(f"rerun ms (send -> script_finished): p50 {statistics.median(ordered):.0f}, "
                  f"p95 {pct(ordered, .95):.0f}, max {ordered[-1]:.0f}")
        if wall_times:
            w = sorted(wall_times)
            print(f"wall reruns: {len(w)}, p50 {statistics.median(w):.0f}, p95 {pct(w, .95):.0f} ms")
        print(f"server RSS MB: start {rss[0]:.0f}, peak {max(rss):.0f}, end {rss[-1]:.0f}"
              + (f"; {args.after:.0f} s after the last session closed {after[-1][1]:.0f}" if after else "")
              + (f"; sessions opened {len(opened)}" if args.session_minutes else ""))
        if errors:
            print("first errors:", errors[:3])
    finally:
        proc.terminate()
        proc.wait(30)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.concurrency")
    p.add_argument("--database-url", required=True)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--think-min", type=float, default=0.5, help="seconds a person reads before the next tap (min)")
    p.add_argument("--think-max", type=float, default=2.0, help="… (max)")
    p.add_argument("--walls", type=int, default=0, help="sessions on 大屏 besides the leaders")
    p.add_argument("--wall-refresh", type=float, default=60, help="seconds between a wall's reruns")
    p.add_argument("--replicas", type=int, default=0, help="N replicas behind nginx (deploy/run); 0: one plain server")
    p.add_argument("--session-minutes", type=float, default=0,
                   help="close each leader's session after this long and open a new one (0: one session each)")
    p.add_argument("--rss-every", type=float, default=10 ** 9, help="print RSS and reruns every this many seconds")
    p.add_argument("--series", help="write the RSS series as CSV here")
    p.add_argument("--after", type=float, default=0, help="seconds to keep sampling RSS after the last session closed")
    p.add_argument("--from", dest="start", default="2026-01-01")
    p.add_argument("--to", dest="end", default="2026-11-20")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
