"""Reading an ASGI request: its whole body, or waiting for its client to leave. The shell's admission gate and
the proxy both hold a request's body before passing it on, and the exports and the proxy stop work whose client
has gone."""

from __future__ import annotations

from starlette.types import Receive


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client disconnects first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def wait_for_disconnect(receive: Receive) -> None:
    """Returns when the client has disconnected (what it sends meanwhile is dropped: its body was read)."""
    while (await receive())["type"] != "http.disconnect":
        pass
