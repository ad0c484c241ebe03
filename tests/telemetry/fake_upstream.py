"""A tiny fake OpenAI and Anthropic on a loopback port: each answers with a recorded response body, so the
official SDKs (and the instrumentations around them) make real HTTP calls and read real usage."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.live_server import free_port

# gpt-4o-2024-08-06: 1,000 prompt tokens of which 400 cached, 100 completion tokens.
CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-otlp-1",
    "object": "chat.completion",
    "created": 1764000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello."}, "finish_reason": "stop", "logprobs": None}
    ],
    "usage": {
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "total_tokens": 1100,
        "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "system_fingerprint": "fp_otlp",
}
# claude-3-5-haiku-20241022: 500 uncached input tokens, 1,000 read from cache, 300 written to it, 100 output.
ANTHROPIC_MESSAGE: dict[str, Any] = {
    "id": "msg_otlp_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-3-5-haiku-20241022",
    "content": [{"type": "text", "text": "Hello."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 500,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 300,
        "output_tokens": 100,
    },
}


def stream_chunks() -> list[dict[str, Any]]:
    """The same answer streamed: a role chunk, two content chunks, the finish, then the usage chunk."""
    base = {k: CHAT_COMPLETION[k] for k in ("id", "created", "model", "system_fingerprint")}
    deltas = [{"role": "assistant", "content": ""}, {"content": "Hel"}, {"content": "lo."}]
    chunks = [
        {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
        for d in deltas
    ]
    chunks.append(
        {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )
    chunks.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": CHAT_COMPLETION["usage"]})
    return chunks


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    if body.get("model") == "gpt-4o-rate-limited":
        error = {"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded", "code": "rate_limit"}}
        return JSONResponse(error, status_code=429)
    if body.get("stream"):

        async def events() -> AsyncIterator[bytes]:
            for chunk in stream_chunks():
                yield f"data: {json.dumps(chunk)}\n\n".encode()
                await asyncio.sleep(0.05)  # the first token comes before the last
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")
    return JSONResponse(CHAT_COMPLETION)


async def messages(_: Request) -> JSONResponse:
    return JSONResponse(ANTHROPIC_MESSAGE)


@contextlib.contextmanager
def fake_upstream() -> Iterator[str]:
    """The base URL of a fake upstream serving /v1/chat/completions and /v1/messages, for the block."""
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the fake upstream did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
