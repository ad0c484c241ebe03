"""The price catalogue as people browse it, and which source a model's price comes from."""

from __future__ import annotations

import genai_prices
from genai_prices.data_snapshot import get_snapshot

QUOTE = """query($model: String!, $at: DateTime) { modelPrice(workspaceId: "acme", provider: "openai", model: $model, at: $at) {
  provider model source inputPerMillion cachedInputPerMillion cacheWritePerMillion outputPerMillion tiered effectiveFrom } }"""


async def test_providers_and_models_of_the_catalogue(gql):
    providers = (await gql.data("{ providers { id name } }"))["providers"]
    assert len(providers) == len(get_snapshot().providers) >= 40
    assert {"id": "openai", "name": "OpenAI"} in providers
    models = (await gql.data('{ models(provider: "OpenAI", search: "4o-mini") { provider id deprecated } }'))["models"]
    assert {"provider": "openai", "id": "gpt-4o-mini", "deprecated": False} in models
    assert all("4o-mini" in m["id"] for m in models)
    error = await gql.error('{ models(provider: "nobody") { id } }')
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "provider")


async def test_a_model_price_comes_from_the_catalogue_until_the_workspace_sets_its_own(gql, workspace):
    catalogue = (await gql.data(QUOTE, model="gpt-4o"))["modelPrice"]
    assert catalogue == {
        "provider": "openai",
        "model": "gpt-4o",
        "source": "CATALOG",
        "inputPerMillion": "2.5",
        "cachedInputPerMillion": "1.25",
        "cacheWritePerMillion": None,
        "outputPerMillion": "10",
        "tiered": False,
        "effectiveFrom": None,
    }
    await gql.data("""mutation { setModelPrice(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o",
      inputPerMillion: "2", outputPerMillion: "8", effectiveFrom: "2026-01-01T00:00:00Z"}) { id } }""")
    own = (await gql.data(QUOTE, model="gpt-4o", at="2026-02-01T00:00:00Z"))["modelPrice"]
    assert (own["source"], own["inputPerMillion"], own["cachedInputPerMillion"], own["outputPerMillion"]) == (
        "WORKSPACE_OVERRIDE",
        "2",
        "2",
        "8",
    )
    assert own["effectiveFrom"] == "2026-01-01T00:00:00+00:00"
    before = (await gql.data(QUOTE, model="gpt-4o", at="2025-12-31T00:00:00Z"))["modelPrice"]
    assert before["source"] == "CATALOG"
    assert (await gql.data(QUOTE, model="gpt-unknown"))["modelPrice"] is None


async def test_server_info_names_the_catalogue_version(gql):
    info = (await gql.data("{ serverInfo { version catalogueVersion } }"))["serverInfo"]
    assert info == {"version": "0.1.0", "catalogueVersion": genai_prices.__version__}
