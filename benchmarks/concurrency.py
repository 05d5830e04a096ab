"""Many sessions drilling at once against a real server: p95 rerun time and the server's memory.

    python -m benchmarks.concurrency --database-url sqlite:////work/bench/city2m.db --sessions 50 --minutes 5

Starts ``streamlit run app.py`` (headless, its own port) on the given database, then opens N real
websocket sessions (Streamlit's own protocol: a BackMsg ``rerun_script`` with the URL's query string,
timed until the server's ``script_finished``). Each session taps through drill paths like a leader
on a tablet: city → a random county → a random township → a random village → back to the city.
The server's RSS is read from /proc/<pid>/status every few seconds.
"""
from __future__ import annotations

import argparse
import asyncio
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
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
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


async def rerun(ws, query: str) -> float:
    msg = BackMsg()
    msg.rerun_script.query_string = query
    t0 = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(await ws.recv())
        if fm.WhichOneof("type") == "script_finished":
            return (time.perf_counter() - t0) * 1000


async def session(port: int, kids: dict, seed: int, stop_at: float, times: list, errors: list, period: str,
                  think: tuple[float, float] = (0.5, 2.0)) -> None:
    rnd = random.Random(seed)
    root = kids["root"][0]
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=2 ** 27, open_timeout=60) as ws:
            await rerun(ws, f"region={root}&{period}")
            code = root
            while time.time() < stop_at:
                children = kids.get(code)
                code = rnd.choice(children) if children else root
                times.append(await rerun(ws, f"region={code}&{period}"))
                await asyncio.sleep(rnd.uniform(*think))  # a person reads before the next tap
    except Exception as exc:  # noqa: BLE001 - the benchmark records and goes on
        errors.append(repr(exc))


async def run(args) -> int:
    kids = tree(args.database_url)
    proc, port = start_server(args.database_url)
    try:
        rss = [rss_mb(proc.pid)]
        times: list[float] = []
        errors: list[str] = []
        stop_at = time.time() + args.minutes * 60
        period = f"from={args.start}&to={args.end}"
        tasks = [asyncio.create_task(session(port, kids, i, stop_at, times, errors, period,
                                                     (args.think_min, args.think_max))) for i in range(args.sessions)]
        t0 = time.time()
        while not all(t.done() for t in tasks):
            await asyncio.sleep(5)
            rss.append(rss_mb(proc.pid))
        ordered = sorted(times)
        elapsed = time.time() - t0
        p95 = ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1)))] if ordered else float("nan")
        print(f"{args.sessions} sessions, {args.minutes} min, think {args.think_min}-{args.think_max} s, "
              f"{args.database_url.split('://')[0]}")
        print(f"reruns: {len(ordered)} ({len(ordered) / elapsed:.1f}/s), errors: {len(errors)}")
        if ordered:
            print(f"rerun ms (send -> script_finished): p50 {statistics.median(ordered):.0f}, p95 {p95:.0f}, max {ordered[-1]:.0f}")
        print(f"server RSS MB: start {rss[0]:.0f}, peak {max(rss):.0f}, end {rss[-1]:.0f}")
        if errors:
            print("first errors:", errors[:3])
    finally:
        proc.terminate()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.concurrency")
    p.add_argument("--database-url", required=True)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--think-min", type=float, default=0.5, help="seconds a person reads before the next tap (min)")
    p.add_argument("--think-max", type=float, default=2.0, help="… (max)")
    p.add_argument("--from", dest="start", default="2026-01-01")
    p.add_argument("--to", dest="end", default="2026-11-20")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
