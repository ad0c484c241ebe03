"""A stand-in for the OpenAI, Anthropic and Gemini APIs on a loopback port: it replays recorded wire-format
fixtures (tests/fixtures/proxy: JSON bodies, SSE streams event by event), gzips bodies when asked (as the
providers do), remembers every request it got, and fails, stalls or paces when a test says so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.live_server import free_port

FIXTURES = Path(__file__).parent.parent / "fixtures" / "proxy"


def fixture(name: str) -> str:
    """A fixture as recorded: its line ends kept (Gemini's SSE ends its events with CRLF CRLF)."""
    with (FIXTURES / name).open(newline="") as recorded:
        return recorded.read()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


def sse_events(text: str) -> list[str]:
    """An SSE fixture cut into its events (each with its blank line), as the upstream sends them."""
    separator = "\r\n\r\n" if "\r\n\r\n" in text else "\n\n"
    return [part + separator for part in text.split(separator) if part]


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def sent_headers(self) -> list[tuple[str, str]]:
        """The end-to-end headers: not Host (the proxy's upstream differs from the caller's), not Connection."""
        return [(key, value) for key, value in self.headers if key not in ("host", "connection")]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[Received] = []
        self.failures: deque[Failure] = deque()
        self.stall_after_first_event = False
        self.stream_closed = threading.Event()  # a stalled stream's connection went away
        self.pause_before_content_s = 0.0  # a stream waits this long before its first content event
        self.delay_s = 0.0  # every answer waits this long before it starts
        self.remember = True  # the bench's upstream remembers nothing
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/responses", self.responses, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/v1/messages", self.messages, methods=["POST"]),
                Route("/v1beta/models/{call:path}", self.gemini, methods=["POST"]),
                Route("/v1/models/{call:path}", self.gemini, methods=["POST"]),  # google-genai 3 calls v1
            ]
        )
        app.add_middleware(GZipMiddleware, minimum_size=100)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def fail_next(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.failures.append(Failure(status, body, headers or {}))

    async def answer(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """The request, remembered; a failure the test asked for, if any."""
        body = await request.body()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        if self.remember:
            self.received.append(Received(request.method, request.url.path, request.url.query, headers, body))
        delay_s = self.delay_s or float(request.headers.get("x-fake-delay-ms", "0")) / 1000  # the bench's model time
        if delay_s:
            await asyncio.sleep(delay_s)
        if self.failures:
            failure = self.failures.popleft()
            return {}, JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        return (json.loads(body) if body else {}), None

    def stream(self, name: str, *, content_marker: str, request: Request) -> StreamingResponse:
        """The fixture event by event; with `x-fake-stall` (the bench's open streams) or when the test says so,
        it holds after the first event until the client leaves."""
        events = sse_events(fixture(name))
        stall = self.stall_after_first_event or request.headers.get("x-fake-stall") == "1"

        async def replay() -> AsyncIterator[bytes]:
            try:
                for index, event in enumerate(events):
                    if self.pause_before_content_s and content_marker in event:
                        await asyncio.sleep(self.pause_before_content_s)
                        self.pause_before_content_s = 0.0
                    yield event.encode()
                    if stall and index == 0:
                        await asyncio.sleep(60)
            finally:
                self.stream_closed.set()

        return StreamingResponse(replay(), media_type="text/event-stream")

    async def chat(self, request: Request) -> Response:
        asked, failed = await self.answer(request)
        if failed:
            return failed
        if asked.get("stream"):
            with_usage = (asked.get("stream_options") or {}).get("include_usage")
            name = "openai_chat_stream_usage.sse" if with_usage else "openai_chat_stream.sse"
            return self.stream(name, content_marker='"content":"Hello"', request=request)
        return JSONResponse(fixture_json("openai_chat_tools.json" if asked.get("tools") else "openai_chat.json"))

    async def responses(self, request: Request) -> Response:
        asked, failed = await self.answer(request)
        if failed:
            return failed
        if asked.get("stream"):
            return self.stream("openai_responses_stream.sse", content_marker="output_text.delta", request=request)
        return JSONResponse(fixture_json("openai_responses.json"))

    async def embeddings(self, request: Request) -> Response:
        _, failed = await self.answer(request)
        return failed or JSONResponse(fixture_json("openai_embeddings.json"))

    async def models(self, request: Request) -> Response:
        _, failed = await self.answer(request)
        listed = {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "openai"}]}
        return failed or JSONResponse(listed)

    async def messages(self, request: Request) -> Response:
        asked, failed = await self.answer(request)
        if failed:
            return failed
        if asked.get("stream"):
            return self.stream("anthropic_messages_stream.sse", content_marker="content_block_delta", request=request)
        return JSONResponse(fixture_json("anthropic_messages.json"))

    async def gemini(self, request: Request) -> Response:
        _, failed = await self.answer(request)
        if failed:
            return failed
        if request.path_params["call"].endswith(":streamGenerateContent"):
            return self.stream("gemini_stream.sse", content_marker='"text": "Hi"', request=request)
        return JSONResponse(fixture_json("gemini_generate_content.json"))

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the fake upstream did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@contextlib.contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    upstream.start()
    try:
        yield upstream
    finally:
        upstream.stop()


if __name__ == "__main__":  # the bench's upstream, in a process of its own: python -m tests.proxy.fake_upstream PORT
    import sys

    served = FakeUpstream()
    served.remember = False
    served.server.config.port = int(sys.argv[1])
    served.server.run()
