"""First paint of the 总览 page: from a new browser tab to the KPI cards on screen, after the server is up.

    python -m benchmarks.first_paint --database-url sqlite:////work/bench/city2m.db [--runs 5] [--warm]

Starts ``streamlit run app.py`` on the database, waits for /_stcore/health, then opens the page in Debian's
chromium (playwright, offline flags): first several times as a new browser (a fresh context each: empty HTTP
cache; the very first run also meets the server's first script run: imports, migrations check, cold query
caches, unless ``--warm`` first calls the script health check, as a deployment's readiness probe does), then
several times as a returning browser (one context, static files cached, each visit a new Streamlit session).
Reports seconds until the first KPI card (``stMetric``) is painted (timed inside the page: the frame after it
enters the document), until the page answers a script again (playwright sees the card; without a GPU, deck.gl's
WebGL start-up holds the main thread for 1–2 s after the first paint), and until the page is finished: the script
done and no element still waiting for its JavaScript (deck.gl, the table …).
"""
from __future__ import annotations

import argparse
import statistics
import time
import urllib.request

from .concurrency import start_server
from .soak_wall import CHROMIUM, CHROMIUM_ARGS

READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
#: An element whose JavaScript is still loading (Streamlit's Suspense fallback).
SKELETON = '[data-testid="stSkeleton"]'


#: Runs in the page before Streamlit: when the first KPI card enters the document, note the time after the next
#: frame (a rAF callback runs just before the frame is painted; a task queued from it runs just after).
PAINT_PROBE = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-testid="stMetric"]')) {
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__kpiPainted = performance.now(); }, 0));
  }
}).observe(document, {subtree: true, childList: true});
"""


def _visit(ctx, url: str) -> tuple[float, float, float]:
    """Seconds from opening ``url`` in a new tab of ``ctx`` to: the first KPI card painted (measured in the page,
    from navigation start), the page answering a script again (playwright sees the card: the main thread is free
    of deck.gl's start-up), and the finished page."""
    page = ctx.new_page()
    page.add_init_script(PAINT_PROBE)
    t0 = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stMetric"]').first.wait_for(state="visible", timeout=120_000)
    responsive = time.perf_counter() - t0
    page.wait_for_function("() => window.__kpiPainted !== undefined", timeout=120_000)
    painted = page.evaluate("() => window.__kpiPainted") / 1000
    page.wait_for_selector(READY, timeout=120_000)
    page.wait_for_function(f"() => !document.querySelector('{SKELETON}')", timeout=120_000)
    done = time.perf_counter() - t0
    page.close()
    return painted, responsive, done


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.first_paint")
    p.add_argument("--database-url", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--query", default="region=331100000000&from=2026-01-01&to=2026-11-20")
    p.add_argument("--warm", action="store_true",
                   help="call /_stcore/script-health-check first, as a deployment's readiness probe does")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright
    proc, port = start_server(args.database_url)
    url = f"http://127.0.0.1:{port}/?{args.query}"
    if args.warm:
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/script-health-check", timeout=120) as r:
            answer = r.read().decode()
        print(f"script health check: {answer!r} after {time.perf_counter() - t0:.2f} s")
    results: dict[str, list[tuple[float, float, float]]] = {"new browser": [], "returning browser": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            options = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}
            # A new browser (empty HTTP cache: it downloads and parses ~10 MB of Streamlit's JavaScript,
            # deck.gl and plotly included), each run its own context; the first run is also the server's first.
            for _ in range(args.runs):
                ctx = browser.new_context(**options)
                results["new browser"].append(_visit(ctx, url))
                ctx.close()
            # A returning browser (the wall, a leader's tablet): one context, so the static files are cached;
            # every visit is still a new Streamlit session.
            ctx = browser.new_context(**options)
            _visit(ctx, url)
            for _ in range(args.runs):
                results["returning browser"].append(_visit(ctx, url))
            ctx.close()
            browser.close()
    finally:
        proc.terminate()
    def line(run: tuple[float, float, float]) -> str:
        return f"KPI cards painted {run[0]:.2f} s, responsive {run[1]:.2f} s, page finished {run[2]:.2f} s"

    for name, runs in results.items():
        for i, run in enumerate(runs):
            print(f"{name} run {i + 1}: {line(run)}")
    print(f"server's first visit (new browser): {line(results['new browser'][0])}")
    for name, runs in results.items():
        rest = (runs[1:] or runs) if name == "new browser" else runs
        print(f"{name}, median of {len(rest)}: {line(tuple(statistics.median(r[i] for r in rest) for i in range(3)))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
