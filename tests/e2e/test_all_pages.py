"""Every page at city, county and village level, at wall and tablet size: renders without an exception
or console error, requests nothing from other hosts (the ``page`` fixture), names the region, and leaves a
screenshot in artifacts/screenshots/ for people to look at."""
import pytest

from data_access import queries

from .conftest import open_app, shoot, wait_ready

PAGES = ["overview", "map", "cases", "warnings", "data", "wall"]
VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080}, "1024x768": {"width": 1024, "height": 768}}


@pytest.fixture(scope="module")
def levels(small_sqlite):
    with small_sqlite.connect() as conn:
        county = "331127000000"
        town = queries.children(conn, county)["code"].iloc[0]
        village = queries.children(conn, town)["code"].iloc[0]
        names = {c: queries.region(conn, c)["name"] for c in ("331100000000", county, village)}
    return {"city": "331100000000", "county": county, "village": village}, names


@pytest.mark.slow
@pytest.mark.parametrize("level", ["city", "county", "village"])
@pytest.mark.parametrize("name", PAGES)
def test_page(page, levels, name, level):
    """Opened at 1920×1080, then the same session resized to 1024×768 (the layout is the browser's: one page load
    checks both sizes, which keeps the browser tests under 10 minutes)."""
    codes, names = levels
    code = codes[level]
    open_app(page, "" if name == "overview" else name, region=code, **{"from": "2026-01-01", "to": "2026-10-31"})
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        wait_ready(page)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert names[code] in body, f"{names[code]} not on the {name} page at {size}"
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0, \
            page.locator('[data-testid="stAlertContentError"]').first.inner_text()
        shoot(page, f"{name}_{level}_{size}")
