"""The overview shows exactly what usageAnalytics answers for the seeded events; the filter bar changes the
figures and the URL, and a reload of that URL shows the same view."""

from __future__ import annotations

import json

from tests.dashboard.seed import CALLS, COST, FROM, RANGE, TO, TOKENS

ANALYTICS = """query($filter: UsageFilter!) { usageAnalytics(filter: $filter, compareTo: PREVIOUS_PERIOD) {
  totals { calls totalTokens costUsd errorRate p95DurationMs } change { costUsd calls }
  byModel { key metrics { costUsd } } } }"""


def overview(browser, dashboard, query=""):
    browser.sign_in(dashboard.read_key, f"#/overview?ws={dashboard.workspace.slug}&{RANGE}{query}")
    browser.find("[data-stat=cost]")
    browser.idle()


def test_the_overview_shows_the_figures_of_the_seeded_events(browser, dashboard):
    overview(browser, dashboard)
    api = dashboard.data(ANALYTICS, filter={"workspaceId": dashboard.workspace.slug, "from": FROM, "to": TO})[
        "usageAnalytics"
    ]
    assert (browser.stat("calls"), browser.stat("tokens"), browser.stat("cost")) == (CALLS, TOKENS, COST)
    assert (str(api["totals"]["calls"]), str(api["totals"]["totalTokens"]), api["totals"]["costUsd"]) == (
        CALLS,
        TOKENS,
        COST,
    )
    assert browser.text("[data-stat=cost] .stat-value") == "$0.00453"
    assert float(browser.stat("error-rate")) == api["totals"]["errorRate"] == 0.25
    assert float(browser.stat("p95-latency")) == api["totals"]["p95DurationMs"]
    assert float(browser.attribute("[data-stat=cost] [data-change]", "data-change")) == api["change"]["costUsd"]
    assert browser.text("[data-stat=cost] [data-change]").startswith("+29.4%")  # 0.00453 against 0.0035
    # cached share: 1,000 cached of 3,000 prompt tokens
    assert browser.text("[data-stat=cache-hits] .stat-value") == "33.3%"
    assert browser.table("top-models", "key", "text") == [g["key"] for g in api["byModel"]]
    assert browser.table("top-models", "cost") == [g["metrics"]["costUsd"] for g in api["byModel"]]
    assert browser.table("top-users", "key", "text") == ["alice", "bob", "carol"]


def test_the_charts_draw_one_series_per_provider_over_hourly_buckets_in_the_browsers_time_zone(browser, dashboard):
    overview(browser, dashboard)
    cost = browser.find("figure[data-chart=cost]")
    assert (cost.get_attribute("data-series"), cost.get_attribute("data-points")) == ("3", "48")  # 2 days, hourly
    assert sorted(json.loads(cost.get_attribute("data-labels"))) == ["acme", "anthropic", "openai"]
    assert browser.find_all("figure[data-chart=cost] canvas"), "uPlot drew nothing"
    # The bucket of 09:00 UTC (r-1, "0.0035" on openai) starts at 11:00 in Paris (summer time).
    rows = browser.find_all("table[data-table=cost-data] tbody tr")
    assert len(rows) == 48
    labels = json.loads(cost.get_attribute("data-labels"))
    openai = labels.index("openai")
    cells = rows[9].find_elements("css selector", "td")
    assert "11:00:00" in cells[0].get_attribute("textContent")
    assert cells[1 + openai].get_attribute("data-value") == "0.0035"
    calls = browser.find("figure[data-chart=calls]")
    assert (calls.get_attribute("data-series"), calls.get_attribute("data-points")) == ("3", "48")
    browser.choose("select[name=stack]", "model")
    browser.wait(lambda: browser.attribute("figure[data-chart=cost]", "data-series") == "4", "one series per model")
    assert "stack=model" in browser.hash()


def test_a_filter_changes_the_figures_and_the_url_and_a_reload_restores_them(browser, dashboard):
    overview(browser, dashboard)
    browser.type("form[data-filter-bar] input[name=model]", "gpt-4o")
    browser.click("form[data-filter-bar] button[type=submit]")
    browser.wait(lambda: browser.stat("calls") == "1", "the filtered calls")
    assert browser.stat("cost") == "0.0035"
    assert browser.stat("tokens") == "1100"
    assert "model=gpt-4o" in browser.hash() and "from=2025-06-10" in browser.hash()
    browser.driver.refresh()
    browser.find("[data-stat=cost]")
    browser.idle()
    assert (browser.stat("calls"), browser.stat("cost")) == ("1", "0.0035")
    assert browser.attribute("form[data-filter-bar] input[name=model]", "value") == "gpt-4o"
    # A preset replaces the custom range: nothing of 2025 is in the last 24 hours.
    browser.choose("select[name=range]", "24h")
    browser.wait(lambda: browser.stat("calls") == "0", "the last 24 hours")
    assert "range=24h" in browser.hash() and "from=" not in browser.hash()


def test_tags_and_user_filters_narrow_the_figures(browser, dashboard):
    overview(browser, dashboard, "&tags=feature:chat")
    assert (browser.stat("calls"), browser.stat("cost")) == ("1", "0.00094")
    overview(browser, dashboard, "&user=alice")
    assert (browser.stat("calls"), browser.stat("cost")) == ("2", "0.00359")
