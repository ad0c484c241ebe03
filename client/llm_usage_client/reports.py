"""What a tracker tells its user: counters anyone can read, and each event it will not store, with why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TrackerStats:
    """Counts since the tracker started. Each event given to track() is `refused` (it could never be stored:
    never queued), `dropped_queue_full` (the queue was full, or the tracker closing) or `queued`; once flushed,
    each queued event is `inserted`, `duplicates` (stored before, under its requestId), `rejected` (the server
    refused it, or it could not be encoded as JSON) or `failed` (given up, not known to be stored: the server
    was unreachable for max_retry_seconds, or the sender met an unexpected error). `retries` counts requests
    sent again."""

    queued: int = 0
    inserted: int = 0
    duplicates: int = 0
    refused: int = 0
    dropped_queue_full: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0

    @property
    def dropped(self) -> int:
        """Every event given to track() that will not be stored, whatever the reason."""
        return self.refused + self.dropped_queue_full + self.rejected + self.failed


@dataclass(frozen=True)
class Rejected:
    """Events that will not be stored, and why: what `on_error` receives. Refused by track(): `events` holds
    the keyword arguments given; refused by the server or the JSON encoding: the TrackUsageInput sent, one
    event per report; `permanent` False: given up on, though the events may be fine. `field` is the track()
    keyword at fault, when one is."""

    events: list[dict[str, Any]]
    reason: str
    permanent: bool = True
    field: str | None = None
