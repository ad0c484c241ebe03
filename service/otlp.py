"""POST /v1/traces: OTLP/HTTP trace exports (protobuf or JSON, gzip or not) whose GenAI spans become usage
events (modules/telemetry). Point an OpenTelemetry exporter's OTEL_EXPORTER_OTLP_ENDPOINT here with an INGEST
key in OTEL_EXPORTER_OTLP_HEADERS.

The OTLP contract: 200 with `partial_success` naming each span refused and why; 400 for a body that is not
OTLP; 401 / 403 for keys; 413 past the body limit (once decompressed too); 429 / 503 with Retry-After, which
the exporters honour when they retry. Error bodies are `google.rpc.Status` in the request's encoding; the
key, its rate limit and the workspace are checked before the body is decoded.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import Response

from modules.core.errors import BadUserInput, Forbidden, LlmUsageError
from modules.core.principal import Principal, Scope
from modules.telemetry import BodyTooLarge, Encoding, ExportOutcome, TraceIngest, decode, decompressed, encoding_of
from modules.telemetry import failure as failure_body
from modules.telemetry import success as success_body
from service.container import ApplicationContainer
from service.context import authenticate, provide
from service.errors import POOL_RETRY_AFTER_S, database_unreachable
from service.http_errors import retry_headers, status_of
from service.limits import MAX_BODY_BYTES, RETRY_AFTER_S

log = logging.getLogger(__name__)
WORKSPACE_HEADER = "x-llm-usage-workspace"  # names the workspace for an instance-wide key
SPAN_COUNTERS: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()


def span_counter(registry: CollectorRegistry) -> Counter:
    """llm_usage_otlp_spans{result}: stored, duplicate, rejected, ignored (not a GenAI call); one per registry."""
    if registry not in SPAN_COUNTERS:
        SPAN_COUNTERS[registry] = Counter(
            "llm_usage_otlp_spans",
            "Spans received on /v1/traces by result: stored, duplicate, rejected, ignored (not a GenAI call).",
            ["result"],
            registry=registry,
        )
    return SPAN_COUNTERS[registry]


def otlp_response(
    body: bytes, encoding: Encoding, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, media_type=encoding.value, headers=headers)


def refusal(message: str, code: str, encoding: Encoding, **extensions: object) -> Response:
    status = status_of(code)
    if status in (429, 503):
        extensions.setdefault("retryAfter", RETRY_AFTER_S)
    return otlp_response(failure_body(status, message, encoding), encoding, status, retry_headers(dict(extensions)))


def workspace_of(principal: Principal, request: Request) -> str:
    """The key's own workspace, or the one the header names (required for an instance-wide key)."""
    named = request.headers.get(WORKSPACE_HEADER)
    if named:
        return named
    if principal.workspace_id is None:
        raise BadUserInput.of(WORKSPACE_HEADER, "an instance-wide key must name the workspace in this header")
    return str(principal.workspace_id)


def otlp_traces_endpoint(container: ApplicationContainer) -> Callable[[Request], Awaitable[Response]]:
    spans = span_counter(container.metrics().registry)

    async def export_traces(request: Request) -> Response:
        access = await provide(container.access.service())
        principal = await authenticate(access, request.headers.get("authorization"))
        principal.require_authenticated()  # unknown key, unreachable database or over its rate limit
        if not principal.allows(Scope.INGEST):
            raise Forbidden(f"this key lacks the {Scope.INGEST.value} scope")
        workspace = workspace_of(principal, request)
        encoding = encoding_of(request.headers.get("content-type"))
        try:
            plain = decompressed(await request.body(), request.headers.get("content-encoding"), MAX_BODY_BYTES)
        except BodyTooLarge as error:
            return otlp_response(failure_body(413, str(error), encoding), encoding, 413)
        ingest = TraceIngest(await provide(container.usage.service()))
        outcome = await ingest.ingest(principal, decode(plain, encoding), workspace)
        count(outcome)
        return otlp_response(success_body(len(outcome.rejected), outcome.message, encoding), encoding)

    def count(outcome: ExportOutcome) -> None:
        for result, number in (
            ("stored", outcome.stored),
            ("duplicate", outcome.duplicates),
            ("rejected", len(outcome.rejected)),
            ("ignored", outcome.ignored),
        ):
            if number:
                spans.labels(result).inc(number)

    async def endpoint(request: Request) -> Response:
        try:
            encoding = encoding_of(request.headers.get("content-type"))
        except BadUserInput:
            encoding = Encoding.JSON  # the refusal itself comes from export_traces, after the key
        try:
            return await export_traces(request)
        except LlmUsageError as error:
            details = {k: v for k, v in error.extensions.items() if k == "retryAfter"}
            return refusal(error.message, error.extensions["code"], encoding, **details)
        except PoolTimeout:
            message = "The server is busy (no database connection was free); nothing was stored. Retry shortly."
            return refusal(message, "UNAVAILABLE", encoding, retryAfter=POOL_RETRY_AFTER_S)
        except Exception as error:
            if database_unreachable(error):
                return refusal("The database is unreachable; nothing was stored. Retry later.", "UNAVAILABLE", encoding)
            error_id = uuid.uuid4().hex[:12]
            log.error("unexpected error %s in an OTLP export", error_id, exc_info=error)
            return refusal(f"Unexpected error (id {error_id}); it has been logged.", "INTERNAL", encoding)

    return endpoint
