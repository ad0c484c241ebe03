"""The proxy's recorder: every proxied call becomes a UsageDraft, stored through `UsageService.track_batch` —
the ingest path of `trackUsageBatch` — in batches, off the response path. Calls are kept while the database
is away (up to `capacity`; beyond, new ones are dropped and counted) and stored once it answers; a batch the
ingest refuses (or the database, for a reason other than being away) is stored call by call, so one bad call
costs only itself; a call refused with content is stored again without it (its numbers are never lost to a shape
of content the ingest cannot read). Shutdown stores what is left."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from modules.core.errors import BadUserInput, LlmUsageError, Unavailable
from modules.core.principal import Principal
from modules.usage import TrackResult, UsageDraft

log = logging.getLogger(__name__)

BATCH_SIZE = 500
LINGER_S = 0.25  # a call waits this long for others to share its batch: a store costs the loop ~5-10 ms of CPU
CAPACITY = 100_000  # calls kept while the database is away (~1 KB each)
# Calls kept with their content (up to ~6 MB each: a 5 MiB request and a 1 MiB answer); beyond, a call is kept
# with its numbers only (counted as "content_dropped"), so a database away never grows memory by the content.
CONTENT_CAPACITY = 256
RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # waits between attempts while the database is away, the last repeated

# ("stored" | "duplicate" | "refused" | "dropped" | "content_dropped" | "pending", count)
Outcome = Callable[[str, int], None]


class TrackBatch(Protocol):
    """What the recorder needs of UsageService."""

    async def track_batch(self, principal: Principal, items: Sequence[UsageDraft]) -> list[TrackResult]: ...


class UsageRecorder:
    def __init__(
        self,
        usage: TrackBatch,
        *,
        capacity: int = CAPACITY,
        content_capacity: int = CONTENT_CAPACITY,
        batch_size: int = BATCH_SIZE,
        linger_s: float = LINGER_S,
        retry_s: Sequence[float] = RETRY_S,
        observe: Outcome | None = None,
        transient: Callable[[BaseException], bool] = lambda error: True,
    ) -> None:
        self.usage = usage
        self.capacity = capacity
        self.content_capacity = content_capacity
        self.with_content = 0  # queued calls that carry content
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.retry_s = retry_s
        self.observe = observe or (lambda outcome, count: None)
        self.transient = transient  # the shell's: the database cannot be reached (else a refused call)
        self.pending: deque[tuple[Principal, UsageDraft]] = deque()
        self.arrived = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def record(self, principal: Principal, draft: UsageDraft) -> None:
        """Queue a call; never waits, never raises."""
        if len(self.pending) >= self.capacity:
            self.observe("dropped", 1)
            return
        if carries_content(draft):
            if self.with_content >= self.content_capacity:
                draft = replace(draft, content_input=None, content_output=None)
                self.observe("content_dropped", 1)
            else:
                self.with_content += 1
        self.pending.append((principal, draft))
        self.observe("pending", len(self.pending))
        self.arrived.set()

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self.run(), name="proxy-recorder")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop, then store what is left (within `timeout_s`; what still fails is logged as lost)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
        try:
            async with asyncio.timeout(timeout_s):
                while self.pending:
                    if not await self.store_next():
                        await asyncio.sleep(self.retry_s[0])
        except TimeoutError:
            log.error("proxy recorder: %d calls could not be stored before shutdown", len(self.pending))
            self.observe("dropped", len(self.pending))
            self.pending.clear()

    async def run(self) -> None:
        failures = 0
        while True:
            if not self.pending:
                self.arrived.clear()
                await self.arrived.wait()
                await asyncio.sleep(self.linger_s)
            if await self.store_next():
                failures = 0
            else:
                await asyncio.sleep(self.retry_s[min(failures, len(self.retry_s) - 1)])
                failures += 1

    async def store_next(self) -> bool:
        """Store the oldest calls (one principal's, up to a batch); False: the database is away, they are kept."""
        principal = self.pending[0][0]
        batch: list[UsageDraft] = []
        for queued, draft in list(self.pending)[: self.batch_size * 4]:
            if queued == principal and len(batch) < self.batch_size:
                batch.append(draft)
        try:
            await self.store(principal, batch)
        except Exception as error:
            if self.waits(error):
                log.info("proxy recorder: %d calls kept until the database answers (%r)", len(self.pending), error)
                return False
            return await self.store_one_by_one(principal, batch)
        self.forget(principal, batch)
        return True

    async def store_one_by_one(self, principal: Principal, batch: list[UsageDraft]) -> bool:
        """A refused batch, call by call: only the calls refused themselves are lost (logged, counted)."""
        for draft in batch:
            try:
                await self.store_alone(principal, draft)
            except Exception as error:
                if self.waits(error):
                    return False  # the database left meanwhile: the rest of the batch is kept
                log.warning("proxy recorder: a call of %s was refused: %r", draft.provider, error)
                self.observe("refused", 1)
            self.forget(principal, [draft])
        return True

    async def store_alone(self, principal: Principal, draft: UsageDraft) -> None:
        """One call; refused with content, once more without it."""
        try:
            await self.store(principal, [draft])
        except BadUserInput as refused:
            if not carries_content(draft):
                raise
            log.info("proxy recorder: a call of %s is stored without its content: %s", draft.provider, refused)
            await self.store(principal, [replace(draft, content_input=None, content_output=None)])

    def waits(self, error: BaseException) -> bool:
        """Whether `error` says the database is away (then calls wait for it), not that the calls are refused."""
        if isinstance(error, Unavailable):
            return True
        return not isinstance(error, LlmUsageError) and self.transient(error)

    async def store(self, principal: Principal, batch: list[UsageDraft]) -> None:
        results = await self.usage.track_batch(principal, batch)
        duplicates = sum(result.duplicate for result in results)
        self.observe("stored", len(results) - duplicates)
        if duplicates:
            self.observe("duplicate", duplicates)

    def forget(self, principal: Principal, stored: list[UsageDraft]) -> None:
        """Take the stored calls out of the queue (calls queued meanwhile stay, in order)."""
        gone = {id(draft) for draft in stored}
        self.pending = deque(item for item in self.pending if id(item[1]) not in gone)
        self.with_content = sum(carries_content(draft) for _, draft in self.pending)
        self.observe("pending", len(self.pending))


def carries_content(draft: UsageDraft) -> bool:
    return draft.content_input is not None or draft.content_output is not None
