"""Real-browser fixtures: the app served headless on a free port, Debian's chromium via playwright.

- ``app_url``: ``streamlit run app.py`` on the small sample database, stopped after the session;
- ``browser``: chromium from /usr/bin (never downloaded), offline-safe flags;
- ``page``: a fresh page that records every request and console error; after each test it fails
  on any request to a host other than the app's, and on console errors;
- ``open_app(page, path, **params)``: go to a page and wait until the script has finished running;
- ``shoot(page, name)``: a full-content screenshot in artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ..conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(db_url: str, log: Path, *, args: tuple[str, ...] = (), port: int | None = None, **env):
    """``streamlit run app.py`` headless on a free port (or ``port``) for ``db_url``, with extra command-line
    ``args``; yields its URL once healthy, then stops it."""
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1", **env}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--browser.serverAddress", "localhost",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", *args]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"streamlit did not become healthy; log:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")


@pytest.fixture(scope="session")
def app_url(small_sqlite, tmp_path_factory):
    need_chromium()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    # Sign-in off for the page tests (a non-default database would otherwise ask for it); tests/e2e/test_auth.py
    # starts its own server with YIPING_AUTH=local.
    with serve(str(small_sqlite.url), log, YIPING_IMPORT_DIR=str(tmp_path_factory.mktemp("imports")),
               YIPING_AUTH="off") as url:
        yield url


@contextlib.contextmanager
def launch_browser():
    """Debian's chromium through playwright, with the offline-safe flags."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def chromium():
    """One chromium for the whole session (playwright's sync API allows one driver per process)."""
    need_chromium()
    with launch_browser() as b:
        yield b


@pytest.fixture(scope="module")
def local_url(request, small_sqlite, tmp_path_factory):
    """A server on the same database with local sign-in (YIPING_AUTH=local), one per test module: the sign-in
    walk and the 督办 walk each get their own (sharing one broke the 督办 walk after the sign-in walk)."""
    need_chromium()
    log = tmp_path_factory.mktemp(f"local-{request.module.__name__.rsplit('.', 1)[-1]}") / "streamlit.log"
    with serve(str(small_sqlite.url), log, YIPING_AUTH="local") as url:
        yield url


@pytest.fixture(scope="session")
def browser(app_url, chromium):
    return chromium


class Recorder:
    """Every request and console error a page made."""

    def __init__(self, app_url: str):
        self.app_host = urllib.parse.urlsplit(app_url).netloc
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.expected_404 = 0

    #: Opening a page by its path (/map, /wall …) makes Streamlit's frontend probe /<page>/_stcore/health and
    #: /_stcore/host-config while it discovers its base URL; those two 404s are expected, nothing else is.
    BASE_PROBES = ("/_stcore/health", "/_stcore/host-config")

    def response(self, r) -> None:
        if r.status < 400:
            return
        path = urllib.parse.urlsplit(r.url).path
        if r.status == 404 and path.endswith(self.BASE_PROBES) and not path.startswith("/_stcore"):
            self.expected_404 += 1
            return
        self.console_errors.append(f"HTTP {r.status} {r.url}")

    def errors(self) -> list[str]:
        """Console errors, less the browser's own line for each expected base-URL probe."""
        out, skip = [], self.expected_404
        for msg in self.console_errors:
            if skip and msg.startswith("Failed to load resource") and "404" in msg:
                skip -= 1
                continue
            out.append(msg)
        return out

    def outside(self) -> list[str]:
        bad = []
        for url in self.requests:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.netloc != self.app_host:
                bad.append(url)
        return bad


@pytest.fixture
def viewport():
    return {"width": 1920, "height": 1080}


@contextlib.contextmanager
def recorded_page(browser, app_url: str, **context):
    """A fresh page recording every request and console error; on exit it fails on requests to another host
    and on console errors. ``context``: playwright's new_context options (viewport, has_touch …)."""
    ctx = browser.new_context(**{"locale": "zh-CN", "accept_downloads": True, **context})
    pg = ctx.new_page()
    rec = Recorder(app_url)
    pg.on("request", lambda r: rec.requests.append(r.url))
    pg.on("console", lambda m: rec.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: rec.console_errors.append(str(e)))
    pg.on("response", rec.response)
    pg.recorder = rec
    pg.app_url = app_url
    yield pg
    ctx.close()
    assert rec.outside() == [], f"requests left the server: {rec.outside()[:5]}"
    assert rec.errors() == [], f"browser console errors: {rec.errors()[:5]}"


@pytest.fixture
def page(browser, app_url, viewport):
    with recorded_page(browser, app_url, viewport=viewport) as pg:
        yield pg


def open_app(page, path: str = "", timeout: float = 60_000, **params) -> None:
    """Open ``/path?params`` and wait until Streamlit has finished running the script."""
    query = urllib.parse.urlencode(params)
    page.goto(f"{page.app_url}/{path}" + (f"?{query}" if query else ""))
    wait_ready(page, timeout)


#: Streamlit shows this placeholder while an element's JavaScript (deck.gl, plotly, the metric …) still loads;
#: the script can be finished ("notRunning") while some are still on screen.
SKELETON = '[data-testid="stSkeleton"]'


def wait_ready(page, timeout: float = 60_000) -> None:
    """The script has finished and every element is drawn (no loading placeholder left)."""
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_function(f"() => !document.querySelector('{SKELETON}')", timeout=timeout)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator('[data-testid="stException"]').first.inner_text()


def metric(page, label: str) -> str:
    """The value of the KPI card labelled exactly ``label`` (办结率 must not find 按期办结率)."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$"))).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def shoot(page, name: str) -> Path:
    """A screenshot of the whole content (the viewport grown to the content's height first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('[data-testid=\"stMain\"], section.main, "
        "[data-testid=\"stAppViewContainer\"]')).map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 8000))})
    page.wait_for_timeout(300)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


@pytest.fixture(scope="session", autouse=True)
def _clean_shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    yield


def tap_bar(page, chart, label) -> None:
    """Tap the bar of a horizontal plotly bar ``chart`` in the row of the y-axis label matching ``label`` (a
    regex). A bar may begin left of the plot (an axis that starts near the lowest value), so the tap goes to the
    middle of its visible part."""
    chart.locator(".barlayer .point").first.wait_for(timeout=20000)
    tick = chart.locator(".yaxislayer-above .ytick text").filter(has_text=label).first.bounding_box()
    row_y = tick["y"] + tick["height"] / 2
    bars = [b for b in (p.bounding_box() for p in chart.locator(".barlayer .point path").all()) if b]
    bar = min(bars, key=lambda b: abs(b["y"] + b["height"] / 2 - row_y))
    assert abs(bar["y"] + bar["height"] / 2 - row_y) < bar["height"]
    plot = chart.locator(".nsewdrag").first.bounding_box()
    left, right = max(bar["x"], plot["x"]), min(bar["x"] + bar["width"], plot["x"] + plot["width"])
    assert right - left > 4, (bar, plot)
    page.mouse.click((left + right) / 2, bar["y"] + bar["height"] / 2)
