"""The streamed body of an export, with the deadlines that give its database connection back.

An export holds a connection of the exports' pool, in a transaction with an open cursor, for as long as its
client downloads. So it ends, the cursor closed and the connection returned, when
- the whole export outlasts its deadline (a client reading just fast enough never to stall);
- one write stays blocked `stall_s` (the client reads nothing: its socket buffers are full);
- the client leaves (uvicorn's `send` then returns without a word, so the disconnect is watched for).
A cut export ends without HTTP's last chunk: the client sees an incomplete download, never a short file that
passes for the whole range (uvicorn logs that the response was not completed, and closes the connection).
Starlette's StreamingResponse cancels the body on a disconnect, mid-fetch; here the body is closed between
two chunks instead, so the session's rollback runs, not an interrupted query.
Formatting rows takes the CPU as fast as the client's buffers take them (4 MB of socket buffer before a
silent client blocks a write): the loop runs other requests between two chunks of rows (a few ms each), and
the chunks are written SEND_CHARS at a time (one write per chunk cost 17% of a big export's time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from modules.core.asgi import wait_for_disconnect

log = logging.getLogger(__name__)
SEND_CHARS = 64 * 1024  # asyncio's write buffer high-water mark: one write fills it


class ExportResponse(StreamingResponse):
    def __init__(
        self,
        body: AsyncGenerator[str, None],
        *,
        deadline: float,
        stall_s: float,
        on_close: Callable[[], None],
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        """`deadline`: when the export must be over, in the event loop's time; `on_close` runs once it is."""
        super().__init__(body, media_type=media_type, headers=headers)
        self.chunks = body  # not `body`: Response.body is the bytes of a plain response
        self.deadline = deadline
        self.stall_s = stall_s
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watching = asyncio.create_task(watch_for_disconnect(receive, gone))
        pieces = coalesced(self.chunks, SEND_CHARS)
        try:
            await self.stream(pieces, send, gone, head=scope.get("method") == "HEAD")
        finally:
            watching.cancel()
            try:
                await pieces.aclose()
                await self.chunks.aclose()  # the cursor and the transaction closed, the connection back in the pool
            except Exception as error:  # a connection PostgreSQL already ended (idle_in_transaction): dropped
                log.warning("closing a cut export failed: %r", error)
            finally:
                self.on_close()

    async def stream(self, pieces: AsyncGenerator[str, None], send: Send, gone: asyncio.Event, *, head: bool) -> None:
        """The rows (none for HEAD: uvicorn would drop them after they were read and formatted)."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if head:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        whole = asyncio.timeout_at(self.deadline)
        try:
            async with whole:
                async for piece in pieces:
                    async with asyncio.timeout(self.stall_s):
                        await send({"type": "http.response.body", "body": piece.encode(), "more_body": True})
                    if gone.is_set():
                        return
        except TimeoutError:
            if whole.expired():
                log.warning("export cut at its deadline: the whole export took too long")
            else:
                log.warning("export cut: its client read nothing for %s s", self.stall_s)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def coalesced(chunks: AsyncGenerator[str, None], size: int) -> AsyncGenerator[str, None]:
    """`chunks` joined into pieces of about `size` characters, the event loop running other tasks after each
    chunk: neither the formatting nor a send into free buffers would let it."""
    pending: list[str] = []
    length = 0
    async for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        await asyncio.sleep(0)
        if length >= size:
            yield "".join(pending)
            pending.clear()
            length = 0
    if pending:
        yield "".join(pending)


async def watch_for_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    await wait_for_disconnect(receive)
    gone.set()
