"""Signing in: a READ key opens the dashboard; unknown, revoked, malformed and too-weak keys are told apart."""

from __future__ import annotations

import secrets

import pytest


def test_a_read_key_opens_the_overview_and_is_kept_for_this_tab_only(browser, dashboard):
    browser.sign_in(dashboard.read_key, f"#/overview?ws={dashboard.workspace.slug}")
    browser.find("main[data-view=overview]")
    assert browser.attribute("[data-role]", "data-role") == "read"
    assert browser.find_all("[data-nav=keys]") == []  # a READ key manages nothing
    storage = browser.driver.execute_script("return [sessionStorage.getItem('llm-usage.apiKey'), localStorage.length]")
    assert storage == [dashboard.read_key, 0]
    assert dashboard.read_key not in browser.driver.get_cookies().__repr__()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("llmu_" + secrets.token_urlsafe(32), "This key is unknown: check that it was copied whole"),
        ("not-a-key", "That is not an llm-usage API key: keys start with llmu_."),
        (None, "This key can only record usage (INGEST)."),
    ],
    ids=["unknown", "malformed", "ingest-only"],
)
def test_refused_keys_are_explained_and_not_kept(browser, dashboard, key, message):
    browser.sign_in(key or dashboard.ingest_key)
    error = browser.wait(lambda: browser.text("[data-sign-in-error]"), "the sign-in error")
    assert error.startswith(message), error
    assert browser.driver.execute_script("return sessionStorage.length") == 0


def test_signing_out_forgets_the_key(browser, dashboard):
    browser.sign_in(dashboard.read_key)
    browser.find("main[data-view=overview]")
    browser.click("header button.link")
    browser.find("#api-key")
    assert browser.driver.execute_script("return sessionStorage.length") == 0


def test_signing_out_while_the_keys_scopes_are_asked_leaves_the_sign_in_page(browser, dashboard):
    """The viewer query answers after the sign-out: the page stays signed out, without an error."""
    browser.driver.get(f"{browser.base_url}/dashboard/favicon.svg")
    browser.driver.execute_script("sessionStorage.clear()")
    browser.open("#/overview")
    browser.driver.execute_script(
        """const fetched = window.fetch;
        window.fetch = (url, init) => {
          const slow = String(init?.body ?? "").includes("viewer");
          return slow ? new Promise((done) => setTimeout(() => done(fetched(url, init)), 800)) : fetched(url, init);
        };"""
    )
    browser.type("#api-key", dashboard.read_key)
    browser.click("main[data-view=sign-in] button[type=submit]")
    browser.find("main[data-view=overview]")
    browser.click("header button.link")  # before the viewer query answers
    browser.find("#api-key")
    browser.driver.execute_script("return new Promise((done) => setTimeout(done, 1200))")  # it answers now
    assert browser.find_all("#api-key") and browser.driver.execute_script("return sessionStorage.length") == 0
