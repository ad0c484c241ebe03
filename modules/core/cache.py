"""A small per-process cache whose entries expire, for lookups that are read on every request and change
rarely (keys, workspaces). Other processes see a change when the entry expires."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class TtlCache(Generic[K, V]):
    ttl: float = 5.0
    max_entries: int = 10_000
    entries: dict[K, tuple[V, float]] = field(default_factory=dict)

    def get(self, key: K) -> V | None:
        found = self.entries.get(key)
        if found is None:
            return None
        value, expires = found
        if expires < time.monotonic():
            self.entries.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (value, time.monotonic() + self.ttl)

    def evict(self, key: K) -> None:
        self.entries.pop(key, None)
