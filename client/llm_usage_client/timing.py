"""Timing one call: duration, time to first token, and failure, for `tracker.timed(...)`."""

from __future__ import annotations

import time
from typing import Any

from llm_usage_client.extract import anthropic_usage, gemini_usage, openai_usage


class TimedCall:
    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = dict(fields)
        self.started = time.perf_counter()
        self.first_token_at: float | None = None

    def first_token(self) -> None:
        """Mark the first streamed token (once)."""
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def record(self, **fields: Any) -> None:
        self.fields.update(fields)

    def record_openai(self, response: Any) -> None:
        self.fields.update(openai_usage(response))

    def record_anthropic(self, message: Any) -> None:
        self.fields.update(anthropic_usage(message))

    def record_gemini(self, response: Any) -> None:
        self.fields.update(gemini_usage(response))

    def failed(self, error: BaseException) -> None:
        self.fields.setdefault("status", "ERROR")
        self.fields.setdefault("error_type", type(error).__name__)
        self.fields.setdefault("error_message", str(error)[:4000])

    def finish(self) -> dict[str, Any]:
        ended = time.perf_counter()
        self.fields.setdefault("duration_ms", round((ended - self.started) * 1000))
        if self.first_token_at is not None:
            self.fields.setdefault("time_to_first_token_ms", round((self.first_token_at - self.started) * 1000))
        self.fields.setdefault("prompt_tokens", 0)
        self.fields.setdefault("completion_tokens", 0)
        return self.fields
