"""Request ids on responses, errors and log lines; Prometheus metrics of operations and events."""

from __future__ import annotations

import json
import logging

from service.observability import JsonFormatter, request_id
from tests.documents import TRACK_BATCH


def call(request: str, prompt: int = 1) -> dict:
    return {
        "workspaceId": "acme",
        "requestId": request,
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": prompt,
        "completionTokens": 1,
    }


async def test_a_request_id_is_returned_and_named_in_errors(client, gql, workspace):
    response = await client.post(
        "/graphql",
        json={"query": '{ workspace(id: "nobody") { id } }'},
        headers={**gql.headers, "X-Request-Id": "trace-42"},
    )
    assert response.headers["x-request-id"] == "trace-42"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace-42"
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 16


async def test_metrics_count_operations_and_events(client, gql, workspace):
    await gql.data(TRACK_BATCH, inputs=[call("a"), call("b"), call("a")])
    await gql.error(TRACK_BATCH, inputs=[call("c", prompt=-1), call("d")])
    text = (await client.get("/metrics")).text
    assert 'llm_usage_events_total{result="inserted"} 2.0' in text
    assert 'llm_usage_events_total{result="duplicate"} 1.0' in text
    assert 'llm_usage_events_total{result="rejected"} 2.0' in text
    assert 'llm_usage_graphql_operations_total{operation="trackUsageBatch",outcome="ok"} 1.0' in text
    assert 'llm_usage_graphql_operations_total{operation="trackUsageBatch",outcome="BAD_USER_INPUT"} 1.0' in text
    assert 'llm_usage_graphql_seconds_count{operation="trackUsageBatch"} 2.0' in text
    assert "llm_usage_db_pool_in_use " in text


def test_log_lines_are_json_with_the_request_id():
    token = request_id.set("req-7")
    try:
        record = logging.LogRecord("llm_usage", logging.WARNING, __file__, 1, "database %s", ("slow",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert {k: line[k] for k in ("level", "logger", "message", "requestId")} == {
        "level": "WARNING",
        "logger": "llm_usage",
        "message": "database slow",
        "requestId": "req-7",
    }


async def test_metrics_labels_are_bounded_by_the_schema_whatever_callers_send(client, gql, workspace):
    """Operation names are the caller's: 50 unknown names and fields add no series; process metrics are there."""
    before = (await client.get("/metrics")).text.count("llm_usage_graphql_operations_total{")
    for n in range(50):
        await client.post("/graphql", json={"query": f"query Attack{n} {{ serverInfo {{ version }} }}"})
        await client.post("/graphql", json={"query": f"{{ nosuchfield{n} }}"})
        await client.post("/graphql", json={"query": f"{{ syntax error {n}"})
    text = (await client.get("/metrics")).text
    assert "Attack" not in text and "nosuchfield" not in text
    series = [line for line in text.splitlines() if line.startswith("llm_usage_graphql_operations_total{")]
    assert len(series) - before <= 3, series
    assert 'llm_usage_graphql_operations_total{operation="serverInfo",outcome="UNAUTHENTICATED"} 50.0' in text
    assert 'operation="other",outcome="GRAPHQL_VALIDATION_FAILED"} 50.0' in text
    assert 'operation="other",outcome="GRAPHQL_PARSE_FAILED"} 50.0' in text
    for name in ("process_resident_memory_bytes", "process_open_fds", "python_gc_collections_total"):
        assert name in text
    assert "llm_usage_websocket_operations 0.0" in text
