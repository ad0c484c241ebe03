"""What an export answers when it fails before its first byte, word for word: a pool with no connection free and
an unreachable database are 503s a client retries (the first with Retry-After), anything else a 500 naming the
id it was logged under; the export's slot is freed each time. The failures are planted in the analytics service
the export reads through (its first read happens before the status is sent). And the name a download
is given, both ends of its range included."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from dependency_injector import providers
from sqlalchemy.exc import TimeoutError as PoolTimeout

from modules.core.errors import Unavailable
from service.export_limits import ExportLimits
from service.export_slots import ExportSlots
from service.limits import EXPORTS_PER_KEY


class FailingAnalytics:
    """The usage analytics as the export uses them, whose first read of the rows raises `error`."""

    def __init__(self, real: Any, error: BaseException) -> None:
        self.real = real
        self.error = error
        self.reads = 0

    async def export_spec(self, principal: Any, given: Any) -> Any:
        return await self.real.export_spec(principal, given)

    async def export(self, spec: Any, *, max_rows: int) -> AsyncIterator[dict[str, Any]]:
        self.reads += 1
        raise self.error
        yield {}  # an async generator, as the real one


async def failing_export(client, gql, container, error: BaseException, times: int = 1) -> list[Any]:
    from service.context import provide

    failing = FailingAnalytics(await provide(container.usage.analytics()), error)
    with container.usage.analytics.override(providers.Object(failing)):
        answers = [await client.get("/export/usage.jsonl?workspaceId=acme", headers=gql.headers) for _ in range(times)]
    assert failing.reads == times
    return answers


def said(response) -> tuple[int, str, dict[str, Any], str | None]:
    [error] = response.json()["errors"]
    extensions = {k: v for k, v in error["extensions"].items() if k != "requestId"}
    return response.status_code, error["message"], extensions, response.headers.get("retry-after")


async def test_no_free_connection_is_a_503_to_retry_in_a_second(client, gql, container, workspace):
    # one more than a key may run at once: each failure freed its slot, or the last would be a 429
    answers = await failing_export(client, gql, container, PoolTimeout("QueuePool limit"), times=EXPORTS_PER_KEY + 1)
    assert [said(a) for a in answers] == [
        (
            503,
            "The server is busy (no database connection was free). Retry shortly.",
            {"code": "UNAVAILABLE", "retryable": True, "retryAfter": 1},
            "1",
        )
    ] * (EXPORTS_PER_KEY + 1)


async def test_an_unreachable_database_is_a_503(client, gql, container, workspace):
    [answer] = await failing_export(client, gql, container, asyncpg.ConnectionDoesNotExistError("gone"))
    assert said(answer) == (
        503,
        "The database is unreachable. Retry later.",
        {"code": "UNAVAILABLE", "retryable": True},
        None,
    )


async def test_anything_else_is_a_500_naming_the_id_it_was_logged_under(client, gql, container, workspace, caplog):
    with caplog.at_level(logging.ERROR, logger="service.export"):
        answers = await failing_export(client, gql, container, RuntimeError("a bug"), times=EXPORTS_PER_KEY + 1)
    ids = [a.json()["errors"][0]["extensions"]["errorId"] for a in answers]
    assert len(set(ids)) == len(ids) and {len(i) for i in ids} == {12}  # one new id per failure
    assert [said(a) for a in answers] == [
        (500, f"Unexpected error (id {i}); it has been logged.", {"code": "INTERNAL", "errorId": i}, None) for i in ids
    ]
    logged = [(r.levelname, r.getMessage(), r.exc_info and r.exc_info[0]) for r in caplog.records]
    assert logged == [("ERROR", f"unexpected error {i} in an export", RuntimeError) for i in ids]


def test_a_full_process_refuses_an_export_in_its_own_words():
    slots = ExportSlots(ExportLimits(pool_size=1, per_key=1, retry_after_s=4))
    slots.claim("a")
    with pytest.raises(Unavailable) as full:
        slots.claim("b")
    assert (full.value.message, full.value.extensions) == (
        "The server runs as many exports as it can; nothing was done. Retry shortly.",
        {"code": "UNAVAILABLE", "retryable": True, "retryAfter": 4},
    )


async def test_a_download_is_named_for_its_workspace_and_both_ends_of_its_range_in_utc(client, gql, workspace):
    params = {"workspaceId": "acme", "from": "2025-06-02T00:00:00Z", "to": "2025-06-03T12:30:00+02:00"}
    response = await client.get("/export/usage.csv", params=params, headers=gql.headers)
    assert (response.status_code, response.headers["content-disposition"]) == (
        200,
        'attachment; filename="usage-acme-20250602T000000Z-20250603T103000Z.csv"',
    )


async def test_an_export_counts_against_its_keys_id_not_its_name(container, workspace, monkeypatch):
    """Keys may share a name: the per-key limit is by id (two keys named alike do not share it)."""
    import httpx

    from modules.core.principal import Principal, Scope
    from service import export
    from service.app import create_app
    from service.context import provide

    claimed: list[object] = []

    class RecordingSlots(ExportSlots):
        def claim(self, key: Any) -> Any:
            claimed.append(key)
            return super().claim(key)

    monkeypatch.setattr(export, "ExportSlots", RecordingSlots)  # before the app makes its slots
    access = await provide(container.access.service())
    made = [await access.create(Principal.system(), workspace_ref="acme", name="ci", scopes=[Scope.READ]) for _ in "ab"]
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://llm-usage.test") as client:
        for key in made:
            headers = {"Authorization": f"Bearer {key.secret}"}
            response = await client.get("/export/usage.csv?workspaceId=acme", headers=headers)
            assert response.status_code == 200, response.text
    assert claimed == [key.key.id for key in made]


async def test_a_download_name_keeps_only_safe_characters_and_200_of_them(client, gql, workspace):
    """A workspace may be named by any spelling Python's UUID() reads ('urn:uuid:…', '{…}', even 'urn:' many times
    over): what the name cannot carry becomes '_', and it is cut at 200 characters before its extension."""
    braced = f"{{{workspace['id']}}}"
    response = await client.get("/export/usage.csv", params={"workspaceId": braced}, headers=gql.headers)
    assert (response.status_code, response.headers["content-disposition"]) == (
        200,
        f'attachment; filename="usage-_{workspace["id"]}_-start-now.csv"',
    )
    long = "urn:" * 60 + workspace["id"]
    response = await client.get("/export/usage.jsonl", params={"workspaceId": long}, headers=gql.headers)
    expected = ("usage-" + "urn_" * 60 + workspace["id"] + "-start-now")[:200] + ".jsonl"
    assert (response.status_code, response.headers["content-disposition"]) == (
        200,
        f'attachment; filename="{expected}"',
    )
