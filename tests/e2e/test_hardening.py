"""Issue 14 in a real browser, on a small database with planted payloads (tests/planted.py), served by its own
streamlit server:

* every page at city, county and village level (and the wall and the import page): no element injected from the
  data (no href/src to the planted host), no request to it, plotly markup shown as text, and no planted personal
  data in any websocket frame the browser received or in any file it downloaded;
* crafted URLs (Markdown in ?region=, dates 0001/9999, unknown cat/src/status, ?refresh=inf): a message naming the
  parameter, never a traceback, nothing rendered;
* the database going away and coming back (PostgreSQL behind a small TCP proxy the test switches on and off): one
  sentence, no driver text or credentials, and the page recovers by itself.
"""
from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading

import pytest
from sqlalchemy import text

from data_access import meta, rollup
from data_access.engine import get_engine

from .. import planted
from .conftest import _free_port, need_chromium, open_app, recorded_page, serve, wait_ready

WHEN = dt.datetime(2026, 10, 20, 9)
PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}

#: Elements whose link or source attributes point at the planted host (an injected link, image, frame …).
INJECTED_JS = """host => Array.from(document.querySelectorAll('*')).filter(el =>
    ['href', 'src', 'srcset', 'xlink:href', 'action', 'formaction', 'poster', 'data', 'style']
      .some(a => (el.getAttribute(a) || '').includes(host))).map(el => el.outerHTML.slice(0, 160))"""
#: SVG text that shows the planted category without its tags: plotly (or the wall) read it as markup.
MARKUP_READ_JS = """() => Array.from(document.querySelectorAll('svg text, svg tspan')).filter(e =>
    e.textContent.includes('粗体类别') && !e.textContent.includes('<b>')).length"""


@pytest.fixture(scope="module")
def planted_chain(small_sqlite, tmp_path_factory):
    """A copy of the small city with planted cases and region names; (url, {level: code})."""
    need_chromium()
    path = tmp_path_factory.mktemp("planted") / "planted.db"
    shutil.copy(small_sqlite.url.database, path)
    engine = get_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        county = "331102000000"
        town = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{county}'")).scalar()
        village = conn.execute(text(f"SELECT MIN(code) FROM regions WHERE parent_code = '{town}'")).scalar()
        grid = conn.execute(text(f"SELECT MIN(code) FROM grids WHERE village_code = '{village}'")).scalar()
        for level, code in (("county", county), ("township", town), ("village", village)):
            conn.execute(text("UPDATE regions SET name = :n WHERE code = :c"), {"n": planted.REGION_NAMES[level], "c": code})
        conn.execute(text("UPDATE grids SET name = :n WHERE code = :c"), {"n": planted.REGION_NAMES["grid"], "c": grid})
        planted.plant(conn, grid, WHEN)
        rollup.refresh(conn, [202610])
        meta.bump_version(conn)
    engine.dispose()
    return f"sqlite:///{path}", {"city": "331100000000", "county": county, "township": town, "village": village}


@pytest.fixture(scope="module")
def planted_app(planted_chain, tmp_path_factory):
    url, chain = planted_chain
    log = tmp_path_factory.mktemp("planted_server") / "streamlit.log"
    imports = tmp_path_factory.mktemp("planted_imports")
    with serve(url, log, YIPING_IMPORT_DIR=str(imports)) as app:
        yield app, chain, imports


def _listen_frames(page) -> list[bytes]:
    frames: list[bytes] = []

    def on_ws(ws):
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode()))
    page.on("websocket", on_ws)
    return frames


def _check_page(page, what: str) -> None:
    assert page.evaluate(INJECTED_JS, planted.HOST) == [], what
    assert page.evaluate(MARKUP_READ_JS) == 0, what


@pytest.mark.slow
def test_planted_data_never_renders_or_leaks(browser, planted_app, tmp_path):
    app, chain, imports = planted_app
    # every level at least once, every page that draws data (CI time: one visit per page and level that matters)
    visits = [("", "city"), ("", "county"), ("map", "village"), ("cases", "village"), ("warnings", "county"),
              ("data", "village")]
    with recorded_page(browser, app, viewport={"width": 1600, "height": 1000}) as page:
        frames = _listen_frames(page)
        for path, level in visits:
            open_app(page, path, region=chain[level], **PERIOD)
            _check_page(page, f"{path or 'overview'} at {level}")
        assert page.get_by_text(planted.REGION_NAMES["village"]).count() > 0  # shown as the characters it is
        downloads = []
        for label in ("导出 Excel", "导出 CSV（UTF-8）", "导出 CSV（GB18030）"):
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name=label).click()
            downloads.append((label, open(info.value.path(), "rb").read()))
        open_app(page, "wall", region=chain["village"], to="2026-10-21")
        _check_page(page, "wall")
        src = tmp_path / "rejected.csv"
        planted.quarantine_csv(src, "")
        open_app(page, "import")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(src))  # the cases tab's
        page.get_by_role("button", name="开始导入").click()
        page.get_by_text("导入完成").wait_for(timeout=60_000)
        wait_ready(page)
        _check_page(page, "import")
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="下载隔离行（CSV，已脱敏）").click()
        downloads.append(("quarantine", open(info.value.path(), "rb").read()))

    received = b"".join(frames)
    assert len(frames) > 20 and "PLANT-".encode() in received  # the planted rows did reach the browser, masked
    assert planted.leaks(received) == []
    for label, body in downloads:
        import zipfile, io  # noqa: E401
        if body[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(body)) as z:
                body = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
        else:
            body = body.decode("gb18030" if "GB18030" in label else "utf-8-sig")
        assert "PLANT-" in body and planted.leaks(body) == [], label
    for written in imports.rglob("*.rejected.*.csv"):
        assert planted.leaks(written.read_bytes()) == [], written.name


CRAFTED = [  # (page, params, parameter names the messages must name)
    ("", {"region": planted.MARKUP["md_image"], "from": "9999-01-01", "cat": "不存在的类别"}, ["region", "from", "cat"]),
    ("map", {"region": planted.MARKUP["md_link"], "to": "9999-12-31", "src": planted.MARKUP["html_img"],
             "status": "done"}, ["region", "to", "src", "status"]),
    ("warnings", {"month": planted.MARKUP["md_image"], "from": "0001-01-01"}, ["month", "from"]),
    ("wall", {"refresh": "inf", "rotate": "nan", "regions": planted.MARKUP["md_link"], "cat": "x"},
     ["refresh", "rotate", "regions", "cat"]),
]


@pytest.mark.slow
def test_crafted_urls_are_named_never_rendered(browser, planted_app):
    app, _chain, _imports = planted_app
    with recorded_page(browser, app, viewport={"width": 1600, "height": 1000}) as page:
        for path, params, names in CRAFTED:
            open_app(page, path, **params)  # fails on a traceback (stException)
            _check_page(page, f"{path} {params}")
            body = page.locator('[data-testid="stMain"]').inner_text()
            for name in names:
                assert f"{name}=" in body or f"参数 {name} " in body, (path, name, body[:600])


class Proxy:
    """A TCP forwarder to PostgreSQL that the test switches off (connections refused, open ones cut) and on."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target, self.port = target, _free_port()
        self.server: socket.socket | None = None
        self.conns: list[socket.socket] = []

    def start(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(16)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            try:
                self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread; close() alone would not
            except OSError:
                pass
            self.server.close()
            self.server = None
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.conns.clear()

    def _accept(self, server) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass


SENTENCE = "数据库暂时无法连接，正在重试…"
DRIVER_WORDS = ("connection", "psycopg", "postgres", "s3cret", "127.0.0.1", "OperationalError", "Traceback")


@pytest.fixture
def empty_pg_url(pg_url):
    """A schema of its own, empty (pg_url's schema may hold another test's city by now)."""
    from sqlalchemy import create_engine
    from ..conftest import PG_URL, _pg_schema_url
    schema, url = _pg_schema_url()
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield url
    get_engine(url).dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.slow
def test_outage_is_one_sentence_and_recovers_by_itself(browser, empty_pg_url, tmp_path):
    proxy = Proxy()
    pg_url = empty_pg_url
    url = pg_url.replace("postgres@127.0.0.1:5432", f"postgres:s3cret@127.0.0.1:{proxy.port}")
    assert url != pg_url
    with serve(url, tmp_path / "streamlit.log") as app, \
            recorded_page(browser, app, viewport={"width": 1280, "height": 900}) as page:
        open_app(page, "")
        main = page.locator('[data-testid="stMain"]')
        assert SENTENCE in main.inner_text()
        body = page.locator("body").inner_text()
        assert not [w for w in DRIVER_WORDS if w in body], body[:500]
        proxy.start()  # the database comes back: the page runs again by itself (an empty database: the build offer)
        page.wait_for_function(f"() => !document.body.innerText.includes('{SENTENCE}')", timeout=30_000)
        wait_ready(page)
        assert "没有数据" in main.inner_text()
        proxy.stop()  # and goes away while the session is open
        page.reload()
        wait_ready(page)
        page.get_by_text(SENTENCE).wait_for(timeout=30_000)
        body = page.locator("body").inner_text()
        assert not [w for w in DRIVER_WORDS if w in body], body[:500]
    proxy.stop()
