"""Group commit: concurrent single trackUsage calls of one process share one storing transaction, so N callers
cost one BEGIN … COMMIT and one pass of the rollup, user and budget statements instead of N queued on the same
rollup rows. A lone call is not delayed beyond `window_s`; calls arriving while a group's transaction is in
flight form the next group. Each caller still gets its own answer and its own error: a group that fails is
split in halves until the failing inputs stand alone, so a bad event never fails its neighbours."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.exc import DBAPIError

from modules.core.errors import Unavailable
from modules.usage.ingest.storing import AcceptedInput, EventWriter
from modules.usage.records import TrackResult

log = logging.getLogger(__name__)
DEFAULT_WINDOW_S = 0.002  # how long the first call of a group waits for others: small against a 25 ms p99
DEFAULT_MAX_GROUP = 500  # inputs per transaction, as a large batch


@dataclass
class Waiting:
    """The calls waiting for the next transaction of one writer, and the task that stores them."""

    calls: list[tuple[AcceptedInput, asyncio.Future[TrackResult]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class GroupCommit:
    """Per process (one per container): `submit` stores one accepted input with whatever else arrives now."""

    def __init__(self, *, window_s: float = DEFAULT_WINDOW_S, max_group: int = DEFAULT_MAX_GROUP) -> None:
        self.window_s = window_s
        self.max_group = max_group
        self.waiting: dict[EventWriter, Waiting] = {}

    async def submit(self, writer: EventWriter, accepted: AcceptedInput) -> TrackResult:
        """The input's own result, or its own error, once the transaction it joined has ended."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TrackResult] = loop.create_future()
        waiting = self.waiting.setdefault(writer, Waiting())
        waiting.calls.append((accepted, future))
        if waiting.task is None:
            waiting.task = loop.create_task(self._drain(writer, waiting), name="ingest-group-commit")
        return await future

    async def _drain(self, writer: EventWriter, waiting: Waiting) -> None:
        """Store groups until no call waits; the calls that arrive meanwhile wait for the next group."""
        group: list[tuple[AcceptedInput, asyncio.Future[TrackResult]]] = []
        try:
            while waiting.calls:
                if self.window_s > 0:
                    await asyncio.sleep(self.window_s)
                group, waiting.calls = waiting.calls[: self.max_group], waiting.calls[self.max_group :]
                await self._store(writer, group)
        finally:
            for _, future in [*group, *waiting.calls]:  # unanswered only if the drain was cancelled (shutdown)
                if not future.done():
                    future.set_exception(
                        Unavailable(
                            "the server is stopping: retry (the same requestId is never stored twice)", retryable=True
                        )
                    )
            waiting.calls.clear()
            waiting.task = None
            if self.waiting.get(writer) is waiting:
                del self.waiting[writer]

    async def _store(
        self, writer: EventWriter, group: Sequence[tuple[AcceptedInput, asyncio.Future[TrackResult]]]
    ) -> None:
        try:
            results = await writer.store([accepted for accepted, _ in group])
        except Exception as error:
            if len(group) > 1 and splittable(error):
                log.info("a group of %s calls failed (%s); storing its halves apart", len(group), error)
                half = len(group) // 2
                await self._store(writer, group[:half])
                await self._store(writer, group[half:])
                return
            for _, future in group:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():  # a caller that went away (its request cancelled) is not answered
                future.set_result(result)


def splittable(error: Exception) -> bool:
    """Whether the error may belong to some inputs of the group only (an input refused, a row the database
    refuses, a hook failing on one event): not when the database is away, which every half would meet too."""
    if isinstance(error, Unavailable | OSError | asyncpg.PostgresConnectionError):
        return False
    return not (isinstance(error, DBAPIError) and error.connection_invalidated)
