"""Soak test of the wall display (大屏): does the server's memory stay flat over hundreds of refreshes?

    python -m benchmarks.soak_wall --refreshes 500 --refresh 2 --rotate 10 --every 50
    python -m benchmarks.soak_wall --minutes 30 --refresh 2            # by duration instead
    python -m benchmarks.soak_wall ... --write                          # also update "## Wall soak" in RESULTS.md

Starts ``streamlit run app.py`` on a free port (DATABASE_URL, default the app's own database), opens
``/wall?refresh=N`` in headless chromium (Debian's, offline flags) and counts refreshes by the wall's
fragment-run counter (``data-tick`` on its header), checking that the data stamp keeps changing and that no
error or stale notice appears. Writes down the server's resident memory (VmRSS from /proc/<pid>/status; psutil
is not needed) and the page's JS heap at the start, every ``--every`` refreshes, and at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic",
                 # a wall's tab is always in front: never throttle its timers
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding"]
HEADER = '[data-testid="wall-header"]'
SECTION = "## Wall soak"


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB, from /proc/<pid>/status (VmRSS, in kB)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M).group(1)) / 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str | None, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"streamlit did not start; see {log}")


def soak(args) -> dict:
    from playwright.sync_api import sync_playwright

    log = Path(args.log)
    proc, url = start_server(args.database_url, log)
    params = {"region": args.region, "refresh": args.refresh}
    if args.rotate:
        params["rotate"] = args.rotate
    if args.to:
        params["to"] = args.to
    wall_url = f"{url}/wall?{urllib.parse.urlencode(params)}"
    rows, errors, stale_seen = [], [], 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
            page.goto(wall_url)
            page.wait_for_selector(HEADER, timeout=120_000)
            page.evaluate("() => { window.__soakMarker = 1; }")

            def sample(label: str, tick: int) -> None:
                heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null")
                rows.append({"when": label, "refreshes": tick, "minutes": (time.time() - t0) / 60,
                             "rss": rss_mb(proc.pid), "heap": heap})
                print(f"{label:>8} refreshes={tick:5d} t={rows[-1]['minutes']:6.1f} min  server RSS={rows[-1]['rss']:7.1f} MB"
                      f"  page heap={heap or 0:6.1f} MB", flush=True)

            def tick_now() -> tuple[int, str, str]:
                return page.locator(HEADER).first.evaluate(
                    "e => [+e.dataset.tick, e.dataset.stale, (e.querySelector('[data-testid=wall-stamp]') || {}).textContent || '']")

            t0 = time.time()
            start_tick, _stale, _stamp = tick_now()
            sample("start", 0)
            next_mark, last_tick, stamps = args.every, start_tick, set()
            while True:
                time.sleep(0.5)
                tick, stale, stamp = tick_now()
                stale_seen += stale == "true"
                stamps.add(stamp)
                done = tick - start_tick
                if tick != last_tick:
                    last_tick = tick
                    if done >= next_mark:
                        sample(f"{done}", done)
                        next_mark += args.every
                elapsed = (time.time() - t0) / 60
                if (args.refreshes and done >= args.refreshes) or (args.minutes and elapsed >= args.minutes):
                    break
                if time.time() - t0 > 5 + 3 * args.refresh and done == 0:
                    raise SystemExit("the wall does not refresh")
            if rows[-1]["refreshes"] != done:
                sample("end", done)
            reloaded = page.evaluate("() => window.__soakMarker") != 1
            exceptions = page.locator('[data-testid="stException"]').count()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"rows": rows, "errors": errors, "stale": stale_seen, "reloaded": reloaded, "exceptions": exceptions,
            "stamps": len(stamps), "url": wall_url.replace(url, ""), "refreshes": rows[-1]["refreshes"],
            "minutes": rows[-1]["minutes"]}


def markdown(result: dict, command: str) -> str:
    rows = result["rows"]
    first, settled, last = rows[0], rows[min(2, len(rows) - 1)], rows[-1]
    out = [
        SECTION, "",
        f"Measured {dt.date.today()} on {platform.machine()} ({os.cpu_count()} cores), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; headless Debian chromium at 1920×1080.", "",
        "```bash", command, "```", "",
        f"Wall URL: `{result['url']}`. {result['refreshes']} refreshes in {result['minutes']:.1f} min; "
        f"{result['stamps']} distinct data stamps; page reloaded: {'yes' if result['reloaded'] else 'no'}; "
        f"error overlays: {result['exceptions']}; stale notices seen: {result['stale']}; "
        f"browser console errors: {len(result['errors'])}.", "",
        "| refreshes | minutes | server RSS (MB) | page JS heap (MB) |", "| ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        heap = f"{r['heap']:.1f}" if r["heap"] is not None else "—"
        out.append(f"| {r['refreshes']} | {r['minutes']:.1f} | {r['rss']:.1f} | {heap} |")
    out += ["", f"Server RSS: {first['rss']:.1f} MB at start, {settled['rss']:.1f} MB after {settled['refreshes']} "
                f"refreshes, {last['rss']:.1f} MB at the end ({last['rss'] - settled['rss']:+.1f} MB over the last "
                f"{last['refreshes'] - settled['refreshes']} refreshes).", ""]
    return "\n".join(out)


def write_section(text: str) -> None:
    """Replace (or append) the ``## Wall soak`` section of RESULTS.md, leaving other sections alone."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip() + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("\n" + old[nxt + 1:] if nxt >= 0 else "")
    RESULTS.write_text(new.rstrip() + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak_wall", description=__doc__.split("\n\n")[0])
    p.add_argument("--refreshes", type=int, default=500, help="stop after this many refreshes (0: no limit)")
    p.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (0: no limit)")
    p.add_argument("--refresh", type=int, default=2, help="?refresh= seconds")
    p.add_argument("--rotate", type=int, default=0, help="?rotate= seconds (0: no rotation)")
    p.add_argument("--region", default="331100000000")
    p.add_argument("--to", default=None, help="?to= date (the wall's 'today'), default today")
    p.add_argument("--every", type=int, default=50, help="sample memory every N refreshes")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--log", default="/tmp/soak_wall_streamlit.log")
    p.add_argument("--write", action="store_true", help="write the '## Wall soak' section of benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    if not args.refreshes and not args.minutes:
        p.error("give --refreshes or --minutes")
    result = soak(args)
    command = "python -m benchmarks.soak_wall " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = markdown(result, command)
    print()
    print(text)
    if result["errors"]:
        print("console errors:", result["errors"][:5])
    if args.write:
        write_section(text)
    return 0 if not (result["reloaded"] or result["exceptions"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
