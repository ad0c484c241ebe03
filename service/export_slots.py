"""How many exports run in this process: at most `pool_size` in all (one more would only wait for a connection of
the exports' pool, holding its request meanwhile) and `per_key` for one key, so that a key cannot take every
export connection. Refusals are immediate and retryable: RATE_LIMITED (429) for the key's own limit,
UNAVAILABLE (503) when the process runs all the exports it can; both with Retry-After.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable

from modules.core.errors import RateLimited, Unavailable
from service.export_limits import ExportLimits


class ExportSlots:
    def __init__(self, limits: ExportLimits) -> None:
        self.limits = limits
        self.by_key: Counter[Hashable] = Counter()
        self.running = 0

    def claim(self, key: Hashable) -> Callable[[], None]:
        """A slot for one export of `key`, or the refusal; call the returned function, once or more, to free it.
        No await between the check and the count: one event loop, no race."""
        limits = self.limits
        if self.by_key[key] >= limits.per_key:
            raise RateLimited(
                f"this key already runs {limits.per_key} exports, the most it may at once: retry when one ends",
                retryAfter=limits.retry_after_s,
            )
        if self.running >= limits.pool_size:
            raise Unavailable(
                "The server runs as many exports as it can; nothing was done. Retry shortly.",
                retryable=True,
                retryAfter=limits.retry_after_s,
            )
        self.by_key[key] += 1
        self.running += 1
        freed = False

        def free() -> None:
            nonlocal freed
            if freed:
                return
            freed = True
            self.running -= 1
            self.by_key[key] -= 1
            if not self.by_key[key]:
                del self.by_key[key]

        return free
