"""A unit of work retried when PostgreSQL aborts it to resolve a conflict with another (deadlock, serialization
failure): the same work done again succeeds once the other has committed. Writers lock rows in a fixed order,
so this is the rare case; after the last attempt the caller is told to retry."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database
from modules.core.errors import Unavailable

T = TypeVar("T")
log = logging.getLogger(__name__)
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
ATTEMPTS = 4


def conflict(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in CONFLICT_SQLSTATES


async def with_retries(database: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in a transaction of its own, again (after a short random pause) when it lost a conflict."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with database.session_factory.begin() as session:
                return await work(session)
        except DBAPIError as error:
            if not conflict(error):
                raise
            log.info("transaction lost a conflict (attempt %s of %s): %s", attempt, ATTEMPTS, error.orig)
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
    raise Unavailable("concurrent writes conflicted; nothing was written. Retry.", retryable=True, retryAfter=1)
