"""What one export may take, as one value in the settings (`Settings.export_limits`): the numbers are
service/limits.py's; tests shorten the deadlines and the size to see them act within seconds."""

from __future__ import annotations

from dataclasses import dataclass

from service.limits import (
    EXPORT_DEADLINE_S,
    EXPORT_IDLE_IN_TRANSACTION_MS,
    EXPORT_MAX_ROWS,
    EXPORT_POOL_SIZE,
    EXPORT_RETRY_AFTER_S,
    EXPORT_STALL_S,
    EXPORTS_PER_KEY,
)


@dataclass(frozen=True)
class ExportLimits:
    pool_size: int = EXPORT_POOL_SIZE  # exports running at once per process: their pool has no overflow
    per_key: int = EXPORTS_PER_KEY
    max_rows: int = EXPORT_MAX_ROWS
    deadline_s: float = EXPORT_DEADLINE_S
    stall_s: float = EXPORT_STALL_S
    idle_in_transaction_ms: int = EXPORT_IDLE_IN_TRANSACTION_MS
    retry_after_s: float = EXPORT_RETRY_AFTER_S


DEFAULT_EXPORT_LIMITS = ExportLimits()
