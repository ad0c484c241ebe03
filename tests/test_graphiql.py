"""GraphiQL works offline: its page loads every script and style from this service."""

from __future__ import annotations

import re

from service.app import GRAPHIQL_DIR


async def test_graphiql_is_served_on_get_with_local_assets_only(client):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert len(assets) == 7
    for asset in assets:
        assert asset.startswith("/graphiql-assets/"), asset
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.content == (GRAPHIQL_DIR / asset.removeprefix("/graphiql-assets/")).read_bytes(), asset
    assert "unpkg.com" not in page.text and "cdn" not in page.text.lower()


async def test_the_root_serves_the_dashboard_and_graphiql_stays_at_graphql(client):
    response = await client.get("/")
    assert response.status_code == 200 and '<script type="module" src="/dashboard/main.js">' in response.text
    graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
    assert graphiql.status_code == 200 and "GraphiQL" in graphiql.text


async def test_graphiql_does_not_keep_the_headers_tab_in_browser_storage(client):
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    assert "shouldPersistHeaders: false" in page and "shouldPersistHeaders: true" not in page
