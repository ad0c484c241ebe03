"""A tracker's settings, shared by its queue and its sender, and the one place events are reported lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from llm_usage_client.reports import Rejected, TrackerStats

log = logging.getLogger("llm_usage_client")


@dataclass
class Settings:
    url: str
    api_key: str
    workspace_id: str | None = None
    batch_size: int = 500
    flush_interval: float = 1.0
    max_queue: int = 100_000
    max_retry_seconds: float = 120.0
    max_in_flight: int = 2
    timeout: float = 10.0
    on_error: Callable[[Rejected], None] | None = None
    stats: TrackerStats = field(default_factory=TrackerStats)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000 (the server's batch limit)")
        if not 1 <= self.max_in_flight <= 16:
            raise ValueError("max_in_flight must be between 1 and 16")
        self.graphql_url = self.url.rstrip("/") + ("" if self.url.rstrip("/").endswith("/graphql") else "/graphql")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def report(self, rejected: Rejected, *, refused: bool = False) -> None:
        """Count the events (refused by track(), else rejected or failed), log, and tell on_error, whose own
        failure is logged and never reaches the caller or the sender."""
        if refused:
            self.stats.refused += len(rejected.events)
        elif rejected.permanent:
            self.stats.rejected += len(rejected.events)
        else:
            self.stats.failed += len(rejected.events)
        log.warning("llm-usage: %d event(s) not stored: %s", len(rejected.events), rejected.reason)
        if self.on_error is not None:
            try:
                self.on_error(rejected)
            except Exception:
                log.exception("llm-usage: on_error callback failed")
