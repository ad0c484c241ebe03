"""The proxy endpoint (ASGI): our key checked, the request forwarded with the caller's own provider key, the
answer relayed chunk by chunk as it arrives (each `send` waits while the client reads slowly: back-pressure
reaches the upstream), the call handed to the recorder once it ends. A client that leaves closes the
upstream request at once."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import aiohttp
from multidict import CIMultiDict
from starlette.types import Receive, Scope, Send
from yarl import URL

from modules.core.addresses import AddressRefused, Unresolvable
from modules.core.asgi import read_body, wait_for_disconnect
from modules.core.principal import Principal
from modules.proxy.access import ProxyAccess
from modules.proxy.apis import Api, Reader, UsageEndpoint, usage_endpoint
from modules.proxy.capture import Capture, CapturedContent, ContentSwitch
from modules.proxy.decoding import BodyDecoder
from modules.proxy.drafts import Outcome, Target, draft_of
from modules.proxy.error_shapes import ProxyRefusal, Refusal, error_body, upstream_error_message, upstream_error_type
from modules.proxy.headers import Attribution, attribution, response_headers, upstream_request_headers
from modules.proxy.instance_addresses import check_literal_host
from modules.proxy.readers import CallReader, reader_for
from modules.proxy.recorder import UsageRecorder
from modules.proxy.routes import ProxyRoute, api_of, route_of
from modules.proxy.sse import SseSplitter
from modules.proxy.upstreams import UpstreamClients, joined

log = logging.getLogger(__name__)
MAX_READ_BODY = 32 * 1024 * 1024  # of an answer kept to read its usage (a larger one is recorded without)
CallObserver = Callable[[str, str], None]  # (api, outcome)


@dataclass
class Exchange:
    """One proxied call as it goes: what was asked, what came back so far."""

    route: ProxyRoute
    started: float
    occurred_at: datetime
    endpoint: UsageEndpoint | None = None
    reader: CallReader = field(default_factory=CallReader)
    request_model: str | None = None
    streamed: bool = False
    status_code: int | None = None
    answered: bool = False  # the answer's head was sent
    last_byte_at: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    kept: list[bytes] = field(default_factory=list)  # a non-streamed answer, decoded, to read at the end
    kept_bytes: int = 0
    capture: Capture | None = None  # its content, when its workspace may keep it


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    url: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    checked: bool = False  # a provider instance's URL: only the addresses the operator lets through


class ProxyEndpoint:
    def __init__(
        self,
        *,
        access: ProxyAccess,
        clients: UpstreamClients,
        recorder: UsageRecorder,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        observe: CallObserver | None = None,
        content: ContentSwitch | None = None,
    ) -> None:
        self.access = access
        self.clients = clients
        self.recorder = recorder
        self.clock = clock
        self.now = now
        self.observe = observe or (lambda api, outcome: None)
        self.content = content  # None: content is never captured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        started = self.clock()
        try:
            route = route_of(raw_path)
            exchange = Exchange(route=route, started=started, occurred_at=self.now())
            headers: list[tuple[bytes, bytes]] = list(scope["headers"])
            given = attribution(headers)
            principal = await self.access.principal(given.key)
            target, workspace, base_url = await self.destination(principal, given, route)
        except ProxyRefusal as refusal:
            self.observe(api_of(raw_path).value, "refused")
            await refuse(send, api_of(raw_path), refusal)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client left before its request was whole: nothing went upstream
        method: str = scope["method"]
        exchange.endpoint = usage_endpoint(route.api, method, unquote(route.path.decode("latin-1")))
        if exchange.endpoint is not None and self.content is not None:
            exchange.capture = Capture(self.content, workspace, exchange.endpoint.reader)
        body, replaced = self.prepare(exchange, body)
        request = UpstreamRequest(
            method=method,
            url=joined(base_url, route.path, scope.get("query_string", b"")),
            headers=upstream_request_headers(headers, body_replaced=replaced),
            body=body,
            checked=route.instance is not None,
        )
        await self.exchange(exchange, request, receive, send)
        self.observe(route.api.value, exchange_outcome(exchange))
        if exchange.endpoint is not None:
            content = None if exchange.capture is None else await exchange.capture.content(exchange.status_code)
            self.record(principal, workspace, given, target, exchange, content)

    async def destination(self, principal: Principal, given: Attribution, route: ProxyRoute) -> tuple[Target, str, str]:
        """Whose usage the call is, the workspace it is recorded into, and the base URL it goes to."""
        if route.instance is None:
            workspace = await self.access.workspace(principal, given.workspace)
            return Target(provider=route.provider, api_flavor=None), workspace, self.clients.base_url(route.api)
        instance = await self.access.instance(principal, route.instance)
        try:
            check_literal_host(str(instance.base_url), self.clients.settings.instance_allow)
        except AddressRefused as refused:
            reason = f"this provider instance's base URL may not be reached: {refused}"
            raise ProxyRefusal(Refusal.FORBIDDEN, reason) from None
        target = Target(provider=instance.provider, api_flavor=None, provider_instance_id=str(instance.id))
        return target, str(instance.workspace_id), str(instance.base_url)

    def prepare(self, exchange: Exchange, body: bytes) -> tuple[bytes, bool]:
        """Read what a recorded call asks (model, stream); an OpenAI chat stream that does not ask for usage is
        asked for it (the reader removes it again). Returns the body to send and whether it was rewritten."""
        endpoint = exchange.endpoint
        if endpoint is None:
            return body, False
        try:
            asked = json.loads(body) if body else None
        except ValueError:
            asked = None
        if exchange.capture is not None:
            exchange.capture.asked = asked  # as the client sent it, before any usage is asked for
        if not isinstance(asked, dict):
            asked = {}
        model = asked.get("model") or endpoint.model_in_path
        exchange.request_model = str(model) if model else None
        exchange.streamed = asked.get("stream") is True or endpoint.streamed_by_path
        options = asked.get("stream_options")
        wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        add_usage = endpoint.reader is Reader.CHAT and exchange.streamed and not wants_usage
        exchange.reader = reader_for(endpoint.reader, remove_usage=add_usage)
        if not add_usage:
            return body, False
        options = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        return json.dumps({**asked, "stream_options": options}, ensure_ascii=False).encode(), True

    async def exchange(self, exchange: Exchange, request: UpstreamRequest, receive: Receive, send: Send) -> None:
        """Relay the upstream's answer; the client leaving cancels it (and so closes the upstream request)."""
        relay = asyncio.ensure_future(self.relay(exchange, request, send))
        left = asyncio.ensure_future(wait_for_disconnect(receive))
        await asyncio.wait((relay, left), return_when=asyncio.FIRST_COMPLETED)
        if not relay.done():
            relay.cancel()
            exchange.error_type = exchange.error_type or "client_disconnected"
            exchange.error_message = "the client closed the connection before the answer ended"
        left.cancel()
        await asyncio.gather(relay, left, return_exceptions=True)
        exchange.last_byte_at = exchange.last_byte_at or self.clock()

    async def relay(self, exchange: Exchange, request: UpstreamRequest, send: Send) -> None:
        api = exchange.route.api
        try:
            response = await self.clients.client(request.url, checked=request.checked).request(
                request.method,
                URL(request.url, encoded=True),  # the caller's path and query as sent, percent-encoding kept
                headers=CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers),
                data=request.body,
                allow_redirects=False,
            )
        except TimeoutError:
            await self.fail(exchange, send, api, Refusal.UPSTREAM_TIMEOUT, "the upstream did not answer in time")
            return
        except AddressRefused as refused:  # a provider instance's host name resolved where the proxy may not go
            reason = f"this provider instance's base URL may not be reached: {refused}"
            await self.fail(exchange, send, api, Refusal.FORBIDDEN, reason)
            return
        except Unresolvable as unresolved:
            await self.fail(
                exchange, send, api, Refusal.UPSTREAM_UNREACHABLE, f"the upstream cannot be reached: {unresolved}"
            )
            return
        except aiohttp.ClientError as error:
            reason = f"the upstream cannot be reached ({type(error).__name__})"
            await self.fail(exchange, send, api, Refusal.UPSTREAM_UNREACHABLE, reason)
            return
        try:
            await self.answer(exchange, response, send)
        except (TimeoutError, aiohttp.ClientError) as error:  # mid-answer: the caller sees its connection end early
            exchange.error_type = "upstream_timeout" if isinstance(error, TimeoutError) else "upstream_closed"
            exchange.error_message = f"the upstream's answer broke off ({type(error).__name__})"
        except Exception:  # a bug of ours must not hang the caller: the answer ends, the call is recorded
            log.exception("proxy: relaying the upstream's answer failed")
            exchange.error_type, exchange.error_message = "upstream_closed", "the proxy could not relay the answer"
            if not exchange.answered:
                await refuse(send, api, ProxyRefusal(Refusal.UPSTREAM_UNREACHABLE, exchange.error_message))
        finally:
            # a whole answer's connection goes back to the pool; one cut short (the caller left) is closed at once
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    async def answer(self, exchange: Exchange, response: aiohttp.ClientResponse, send: Send) -> None:
        exchange.status_code = response.status
        reader = exchange.reader
        sse = response.headers.get("content-type", "").startswith("text/event-stream")
        rewrites = sse and reader.rewrites
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": response_headers(response.raw_headers, body_rewritten=rewrites),
            }
        )
        exchange.answered = True
        decoder = BodyDecoder(response.headers.get("content-encoding"))
        splitter = SseSplitter() if sse and exchange.endpoint is not None else None
        if splitter is not None and exchange.capture is not None:
            reader.transcript = exchange.capture.stream()
        async for chunk in response.content.iter_any():
            at = self.clock()
            if rewrites and splitter is not None:
                events = splitter.feed(decoder.decode(chunk))
                shown = b"".join(out for event in events if (out := reader.on_event(event, at)) is not None)
                if shown:
                    await send({"type": "http.response.body", "body": shown, "more_body": True})
                continue
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if exchange.endpoint is None:
                continue
            if splitter is not None:
                for event in splitter.feed(decoder.decode(chunk)):
                    reader.on_event(event, at)
            elif exchange.kept_bytes <= MAX_READ_BODY:
                decoded = decoder.decode(chunk)
                exchange.kept.append(decoded)
                exchange.kept_bytes += len(decoded)
        rest = splitter.rest() if rewrites and splitter is not None else b""
        await send({"type": "http.response.body", "body": rest, "more_body": False})
        exchange.last_byte_at = self.clock()
        if exchange.endpoint is not None and splitter is None:
            self.read_answer(exchange)

    def read_answer(self, exchange: Exchange) -> None:
        """A whole answer: the usage of a success, the error type of a failure."""
        try:
            body: Any = json.loads(b"".join(exchange.kept)) if exchange.kept_bytes <= MAX_READ_BODY else None
        except ValueError:
            body = None
        exchange.kept.clear()
        status = exchange.status_code or 0
        if status >= 400:
            exchange.error_type = upstream_error_type(body, status)
            exchange.error_message = upstream_error_message(body)
        else:
            exchange.reader.on_body(body)
            if exchange.capture is not None and exchange.capture.wanted:
                exchange.capture.answer = body

    async def fail(self, exchange: Exchange, send: Send, api: Api, refusal: Refusal, message: str) -> None:
        exchange.error_type, exchange.error_message = refusal.value, message
        await refuse(send, api, ProxyRefusal(refusal, message))

    def record(
        self,
        principal: Principal,
        workspace: str,
        given: Attribution,
        target: Target,
        exchange: Exchange,
        content: CapturedContent | None,
    ) -> None:
        read = exchange.reader.read
        if exchange.endpoint is not None:
            target = replace(target, api_flavor=exchange.endpoint.api_flavor)
        end = exchange.last_byte_at or self.clock()
        first = read.first_content_at if exchange.streamed else None
        outcome = Outcome(
            occurred_at=exchange.occurred_at,
            duration_ms=max(0, round((end - exchange.started) * 1000)),
            time_to_first_token_ms=None if first is None else max(0, round((first - exchange.started) * 1000)),
            streamed=exchange.streamed,
            status_code=exchange.status_code,
            error_type=exchange.error_type,
            error_message=exchange.error_message,
        )
        draft = draft_of(workspace, given, target, read, outcome, request_model=exchange.request_model, content=content)
        self.recorder.record(principal, draft)


OUTCOMES = frozenset({*(r.value for r in Refusal), "client_disconnected", "upstream_closed"})


def exchange_outcome(exchange: Exchange) -> str:
    """The call's outcome as a metric label: from a set of ours (an upstream's error types are not bounded)."""
    if exchange.error_type in OUTCOMES:
        return str(exchange.error_type)
    return "ok" if (exchange.status_code or 0) < 400 else "upstream_error"


async def refuse(send: Send, api: Api, refusal: ProxyRefusal) -> None:
    body = error_body(api, refusal.refusal, str(refusal))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refusal.retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(refusal.retry_after))).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
