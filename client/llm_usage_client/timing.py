"""Timing one call: duration, time to first token, and failure, for `tracker.timed(...)`. Nothing here raises
into the caller's `with` block: a response the helpers cannot read is remembered and the event refused (and
reported) when the block ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from llm_usage_client.responses import anthropic_usage, gemini_usage, openai_usage

MAX_ERROR_MESSAGE = 4000  # the server's limit on errorMessage


class TimedCall:
    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = {name: value for name, value in fields.items() if value is not None}
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.error: BaseException | None = None
        self.unreadable: str | None = None

    def first_token(self) -> None:
        """Mark the first streamed token (once)."""
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def record(self, **fields: Any) -> None:
        """Add fields to the event; None adds nothing (a response without a model keeps the one given to timed())."""
        self.fields.update({name: value for name, value in fields.items() if value is not None})

    def record_openai(self, response: Any) -> None:
        self._read(openai_usage, response)

    def record_anthropic(self, message: Any) -> None:
        self._read(anthropic_usage, message)

    def record_gemini(self, response: Any) -> None:
        self._read(gemini_usage, response)

    def failed(self, error: BaseException) -> None:
        """The call raised: an ERROR event, with the exception's class and message, and zero tokens unless recorded."""
        self.error = error
        self.fields.setdefault("status", "ERROR")
        self.fields.setdefault("error_type", type(error).__name__)
        self.fields.setdefault("error_message", storable_message(error))

    def context(self) -> str:
        """How a refusal of this call's event begins: what happened, and how to have it counted next time."""
        if self.error is not None and not {"provider", "model"} <= self.fields.keys():
            return (
                f"timed() call that raised {type(self.error).__name__} before its usage was recorded "
                "(give timed() provider= and model= so that failed calls are counted): "
            )
        return "timed() call: "

    def finish(self) -> dict[str, Any]:
        ended = time.perf_counter()
        self.fields.setdefault("duration_ms", round((ended - self.started) * 1000))
        if self.first_token_at is not None:
            self.fields.setdefault("time_to_first_token_ms", round((self.first_token_at - self.started) * 1000))
        if "raw_usage" not in self.fields:  # the server reads the counts off the raw usage
            self.fields.setdefault("prompt_tokens", 0)
            self.fields.setdefault("completion_tokens", 0)
        return self.fields

    def _read(self, read: Callable[[Any], dict[str, Any]], response: Any) -> None:
        try:
            self.record(**read(response))
        except Exception as error:
            self.unreadable = f"could not read the usage off {type(response).__name__}: {error!r}"


def storable_message(error: BaseException) -> str:
    """str(error) as the server stores it: at most 4,000 characters, NUL and lone surrogates replaced (an
    upstream's error text can hold anything, and the failed call is still worth counting)."""
    try:
        message = str(error)
    except Exception:
        message = f"{type(error).__name__} (its message could not be read)"
    return message[:MAX_ERROR_MESSAGE].replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
