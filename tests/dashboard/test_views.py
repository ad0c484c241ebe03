"""Each view renders the seeded events: its tables and charts read from the page equal the API's answers."""

from __future__ import annotations

import csv
import json
import time

import pytest

from modules.usage.rollups.latency import bucket_of, representative
from tests.dashboard.seed import FROM, RANGE, RECOST_FROM, RECOST_TO, TO


def view(browser, dashboard, path, query="", key=None):
    browser.sign_in(key or dashboard.read_key, f"#/{path}?ws={dashboard.workspace.slug}&{RANGE}{query}")
    browser.find(f"main[data-view={path.split('/')[0]}]")
    browser.idle()


def test_events_lists_every_seeded_event_newest_first_a_page_at_a_time(browser, dashboard):
    view(browser, dashboard, "events", "&size=3")
    assert browser.attribute("[data-total]", "data-total") == "4"
    assert browser.table("events", "cost") == ["", "0.00009", "0.00094"]  # r-4 (unpriced), r-3, r-2
    assert browser.table("events", "model", "text") == ["mystery-1", "gpt-4o-mini", "claude-3-5-haiku-latest"]
    browser.click(".pager button:last-child")
    browser.wait(lambda: browser.table("events", "cost") == ["0.0035"], "the second page")
    assert "after=" in browser.hash()
    browser.click(".pager button:first-child")
    browser.wait(lambda: len(browser.table("events", "cost")) == 3, "the first page again")
    browser.click("table[data-table=events] tbody tr[data-row='0'] td[data-col=details] button")
    details = browser.text("[data-event-details]")
    assert "requestIdr-4" in details and "costSourceUNKNOWN_MODEL" in details


def test_events_export_downloads_the_filter_on_screen(browser, dashboard):
    view(browser, dashboard, "events", "&model=gpt-4o")
    assert browser.attribute("[data-total]", "data-total") == "1"
    for format, suffix in (("CSV", ".csv"), ("JSONL", ".jsonl")):
        browser.click(f"button[data-export={format}]")
        name = browser.wait(lambda: browser.attribute("[data-exported]", "data-exported"), "the download")
        assert name.endswith(suffix) and dashboard.workspace.slug in name
        path = browser.downloads / name
        browser.wait(lambda path=path: path.exists() and path.stat().st_size > 0, f"{path} written")
        time.sleep(0.2)
        text = path.read_text()
        if format == "CSV":
            rows = list(csv.DictReader(text.splitlines()))
            assert [(r["requestId"], r["costUsd"]) for r in rows] == [("r-1", "0.0035")]
        else:
            lines = [json.loads(line) for line in text.splitlines()]
            assert [(line["requestId"], line["costUsd"]) for line in lines] == [("r-1", "0.0035")]


def test_costs_groups_by_two_dimensions_with_the_apis_figures(browser, dashboard):
    view(browser, dashboard, "costs", "&by=PROVIDER&then=MODEL")
    api = dashboard.data(
        "query($f: UsageFilter!) { usage(filter: $f, groupBy: [PROVIDER, MODEL], limit: 50) { groups { dimensions { value } metrics { costUsd calls } } } }",
        f={"workspaceId": dashboard.workspace.slug, "from": FROM, "to": TO},
    )["usage"]["groups"]
    pairs = list(
        zip(
            browser.table("breakdown", "dim-0", "text"),
            browser.table("breakdown", "dim-1", "text"),
            browser.table("breakdown", "cost"),
            strict=True,
        )
    )
    assert pairs == [(g["dimensions"][0]["value"], g["dimensions"][1]["value"], g["metrics"]["costUsd"]) for g in api]
    assert pairs[0] == ("openai", "gpt-4o", "0.0035")
    assert browser.table("unpriced", "model", "text") == ["mystery-1"]
    assert browser.find_all("table[data-table=unpriced] button") == []  # READ: no price form
    browser.choose("select[name=then]", "")
    browser.choose("select[name=by]", "TAG")
    browser.type("input[name=tagKey]", "feature")
    browser.click("form.toolbar button[type=submit]")
    browser.wait(lambda: browser.table("breakdown", "dim-0", "text") == ["search", "chat", "none"], "the tag groups")
    assert browser.table("breakdown", "cost") == ["0.0035", "0.00094", "0.00009"]


def test_setting_a_price_recosts_the_stored_events_and_the_cost_updates(browser, dashboard):
    browser.sign_in(
        dashboard.workspace.admin_key, f"#/costs?ws={dashboard.workspace.slug}&from={RECOST_FROM}&to={RECOST_TO}"
    )
    browser.find("table[data-table=unpriced]")
    browser.idle()
    assert browser.table("breakdown", "cost") == ["0"]
    browser.click("table[data-table=unpriced] button")
    browser.type("[data-price-form] input[name=inputPerMillion]", "1")
    browser.type("[data-price-form] input[name=outputPerMillion]", "2")
    browser.click("[data-price-form] button[type=submit]")
    assert browser.wait(lambda: browser.attribute("[data-recost]", "data-recost"), "the re-cost") == "1"
    browser.wait(lambda: browser.table("breakdown", "cost") == ["2"], "the new cost")  # 1M x $1 + 0.5M x $2
    assert browser.text("table[data-table=breakdown] td[data-col=cost]") == "$2.00"
    totals = dashboard.data(
        "query($f: UsageFilter!) { usageAnalytics(filter: $f) { totals { costUsd unpricedCalls } } }",
        f={"workspaceId": dashboard.workspace.slug, "from": RECOST_FROM, "to": RECOST_TO},
    )["usageAnalytics"]["totals"]
    assert totals == {"costUsd": "2", "unpricedCalls": 0}


def test_performance_shows_latency_per_model_and_over_time(browser, dashboard):
    view(browser, dashboard, "performance")
    assert browser.table("performance", "model", "text") == [
        "mystery-1",
        "gpt-4o",
        "claude-3-5-haiku-latest",
        "gpt-4o-mini",
    ]
    # Whole UTC days: from the latency histograms, each call's bucket representative (within 2% of it).
    histogram = [representative(bucket_of(ms)) for ms in (2000, 1200, 800, 400)]
    assert [float(v) for v in browser.table("performance", "p95")] == histogram
    assert histogram == pytest.approx([2000, 1200, 800, 400], rel=0.02)
    ttft = [representative(bucket_of(ms)) for ms in (300, 200)]
    assert [float(v) for v in browser.table("performance", "ttft-p95")[1:3]] == ttft
    assert browser.table("performance", "retries") == ["0", "0", "0", "2"]  # r-3's retryCount: 2
    assert browser.table("performance", "retries", "text") == ["0", "0", "0", "2"]
    chart = browser.find("figure[data-chart=latency]")
    assert (chart.get_attribute("data-series"), chart.get_attribute("data-points")) == ("4", "48")
    # Retries over time, hourly (from the events): r-3's 2 in 11 June 08:00, the 33rd hour of the range.
    retries = [
        cell.get_attribute("data-value")
        for cell in browser.find_all("table[data-table=throughput-data] td[data-col='2']")
    ]
    assert len(retries) == 48 and retries[32] == "2" and set(retries[:32] + retries[33:]) == {"0"}


def test_users_and_one_users_page(browser, dashboard):
    view(browser, dashboard, "users")
    assert browser.table("users", "user", "text") == ["alice", "bob", "carol"]
    assert browser.table("users", "cost") == ["0.00359", "0.00094", "0"]
    browser.click("table[data-table=users] td[data-col=user] a")
    browser.find("[data-user=alice]")
    browser.idle()
    assert (browser.stat("calls"), browser.stat("cost")) == ("2", "0.00359")
    assert browser.table("user-models", "cost") == ["0.0035", "0.00009"]
    assert browser.table("user-events", "model", "text") == ["gpt-4o-mini", "gpt-4o"]


def test_sessions_and_one_sessions_timeline_which_can_be_completed(browser, dashboard):
    view(browser, dashboard, "sessions", key=dashboard.workspace.admin_key)
    assert browser.stat("sessions") == "1"
    assert browser.table("sessions", "cost") == ["0.00444"]
    browser.click("table[data-table=sessions] td[data-col=id] a")
    browser.find("[data-session=sess-1]")
    browser.idle()
    assert browser.table("session-events", "model", "text") == ["gpt-4o", "claude-3-5-haiku-latest"]  # in time order
    browser.click("[data-complete-session]")
    browser.wait(lambda: "completed" in browser.text("[data-session=sess-1] .badge"), "the session completed")
    assert browser.find_all("[data-complete-session]") == []


def test_an_admin_creates_edits_and_pauses_a_budget(browser, dashboard):
    view(browser, dashboard, "costs", key=dashboard.workspace.admin_key)
    browser.wait(lambda: browser.find_all("section[aria-label=Budgets] .toolbar button"), "the New budget button")
    browser.click("section[aria-label=Budgets] .toolbar button")
    form = "[data-budget-form=new]"
    browser.type(f"{form} input[name=name]", "Mini models")
    browser.type(f"{form} input[name=limitUsd]", "10")
    browser.choose(f"{form} select[name=scope]", "MODEL")
    browser.type(f"{form} input[name=scopeValue]", "gpt-4o-mini")
    browser.click(f"{form} button[type=submit]")
    assert browser.text("[data-webhook-secret]")  # shown once
    browser.wait(lambda: browser.table("budgets", "name", "text") == ["Mini models"], "the new budget")
    budget = dashboard.data(
        "query($ws: ID!) { budgets(workspaceId: $ws) { id limitUsd scope scopeValue spentUsd } }",
        ws=dashboard.workspace.slug,
    )["budgets"]
    assert [(b["limitUsd"], b["scope"], b["scopeValue"], b["spentUsd"]) for b in budget] == [
        ("10", "MODEL", "gpt-4o-mini", "0")
    ]
    try:
        assert browser.table("budgets", "spent") == ["0"]
        browser.click(f"[data-edit-budget='{budget[0]['id']}']")
        browser.type(f"[data-budget-form='{budget[0]['id']}'] input[name=limitUsd]", "20")
        browser.click(f"[data-budget-form='{budget[0]['id']}'] button[type=submit]")
        browser.wait(lambda: browser.table("budgets", "spent", "text") == ["$0.00 of $20.00"], "the new limit")
        browser.click("table[data-table=budgets] td[data-col=actions] button:last-child")
        browser.wait(lambda: "paused" in browser.table("budgets", "name", "text")[0], "the budget paused")
    finally:
        dashboard.data("mutation($id: ID!) { deleteBudget(id: $id) }", id=budget[0]["id"])
