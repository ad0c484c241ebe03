"""The dashboard in a real browser at 1M events: the overview's first load and a switch of its time range.

    .venv/bin/python bench/dashboard.py          (BENCH_EVENTS=1000000, BENCH_RUNS=10 by default)
    BENCH_DATA_DIR=/tmp/dashboard-bench .venv/bin/python bench/dashboard.py    (seed once, reuse after)

Seeds the events with bench/analytics.py's generator (COPY, 100 workspaces, the largest ~23%), serves them
with `llm-usage serve`, and drives headless Chromium (selenium, Debian's chromium-driver) on the largest
workspace's overview over 30 days. Measured with the browser's Performance API:
- first load: navigation start to the `llm-usage:overview-ready` mark (every panel painted: headline figures,
  both charts, the three tables), with the key already in the tab's session; target ≤ 1 s;
- switching the time range (30 days → the 7 days before its end, and back): from the change of the URL to
  the next mark; target ≤ 300 ms;
- the static assets the page loaded, gzipped as served; target ≤ 300 KB.
Also saves docs/dashboard-overview.png, the README's opening screenshot.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from harness import wait_until_up

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.analytics import EVENTS, WINDOW, seeded_database
from tests.dashboard.browser import Browser, missing_browser

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
PORT = int(os.environ.get("BENCH_PORT", "8767"))
ROOT = Path(__file__).resolve().parents[1]
READY = "llm-usage:overview-ready"
PANELS = "llm-usage:overview-panels"  # every panel but the p95 latency (the one figure the rollups cannot give)


def iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def hash_for(start: Any, end: Any) -> str:
    return f"#/overview?ws=w0&from={iso(start)}&to={iso(end)}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ready_marks(browser: Browser, name: str = READY) -> list[float]:
    marks: list[float] = browser.driver.execute_script(
        f"return performance.getEntriesByName('{name}').map(m => m.startTime)"
    )
    return marks


def first_load(browser: Browser, key: str, url_hash: str) -> tuple[float, float]:
    """Milliseconds from navigation start to the overview painted (every panel; all but p95), signed in."""
    browser.driver.get(f"{browser.base_url}/dashboard/favicon.svg")
    browser.driver.execute_script("sessionStorage.setItem('llm-usage.apiKey', arguments[0])", key)
    browser.driver.get(f"{browser.base_url}/{url_hash}")
    marks = browser.wait(lambda: ready_marks(browser), "the overview painted", timeout=60)
    return marks[0], ready_marks(browser, PANELS)[0]


def switch(browser: Browser, url_hash: str) -> tuple[float, float]:
    """Milliseconds from a change of the URL's time range to the overview painted again (every panel; all but p95)."""
    before = len(ready_marks(browser))
    panels_before = len(ready_marks(browser, PANELS))
    started = browser.driver.execute_script(
        "const t = performance.now(); location.hash = arguments[0]; return t;", url_hash
    )
    marks = browser.wait(lambda: (m := ready_marks(browser)) and len(m) > before and m, "the new range painted", 60)
    panels = ready_marks(browser, PANELS)[panels_before:]
    return marks[-1] - started, panels[0] - started


def served_gzip_bytes(browser: Browser) -> tuple[int, int]:
    """(bytes on the wire, files) of the page and its static assets, asked for with Accept-Encoding: gzip."""
    names: list[str] = browser.driver.execute_script(
        "return [location.origin + '/', ...performance.getEntriesByType('resource').map(e => e.name)]"
    )
    assets = sorted({n for n in names if "/graphql" not in n and "/export/" not in n})
    total = 0
    for name in assets:
        total += httpx.get(name, headers={"Accept-Encoding": "gzip"}).num_bytes_downloaded
    return total, len(assets)


def main() -> None:
    reason = missing_browser()
    if reason:
        raise SystemExit(f"bench/dashboard.py needs the browser: {reason}")
    dsn, key = seeded_database("llm-usage-bench-dashboard-")  # a READ key of w0, the largest workspace
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT)],
        env={**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "warning", "LLM_USAGE_MAX_EVENT_AGE_DAYS": "3650"},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    browser = None
    try:
        wait_until_up(f"{base}/healthz")
        browser = Browser(base, Path(tempfile.mkdtemp(prefix="bench-downloads-")))
        month = hash_for(*WINDOW)
        week = hash_for(WINDOW[1] - timedelta(days=7), WINDOW[1])
        first_load(browser, key, month)  # warm the server's caches and the browser's module cache once
        loads = [first_load(browser, key, month) for _ in range(RUNS)]
        to_week, to_month = [], []
        for _ in range(RUNS):
            to_week.append(switch(browser, week))
            to_month.append(switch(browser, month))
        calls = browser.attribute("[data-stat=calls]", "data-value")
        points = browser.attribute("figure[data-chart=cost]", "data-points")
        series = browser.attribute("figure[data-chart=cost]", "data-series")
        browser.driver.set_window_size(1280, 1000)
        time.sleep(0.3)
        browser.screenshot("bench-overview").replace(ROOT / "docs" / "dashboard-overview.png")
        wire, files = served_gzip_bytes(browser)
        print(
            f"{EVENTS:,} events; overview of the largest workspace, 30 days: {int(calls):,} calls, {series} series x {points} days"
        )
        print(f"{'(ms, p50 / p95 of ' + str(RUNS) + ' runs)':44s} every panel    all but p95   targets")
        for name, samples, target in (
            ("first load (navigation -> painted)", loads, "<= 1,000"),
            ("switch 30 days -> 7 days", to_week, "<= 300"),
            ("switch 7 days -> 30 days", to_month, "<= 300"),
        ):
            every, panels = percentiles([s[0] for s in samples]), percentiles([s[1] for s in samples])
            print(f"{name:44s} {every[0]:5.0f} / {every[1]:5.0f}  {panels[0]:5.0f} / {panels[1]:5.0f}  {target}")
        print(f"static assets: {wire / 1000:.1f} KB gzipped on the wire, {files} files (target <= 300 KB)")
        print(
            f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; screenshot: docs/dashboard-overview.png"
        )
    finally:
        if browser is not None:
            browser.quit()
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
