"""A webhook receiver on a loopback port, in a thread: answers each POST with the next scripted status and
records what it was sent."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    answered: int
    path: str = ""  # the request target as sent (a proxy is sent the absolute URL)


@dataclass
class WebhookReceiver:
    url: str
    script: list[int] = field(default_factory=list)  # statuses to answer, in order; then 200
    received: list[Received] = field(default_factory=list)

    def answer(self) -> int:
        return self.script.pop(0) if self.script else 200

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])


@contextlib.contextmanager
def serve_receiver() -> Iterator[WebhookReceiver]:
    """A receiver for as long as the block runs (the `receiver` fixture is one; a test may start more)."""
    found: list[WebhookReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            target = found[0]
            status = target.answer()
            target.received.append(Received(dict(self.headers.items()), body, status, self.path))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.append(WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/llm-usage"))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield found[0]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with serve_receiver() as started:
        yield started
