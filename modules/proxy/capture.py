"""A proxied call's content — what the client sent and what the upstream answered — captured only when the
call's workspace keeps content. Whether it does is asked once per call, concurrently with the upstream request
(never on the response path); until it is known, a stream is kept speculatively (bounded by the transcript's
cap) and dropped if the answer is no."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from modules.proxy.apis import Reader
from modules.proxy.transcripts import Transcript, reassembled, transcript_for

log = logging.getLogger(__name__)


class ContentSwitch(Protocol):
    """What the proxy needs of the usage module's ContentKeeper."""

    async def enabled(self, workspace_id: UUID) -> bool: ...


@dataclass(frozen=True)
class CapturedContent:
    """The call's content as ingest takes it (UsageDraft's `content_input`, `content_output`)."""

    input: Any
    output: Any


async def keeps_content(switch: ContentSwitch, workspace: str) -> bool:
    """Whether the workspace keeps content now; a failure to tell (the database away) captures nothing."""
    try:
        return await switch.enabled(UUID(workspace))
    except Exception as error:
        log.info("proxy: whether workspace %s keeps content is unknown (%r): none captured", workspace, error)
        return False


class Capture:
    def __init__(self, switch: ContentSwitch, workspace: str, reader: Reader) -> None:
        self.decided = asyncio.ensure_future(keeps_content(switch, workspace))
        self.reader = reader
        self.asked: Any = None  # the request body as the client sent it (parsed)
        self.answer: Any = None  # a whole (not streamed as events) successful answer's body
        self.transcript: Transcript | None = None

    @property
    def wanted(self) -> bool:
        """Whether the content may still be kept: on, or not known yet."""
        return not self.decided.done() or self.decided.result()

    def stream(self) -> Transcript | None:
        """A transcript for the answer's events, or None when content is known to be off."""
        if self.wanted:
            self.transcript = transcript_for(self.reader)
        return self.transcript

    async def content(self, status_code: int | None) -> CapturedContent | None:
        """What is recorded with the call: None when content is off; an upstream error has no output."""
        if not await self.decided:
            return None
        output: Any = None
        if status_code is not None and status_code < 400:
            if isinstance(self.answer, list):
                output = reassembled(self.reader, self.answer)
            elif self.answer is not None:
                output = self.answer
            elif self.transcript is not None:
                output = self.transcript.output()
        if self.asked is None and output is None:
            return None
        return CapturedContent(input=self.asked, output=output)
