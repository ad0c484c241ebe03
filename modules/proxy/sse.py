"""Server-sent events cut out of a byte stream as it arrives (WHATWG HTML §9.2): an event ends at a blank
line; its `data:` lines joined. Each event keeps its raw bytes, so it can be forwarded exactly as it came."""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
LINE = re.compile(rb"\r\n|\n|\r")


@dataclass(frozen=True)
class SseEvent:
    raw: bytes  # the event as received, its blank line included
    event: str | None
    data: str


class SseSplitter:
    """Feed bytes, get the events they complete; what follows the last blank line waits for more."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self.pending += chunk
        events = []
        start = 0
        for end in EVENT_END.finditer(self.pending):
            events.append(parse_event(self.pending[start : end.end()], self.pending[start : end.start()]))
            start = end.end()
        self.pending = self.pending[start:]
        return events

    def rest(self) -> bytes:
        """What the stream ended with after its last complete event."""
        rest, self.pending = self.pending, b""
        return rest


def parse_event(raw: bytes, block: bytes) -> SseEvent:
    name: str | None = None
    data: list[str] = []
    for line in LINE.split(block):
        if not line or line.startswith(b":"):
            continue
        key, _, value = line.decode("utf-8", "replace").partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value
    return SseEvent(raw=raw, event=name, data="\n".join(data))
