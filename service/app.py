"""The Starlette application: the dashboard at /, /graphql (GraphiQL on GET, served offline), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from modules.core.errors import LlmUsageError
from modules.core.principal import Principal, Scope
from service.admission import AdmissionGate
from service.container import ApplicationContainer
from service.context import Context, authenticate, build_context, provide
from service.dashboard import dashboard_routes
from service.database import replica_lag_seconds
from service.export import export_endpoint
from service.gc_tuning import tune_collector_for_serving
from service.graphql import build_schema
from service.graphql_http import GraphQLOverHTTP
from service.http_errors import error_body
from service.limits import MAX_ANSWER_BYTES, MAX_OPERATIONS_PER_SOCKET, WEBSOCKET_INIT_TIMEOUT_S, BodySizeLimit
from service.media_types import ErrorMediaTypes
from service.migrations import current_revision, head_revision
from service.observability import RequestIdMiddleware
from service.otlp import otlp_traces_endpoint
from service.resources import start_proxy, start_resources, stop_proxy, stop_resources
from service.websocket import AuthorizingTransportWSHandler

GRAPHIQL_DIR = Path(__file__).parent / "static" / "graphiql"


class GraphQLEndpoint(GraphQLOverHTTP):
    """The GraphQL-over-HTTP view (service/graphql_http.py) with our context, answers capped in size, per-operation
    authorisation over WebSocket (graphql-transport-ws only) and a GraphiQL page whose assets this service serves."""

    graphql_transport_ws_handler_class = AuthorizingTransportWSHandler

    def __init__(self, container: ApplicationContainer) -> None:
        production = container.settings().production
        schema = build_schema(production=production, metrics=container.metrics())
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=WEBSOCKET_INIT_TIMEOUT_S),
            max_subscriptions_per_connection=MAX_OPERATIONS_PER_SOCKET,
        )
        self.container = container

    def encode_answer(self, data: object) -> tuple[str, bool]:
        """An answer past MAX_ANSWER_BYTES (the size estimate let it through) is replaced by an error."""
        encoded = json.dumps(data, separators=(",", ":"))
        if len(encoded) <= MAX_ANSWER_BYTES:
            return encoded, False
        message = f"the answer has {len(encoded):,} bytes; at most {MAX_ANSWER_BYTES:,} are sent: ask for less"
        return json.dumps(error_body(message, "ANSWER_TOO_LARGE", bytes=len(encoded), budget=MAX_ANSWER_BYTES)), True

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "the request body is not UTF-8") from None
        except RecursionError:
            raise HTTPException(400, "the request body nests JSON too deeply") from None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return await build_context(self.container, request, response)

    async def operation_context(self, connection: Context) -> Context:
        """A WebSocket operation's own context: the connection's key checked again and counted as a request."""
        context = await build_context(
            self.container, connection.request, connection.response, authorization=connection.authorization
        )
        context.connection_params = connection.connection_params
        return context

    async def identify(self, connection: Context) -> Principal:
        return await authenticate(connection.access, connection.authorization, count=False)

    def observe_operation(self, stream: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        return self.container.metrics().websocket_operation(stream)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Subscriptions need a READ key: `{"Authorization": "Bearer llmu_…"}` in connection_init (GraphiQL
        sends its Headers tab there), or the upgrade request's own header. An optional `workspaceId` is
        checked too. Refused keys close the socket with 4403 before any subscription starts."""
        params = context.connection_params or {}
        given = params.get("Authorization") or params.get("authorization")
        if given:
            context.authorization = str(given)
            context.principal = await authenticate(context.access, context.authorization)
        principal = context.principal
        reason = refusal(principal)
        if reason is None and params.get("workspaceId"):
            try:
                await context.workspaces.authorize(
                    principal, str(params["workspaceId"]), Scope.READ, field="workspaceId"
                )
            except LlmUsageError as error:
                reason = error.extensions["code"]
        if reason is not None:
            raise ConnectionRejectionError({"code": reason})
        return UnsetType()  # the UNSET singleton, typed (UNSET itself is declared Any)

    async def render_graphql_ide(self, request: Request) -> Response:
        return FileResponse(GRAPHIQL_DIR / "index.html", media_type="text/html")


def refusal(principal: Principal) -> str | None:
    """Why a WebSocket connection may not subscribe, as an error code; None if it may."""
    if principal.unauthenticated is not None:
        return "UNAUTHENTICATED"
    return None if principal.allows(Scope.READ) else "FORBIDDEN"


async def replica_state(container: ApplicationContainer) -> dict[str, Any]:
    """With DATABASE_READ_URL: the replica's lag in seconds (or that it is unreachable: analytics then fail, ingestion
    does not, so the process stays ready)."""
    if container.settings().database_read_url is None:
        return {}
    try:
        lag = await replica_lag_seconds(await provide(container.read_database()))
    except Exception as error:
        return {"replica": {"status": "unavailable", "reason": type(error).__name__}}
    return {"replica": {"status": "ready", "lagSeconds": lag}}


def proxy_endpoint(container: ApplicationContainer) -> ASGIApp:
    """The proxy's endpoint, built on its first request (after the resources have started)."""

    async def proxy(scope: ASGIScope, receive: Receive, send: Send) -> None:
        await (await provide(container.proxy.endpoint()))(scope, receive, send)

    return proxy


def create_app(container: ApplicationContainer | None = None, *, serving: bool = False) -> Starlette:
    """The application; `serving` (llm-usage serve) also tunes the garbage collector once it has started
    (service/gc_tuning.py: not in tests, whose many apps share one process)."""
    container = container or ApplicationContainer()
    graphql = GraphQLEndpoint(container)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        """Ready when the database answers and its schema is at the code's migration head."""
        try:
            database = await provide(container.database())
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision, head = await current_revision(database.engine), head_revision()
        except Exception as error:
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        if revision != head:
            return JSONResponse({"status": "migrations pending", "at": revision, "head": head}, status_code=503)
        return JSONResponse({"status": "ready", "revision": revision, **await replica_state(container)})

    async def metrics(_: Request) -> Response:
        """Prometheus text format, for this process."""
        registry = container.metrics()
        database = await provide(container.database())
        registry.pool_in_use = database.engine.pool.checkedout
        return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await start_resources(container)
        await start_proxy(container)
        background = []
        if container.settings().webhooks_enabled:
            dispatcher = await provide(container.budgets.dispatcher())
            background.append(asyncio.create_task(dispatcher.run(), name="webhook-dispatcher"))
        revocations = await provide(container.access.revocations())
        background.append(asyncio.create_task(revocations.run(), name="key-revocations"))
        caches = (
            container.llm_providers.price_cache,
            container.budgets.budgets_cache,
            container.usage.content_settings_cache,
        )
        for cache in caches:  # NOTIFY clears them
            background.append(asyncio.create_task((await provide(cache())).run(), name="notified-cache"))
        partitions = await provide(container.usage.partitions())
        background.append(asyncio.create_task(partitions.run(), name="event-partitions"))
        content_retention = await provide(container.usage.content_retention())
        background.append(asyncio.create_task(content_retention.run(), name="content-retention"))
        if container.settings().retention_days:
            retention = await provide(container.usage.retention())
            background.append(asyncio.create_task(retention.run(), name="retention"))
        if serving:
            tune_collector_for_serving()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await stop_proxy(container)
            await stop_resources(container)

    app = Starlette(
        routes=[
            *dashboard_routes(),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql),  # other methods: its own typed 405, with Allow
            Route("/export/usage.{format}", export_endpoint(container)),
            Route("/v1/traces", otlp_traces_endpoint(container), methods=["POST"]),  # OTLP/HTTP: service/otlp.py
            WebSocketRoute("/graphql", graphql),
            Mount("/graphiql-assets", StaticFiles(directory=GRAPHIQL_DIR), name="graphiql-assets"),
            Mount("/proxy", app=proxy_endpoint(container)),  # the pass-through proxy: modules/proxy
        ],
        lifespan=lifespan,
    )
    app.add_middleware(AdmissionGate)  # inside BodySizeLimit: the body it reads first is capped
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ErrorMediaTypes)  # outside every middleware that answers errors itself
    return app


def create_served_app() -> Starlette:
    """The factory each worker of `llm-usage serve --workers N` calls."""
    return create_app(serving=True)
