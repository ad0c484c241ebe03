"""GraphQL over WebSocket (graphql-transport-ws) with the same authorisation as HTTP, operation by operation.

strawberry builds one context per connection, so a key checked at `connection_init` stayed good for the
socket's life: a revoked ADMIN key could still mint keys over it, and no rate limit applied. Here every
`subscribe` message (query, mutation or subscription) runs with a context of its own whose principal is the
connection's key checked again and counted against its rate limit, with fresh DataLoaders; and a watcher
ends the connection's operations once its key is revoked (at once when the revocation is announced, else
within the key cache's TTL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, cast

from strawberry.schema import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from modules.access.revocations import KeyRevocations
from modules.access.service import AccessService
from service.context import Context

REVOKED_CLOSE_CODE = 4403


class OperationScopedSchema:
    """The schema as a connection's handler sees it: `stream` swaps the connection's context for the
    operation's own. Everything else is the schema's."""

    def __init__(
        self,
        schema: BaseSchema,
        operation_context: Callable[[Context], Awaitable[Context]],
        observe: Callable[[AsyncGenerator[Any, None]], AsyncGenerator[Any, None]],
    ) -> None:
        self.schema = schema
        self.operation_context = operation_context
        self.observe = observe

    async def stream(self, query: str, *, context_value: Context, **options: Any) -> AsyncGenerator[Any, None]:
        context = await self.operation_context(context_value)
        return self.observe(await self.schema.stream(query, context_value=context, **options))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.schema, name)


class AuthorizingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Set by the GraphQL view as its `graphql_transport_ws_handler_class`."""

    def __init__(self, *, schema: BaseSchema, **options: Any) -> None:
        view = options["view"]
        scoped = OperationScopedSchema(schema, view.operation_context, view.observe_operation)
        super().__init__(schema=cast(BaseSchema, scoped), **options)
        self.watch: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.watch is None:
            self.watch = asyncio.create_task(self.watch_key(), name="websocket-key-watch")

    async def shutdown(self) -> None:
        if self.watch is not None:
            self.watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watch
        await super().shutdown()

    async def watch_key(self) -> None:
        """Until the key is no longer valid; then every operation ends with UNAUTHENTICATED and the socket
        closes (4403). A database that cannot be reached to tell is not taken for a revocation."""
        view = cast(Any, self.view)
        access: AccessService = self.context.access
        revocations: KeyRevocations = access.revocations
        key_id = self.context.principal.key_id
        if key_id is None:
            return
        while True:
            await revocations.wait(key_id, timeout=access.cache.ttl)
            current = await view.identify(self.context)
            if current.unauthenticated is None or current.database_unreachable:
                continue
            for operation_id in list(self.operations):
                with contextlib.suppress(Exception):
                    await self.send_message(
                        {
                            "id": operation_id,
                            "type": "error",
                            "payload": [
                                {"message": current.unauthenticated, "extensions": {"code": "UNAUTHENTICATED"}}
                            ],
                        }
                    )
                await self.cleanup_operation(operation_id)
            await self.websocket.close(REVOKED_CLOSE_CODE, "API key revoked")
            return
