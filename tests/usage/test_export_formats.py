"""The export's writers and its URL's query string, byte for byte: what the mutation run found untried through
the HTTP tests (JSON Lines' exact spelling and chunking, tags in the export URL, each cell type in CSV)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl
from uuid import UUID

import pytest

from modules.core.errors import BadUserInput
from modules.usage.export.formats import (
    COLUMNS,
    ROWS_PER_CHUNK,
    ExportFormat,
    csv_chunks,
    filter_from_query,
    filter_query,
    jsonl_chunks,
)
from modules.usage.records import TagCondition, UsageFilterDraft, UsageStatus

# The fields these tests set; every other column of the event is None (columns may be added: they stay null).
SET = {
    "id": 7,
    "workspace_id": UUID("22222222-2222-2222-2222-222222222222"),
    "request_id": "r-é",
    "occurred_at": datetime(2026, 3, 10, 9, 30, tzinfo=UTC),
    "prompt_tokens": 120,
    "cost_usd": Decimal("0.0035000000"),
    "status": UsageStatus.SUCCESS,
    "streamed": True,
    "error_message": "=HYPERLINK(1)",
    "tags": {"env": "prod", "team": "café"},
}
# The same, as JSON spells each by hand: compact separators, UTF-8 as is, money as a decimal string.
AS_JSON = {
    "id": "7",
    "workspace_id": '"22222222-2222-2222-2222-222222222222"',
    "request_id": '"r-é"',
    "occurred_at": '"2026-03-10T09:30:00+00:00"',
    "prompt_tokens": "120",
    "cost_usd": '"0.0035"',
    "status": '"SUCCESS"',
    "streamed": "true",
    "error_message": '"=HYPERLINK(1)"',
    "tags": '{"env":"prod","team":"café"}',
}
AS_CSV = {
    "id": "7",
    "workspace_id": '"22222222-2222-2222-2222-222222222222"',
    "request_id": '"r-é"',
    "occurred_at": '"2026-03-10T09:30:00+00:00"',
    "prompt_tokens": "120",
    "cost_usd": "0.0035",
    "status": '"SUCCESS"',
    "streamed": "true",
    "error_message": '"\'=HYPERLINK(1)"',  # defused: a spreadsheet reads text, not a formula
    "tags": '"{""env"":""prod"",""team"":""café""}"',
}


class Event:
    """A stored event as the writers read it (getattr per column)."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __getattr__(self, name: str):
        if name == "id":
            return self.number
        if name == "streamed":
            return self.number % 2 == 1  # odd rows streamed, even ones not
        return SET.get(name)


async def events(count: int):
    for number in range(1, count + 1):
        yield Event(number)


def chunks(write, count: int) -> list[str]:
    async def read() -> list[str]:
        return [chunk async for chunk in write(events(count))]

    return asyncio.run(read())


def expected_json_line(number: int) -> str:
    cells = {**AS_JSON, "id": str(number), "streamed": "true" if number % 2 else "false"}
    return "{" + ",".join(f'"{header}":{cells.get(attribute, "null")}' for header, attribute in COLUMNS.items()) + "}"


def expected_csv_row(number: int) -> str:
    cells = {**AS_CSV, "id": str(number), "streamed": "true" if number % 2 else "false"}
    return ",".join(cells.get(attribute, "") for attribute in COLUMNS.values()) + "\r\n"


def test_json_lines_are_compact_utf8_and_sent_25_to_a_chunk():
    written = chunks(jsonl_chunks, ROWS_PER_CHUNK + 1)
    assert ROWS_PER_CHUNK == 25
    assert written == [
        "".join(expected_json_line(n) + "\n" for n in range(1, 26)),
        expected_json_line(26) + "\n",
    ]
    assert chunks(jsonl_chunks, ROWS_PER_CHUNK) == ["".join(expected_json_line(n) + "\n" for n in range(1, 26))]
    assert chunks(jsonl_chunks, 0) == []


def test_csv_has_a_header_quotes_text_leaves_numbers_bare_and_chunks_by_25():
    written = chunks(csv_chunks, ROWS_PER_CHUNK + 1)
    header = ",".join(COLUMNS) + "\r\n"
    assert written == [
        header + "".join(expected_csv_row(n) for n in range(1, 26)),
        expected_csv_row(26),
    ]
    assert chunks(csv_chunks, 0) == [header]


def test_formats_name_their_file_and_media_type():
    assert [(f.extension, f.media_type) for f in ExportFormat] == [
        ("csv", "text/csv; charset=utf-8"),
        ("jsonl", "application/x-ndjson; charset=utf-8"),
    ]


def test_the_export_url_carries_every_part_of_a_filter_and_reads_back_the_same():
    given = UsageFilterDraft(
        workspace_id="acme",
        user_id="alice",
        status=UsageStatus.ERROR,
        models=("gpt-4o", "gpt-4o-mini"),
        tags=(TagCondition("env", "prod"), TagCondition("beta"), TagCondition("team", "a:b")),
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
    )
    query = filter_query(given)
    assert parse_qsl(query) == [
        ("workspaceId", "acme"),
        ("userId", "alice"),
        ("status", "ERROR"),
        ("from", "2026-03-01T00:00:00+00:00"),
        ("to", "2026-04-01T00:00:00+00:00"),
        ("models", "gpt-4o"),
        ("models", "gpt-4o-mini"),
        ("tag", "env:prod"),
        ("tag", "beta"),
        ("tag", "team:a:b"),
    ]
    pairs = parse_qsl(query)
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        lists.setdefault(name, []).append(value)
    assert filter_from_query(dict(pairs), lists) == given


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        ({}, [("workspaceId", "is required")]),
        ({"workspaceId": "acme", "colour": "red"}, [("colour", "is not a filter parameter")]),
        ({"workspaceId": "acme", "status": "FINE"}, [("status", "must be SUCCESS or ERROR")]),
    ],
)
def test_a_bad_export_url_names_the_parameter(params, problems):
    with pytest.raises(BadUserInput) as raised:
        filter_from_query(params, {k: [v] for k, v in params.items()})
    assert [(p["field"], p["reason"]) for p in raised.value.extensions["problems"]] == problems


def test_a_time_that_is_not_one_is_refused_with_an_example():
    with pytest.raises(BadUserInput) as raised:
        filter_from_query({"workspaceId": "acme", "to": "yesterday"}, {})
    [problem] = raised.value.extensions["problems"]
    assert problem["field"] == "to"
    assert problem["reason"].startswith("must be an ISO 8601 time with offset, e.g. 2026-01-01T00:00:00Z (")


def test_an_unknown_parameter_is_named_in_at_most_60_characters():
    name = "x" * 61
    with pytest.raises(BadUserInput) as raised:
        filter_from_query({"workspaceId": "acme", name: "1"}, {name: ["1"]})
    assert [(p["field"], p["reason"]) for p in raised.value.extensions["problems"]] == [
        ("x" * 60, "is not a filter parameter")
    ]


async def test_an_unknown_export_format_is_a_404_naming_the_two(client, gql):
    response = await client.get("/export/usage.xml", params={"workspaceId": "acme"}, headers=gql.headers)
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == ("exports are usage.csv and usage.jsonl", "NOT_FOUND")


async def test_an_export_of_no_event_is_a_complete_empty_download(client, gql, workspace):
    """JSON Lines of no row is a body with no chunk at all (CSV still has its header)."""
    jsonl = await client.get("/export/usage.jsonl", params={"workspaceId": "acme"}, headers=gql.headers)
    csv_ = await client.get("/export/usage.csv", params={"workspaceId": "acme"}, headers=gql.headers)
    assert (jsonl.status_code, jsonl.text) == (200, "")
    assert (csv_.status_code, csv_.text) == (200, ",".join(COLUMNS) + "\r\n")
