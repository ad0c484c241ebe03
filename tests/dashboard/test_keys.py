"""Keys (ADMIN): a new key is shown once with its snippets, then only its prefix; revoked, it stops working."""

from __future__ import annotations


def test_create_a_key_shown_once_then_revoke_it_and_its_next_use_fails(browser, dashboard):
    slug = dashboard.workspace.slug
    browser.sign_in(dashboard.workspace.admin_key, f"#/keys?ws={slug}")
    browser.type("[data-key-form] input[name=name]", "dashboard-made")
    browser.find("[data-key-form] input[value=READ]").click()
    browser.click("[data-key-form] button[type=submit]")
    secret = browser.text("[data-secret]")
    assert secret.startswith("llmu_") and len(secret) == 48
    assert f'api_key="{secret}"' in browser.text("[data-snippet=python]")
    assert f'workspace_id="{slug}"' in browser.text("[data-snippet=python]")
    assert f"Bearer {secret}" in browser.text("[data-snippet=curl]")
    assert f'/proxy/openai/v1", default_headers={{"X-LLM-Usage-Key": "{secret}"}}' in browser.text(
        "[data-snippet=proxy]"
    )
    # The new key works, with the scopes chosen.
    works = dashboard.graphql("{ workspaces { slug } }", key=secret)
    assert works == {"data": {"workspaces": [{"slug": slug}]}}
    browser.click("[data-new-key] p button")
    browser.wait(lambda: not browser.find_all("[data-secret]"), "the secret gone")
    assert secret not in browser.driver.page_source
    names = browser.table("keys", "name", "text")
    row = names.index("dashboard-made")
    assert browser.table("keys", "prefix", "text")[row] == secret[:12] + "…"
    rows = browser.find_all("table[data-table=keys] tbody tr")
    rows[row].find_element("css selector", "[data-revoke]").click()
    browser.click("[data-confirm-revoke]")
    browser.wait(lambda: browser.table("keys", "state")[row] == "revoked", "the key revoked")
    refused = dashboard.graphql("{ workspaces { slug } }", key=secret)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    browser.sign_in(secret)
    assert browser.text("[data-sign-in-error]").startswith("This key has been revoked.")


def test_keys_are_for_admin_keys_only(browser, dashboard):
    browser.sign_in(dashboard.read_key, f"#/keys?ws={dashboard.workspace.slug}")
    browser.find("main[data-view=overview]")  # the READ key lands on the overview
    assert browser.find_all("[data-key-form]") == []


def test_an_admin_adds_a_provider_instance_and_sees_its_workspace(browser, dashboard):
    browser.sign_in(dashboard.workspace.admin_key, f"#/keys?ws={dashboard.workspace.slug}")
    form = "[data-form='Add instance']"
    browser.type(f"{form} input[name=provider]", "openai")
    browser.type(f"{form} input[name=name]", "prod-eu")
    browser.click(f"{form} button[type=submit]")
    browser.wait(lambda: browser.table("instances", "name", "text") == ["prod-eu"], "the new instance")
    listed = dashboard.data(
        "query($ws: ID!) { providerInstances(workspaceId: $ws) { provider name } }", ws=dashboard.workspace.slug
    )
    assert listed["providerInstances"] == [{"provider": "openai", "name": "prod-eu"}]
    assert browser.table("workspaces", "slug", "text") == [dashboard.workspace.slug]
    assert browser.find_all("[data-form='Create workspace']") == []  # a workspace key creates none


def test_a_key_revoked_while_signed_in_signs_the_page_out(browser, dashboard):
    slug = dashboard.workspace.slug
    created = dashboard.data(
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }",
        i={"workspaceId": slug, "name": "soon revoked", "scopes": ["READ"]},
    )["createApiKey"]
    browser.sign_in(created["secret"], f"#/overview?ws={slug}")
    browser.find("[data-stat=cost]")
    dashboard.data("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", id=created["apiKey"]["id"])
    browser.click("[data-nav=events]")
    message = browser.wait(lambda: browser.text("[data-sign-in-error]"), "signed out")
    assert message.startswith("This key has been revoked.")
    assert browser.driver.execute_script("return sessionStorage.length") == 0
