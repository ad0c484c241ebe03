"""unpricedModels shows what to price; setModelPrice then recostUsage re-prices, never a caller's figure."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from tests.documents import TRACK_BATCH

RECOST = 'mutation { recostUsage(filter: {workspaceId: "acme"}) { examined changed costBeforeUsd costAfterUsd } }'
UNPRICED = '{ unpricedModels(filter: {workspaceId: "acme"}) { provider model calls firstSeen lastSeen } }'
TOTALS = '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { costUsd unpricedCalls } } }'
SET_PRICE = """mutation { setModelPrice(input: {workspaceId: "acme", provider: "mistral", model: "in-house-7b",
  inputPerMillion: "0.5", outputPerMillion: "1.5"}) { id } }"""


def call(request_id: str, model: str, provider: str = "mistral", **fields) -> dict:
    return {
        "workspaceId": "acme",
        "requestId": request_id,
        "provider": provider,
        "model": model,
        "promptTokens": 1000,
        "completionTokens": 100,
        "occurredAt": "2025-06-01T00:00:00Z",
        **fields,
    }


async def test_pricing_an_unknown_model_then_recosting(gql, workspace):
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("u1", "in-house-7b"),
            call("u2", "in-house-7b", occurredAt="2025-07-02T00:00:00Z"),  # another month: recost spans both
            call("u3", "in-house-7b", costUsd="9"),
            call("o1", "gpt-4o", provider="openai"),
            call("x1", "other-unknown"),
        ],
    )
    unpriced = (await gql.data(UNPRICED))["unpricedModels"]
    assert [(u["provider"], u["model"], u["calls"]) for u in unpriced] == [
        ("mistral", "in-house-7b", 2),
        ("mistral", "other-unknown", 1),
    ]
    assert (unpriced[0]["firstSeen"], unpriced[0]["lastSeen"]) == (
        "2025-06-01T00:00:00+00:00",
        "2025-07-02T00:00:00+00:00",
    )
    # gpt-4o "0.0035" + the caller's "9"; three unpriced calls.
    assert (await gql.data(TOTALS))["usageAnalytics"]["totals"] == {"costUsd": "9.0035", "unpricedCalls": 3}

    await gql.data(SET_PRICE)
    result = (await gql.data(RECOST))["recostUsage"]
    # Examined: u1, u2, o1, x1 (u3 is the caller's). Changed: u1 and u2, now 1000 x $0.5 + 100 x $1.5 per million.
    assert result == {"examined": 4, "changed": 2, "costBeforeUsd": "0.0035", "costAfterUsd": "0.0048"}
    assert Decimal(result["costAfterUsd"]) - Decimal(result["costBeforeUsd"]) == 2 * Decimal("0.00065")
    assert (await gql.data(TOTALS))["usageAnalytics"]["totals"] == {"costUsd": "9.0048", "unpricedCalls": 1}
    events = await gql.data(
        '{ usageEvents(filter: {workspaceId: "acme", model: "in-house-7b"}) { edges { node { requestId costUsd costSource } } } }'
    )
    assert sorted(
        (e["node"]["requestId"], e["node"]["costUsd"], e["node"]["costSource"]) for e in events["usageEvents"]["edges"]
    ) == [
        ("u1", "0.00065", "WORKSPACE_OVERRIDE"),
        ("u2", "0.00065", "WORKSPACE_OVERRIDE"),
        ("u3", "9", "CALLER"),
    ]
    assert [u["model"] for u in (await gql.data(UNPRICED))["unpricedModels"]] == ["other-unknown"]

    again = (await gql.data(RECOST))["recostUsage"]
    assert again == {"examined": 4, "changed": 0, "costBeforeUsd": "0.0048", "costAfterUsd": "0.0048"}


async def test_recosting_prices_every_stored_kind_again(gql, workspace):
    """An event's kinds beyond the token columns (here 9,000 audio of 10,000 prompt tokens) are stored, so
    re-pricing prices them as ingestion did: nothing changes (read without them, audio would be priced as text,
    $0.00325)."""
    kinds = call(
        "a1", "gemini-2.5-flash", provider="google", promptTokens=10_000, usageKinds={"input_audio_tokens": 9000}
    )
    await gql.data(TRACK_BATCH, inputs=[kinds, call("t1", "gemini-2.5-flash", provider="google")])
    result = (await gql.data(RECOST))["recostUsage"]
    # a1: 1,000 text x $0.3 + 9,000 audio x $1 + 100 x $2.5 per million; t1: 1,000 x $0.3 + 100 x $2.5.
    assert result == {"examined": 2, "changed": 0, "costBeforeUsd": "0.0101", "costAfterUsd": "0.0101"}


async def test_recosting_leaves_as_they_are_the_counts_a_newer_catalogue_cannot_price(gql, workspace, database):
    """Stored counts genai-prices refuses to price (as if a catalogue upgrade began pricing cached audio, which
    these overlap with) keep their cost; the others are re-priced (here one stored at a wrong $5), and nothing
    fails."""
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("kept", "gemini-2.5-flash", provider="google", usageKinds={"input_audio_tokens": 800}),
            call("other", "gemini-2.5-flash", provider="google"),
        ],
    )
    async with database.session_factory.begin() as session:
        await session.execute(
            text(
                "UPDATE usage_events SET cached_prompt_tokens = 800, cost_usd = 1, input_cost_usd = 1, "
                "output_cost_usd = 0 WHERE request_id = 'kept'"
            )
        )
        await session.execute(text("UPDATE usage_events SET cost_usd = 5 WHERE request_id = 'other'"))
    result = (await gql.data(RECOST))["recostUsage"]
    # other: back to 1,000 x $0.3 + 100 x $2.5 per million; kept: its stored $1, untouched.
    assert result == {"examined": 2, "changed": 1, "costBeforeUsd": "6", "costAfterUsd": "1.00055"}


async def test_recosting_names_the_catalogue_model_as_todays_catalogue_does(gql, workspace, database):
    """An event stored before the catalogue knew its model (catalogue_model null) is grouped with its model's
    other snapshots once re-costed."""
    await gql.data(
        TRACK_BATCH,
        inputs=[call("dated", "gpt-4o-2024-08-06", provider="openai"), call("plain", "gpt-4o", provider="openai")],
    )
    async with database.session_factory.begin() as session:
        await session.execute(text("UPDATE usage_events SET catalogue_model = NULL WHERE request_id = 'dated'"))
    by_catalogue_model = """{ usage(filter: {workspaceId: "acme"}, groupBy: [CATALOGUE_MODEL]) {
      groups { dimensions { value } metrics { calls } } } }"""

    def rows(answer: dict) -> list[tuple[str | None, int]]:
        return sorted(
            ((g["dimensions"][0]["value"], g["metrics"]["calls"]) for g in answer["usage"]["groups"]),
            key=lambda row: (row[0] is None, row[0] or ""),
        )

    assert rows(await gql.data(by_catalogue_model)) == [("gpt-4o", 1), (None, 1)]  # null: the model was unknown
    await gql.data(RECOST)
    assert rows(await gql.data(by_catalogue_model)) == [("gpt-4o", 2)]
