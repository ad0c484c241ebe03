"""Every request the page makes goes to this service; the assets are small; the views work from the
keyboard and at a phone's width."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx

from service.dashboard import DASHBOARD_DIR
from tests.dashboard.seed import RANGE

VIEWS = ["overview", "events", "live", "costs", "performance", "users", "sessions", "keys"]


def test_every_request_of_every_view_goes_to_the_services_own_origin(browser, dashboard):
    origin = dashboard.server.url
    browser.drain_network()
    browser.sign_in(dashboard.workspace.admin_key, f"#/overview?ws={dashboard.workspace.slug}&{RANGE}")
    for view in VIEWS:
        browser.click(f"[data-nav={view}]")
        browser.find(f"main[data-view={view}]")
        browser.idle()
        if view == "live":
            browser.wait(lambda: browser.attribute("[data-status]", "data-status") == "open", "the live socket")
    urls = browser.drain_network()
    # data: URLs fetch nothing (Chromium's own date-picker icon is one).
    ours = (f"{origin}/", f"ws://127.0.0.1:{dashboard.server.port}/graphql", "data:")
    assert [u for u in urls if not u.startswith(ours)] == []
    assert {u for u in urls if "/dashboard/vendor/" in u} >= {
        f"{origin}/dashboard/vendor/{name}"
        for name in ("preact.mjs", "preact-hooks.mjs", "htm.mjs", "uPlot.esm.js", "uPlot.min.css")
    }
    assert f"ws://127.0.0.1:{dashboard.server.port}/graphql" in urls
    resources = browser.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(origin) for r in resources), resources


def test_the_page_and_its_assets_load_from_this_service_and_weigh_little(dashboard):
    page = httpx.get(f"{dashboard.server.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for reference in re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r'": "(/dashboard/[^"]+)"', page.text
    ):
        assert reference.startswith("/dashboard/") or reference == "/graphql", reference
        assert httpx.get(f"{dashboard.server.url}{reference}").status_code == 200, reference
    assert "http://" not in page.text and "https://" not in page.text
    assets = [p for p in Path(DASHBOARD_DIR).rglob("*") if p.suffix in {".js", ".mjs", ".css", ".html", ".svg"}]
    gzipped = sum(len(gzip.compress(p.read_bytes())) for p in assets)
    assert gzipped <= 300_000, f"{gzipped:,} bytes gzipped"


def test_the_page_preloads_every_module_at_once():
    """A module missing from the list still loads, import by import: slower, so the list must be whole."""
    page = (DASHBOARD_DIR / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/dashboard/([^"]+)">', page))
    modules = {str(p.relative_to(DASHBOARD_DIR)) for p in DASHBOARD_DIR.rglob("*") if p.suffix in {".js", ".mjs"}}
    assert preloaded == modules


def test_the_views_are_reachable_with_the_keyboard(browser, dashboard):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.sign_in(dashboard.read_key, f"#/overview?ws={dashboard.workspace.slug}&{RANGE}")
    browser.find("[data-stat=cost]")
    browser.idle()

    reached = []
    browser.driver.execute_script("document.activeElement.blur()")
    for _ in range(80):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        reached.append(
            browser.driver.execute_script(
                "const e = document.activeElement; return e.dataset.nav || e.name || e.textContent.trim().slice(0, 20)"
            )
        )
        if reached[-1] == "stack":
            break
    assert {"overview", "events", "live", "costs", "performance", "users", "sessions"} <= set(reached), reached
    assert {"range", "provider", "model", "task", "user", "tags", "stack"} <= set(reached), reached
    # Enter on a focused link opens its view.
    link = browser.find("[data-nav=events]")
    link.send_keys(Keys.ENTER)
    browser.find("main[data-view=events]")


def test_the_overview_fits_a_phones_width(browser, dashboard):
    browser.driver.set_window_size(390, 844)
    try:
        browser.sign_in(dashboard.read_key, f"#/overview?ws={dashboard.workspace.slug}&{RANGE}")
        browser.find("[data-stat=cost]")
        browser.idle()
        width = browser.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        assert browser.find("[data-nav=costs]").is_displayed()
        assert browser.stat("cost") == "0.00453"
        browser.screenshot("overview-phone")
    finally:
        browser.driver.set_window_size(1280, 1000)
