"""What both trackers share on the caller's side: checking an event before it is queued (what could never be
stored is refused now, with its reason, and never reaches a batch), and the provider helpers."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from llm_usage_client.events import Refused, build_event
from llm_usage_client.reports import Rejected, TrackerStats
from llm_usage_client.responses import anthropic_usage, gemini_usage, is_stream, openai_usage
from llm_usage_client.settings import Settings
from llm_usage_client.timing import TimedCall


class TrackerBase:
    """Settings and stats, `track()` and the provider helpers; a subclass queues (`_put`) and sends."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        workspace_id: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        max_retry_seconds: float = 120.0,
        max_in_flight: int = 2,
        on_error: Callable[[Rejected], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = Settings(
            url=url,
            api_key=api_key,
            workspace_id=workspace_id,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue=max_queue,
            max_retry_seconds=max_retry_seconds,
            max_in_flight=max_in_flight,
            on_error=on_error,
            timeout=timeout,
        )
        self.queue: deque[dict[str, Any]] = deque()
        self.flushing = 0
        self.closing = False

    @property
    def stats(self) -> TrackerStats:
        return self.settings.stats

    def track(self, **fields: Any) -> bool:
        """Queue one call (the fields of TrackUsageInput, in snake_case). False if it was not queued: refused
        (reported to on_error, counted in stats.refused) or the queue full. Never raises."""
        event = self._event(fields)
        return event is not None and self._put(event)

    def track_openai(self, response: Any, **fields: Any) -> bool:
        """Track an OpenAI chat completion or response (or the chunks of a stream with usage); with `input=` (the
        request), the response is kept as its output where the workspace keeps content."""
        return self._track_read(openai_usage, response, fields)

    def track_anthropic(self, message: Any, **fields: Any) -> bool:
        return self._track_read(anthropic_usage, message, fields)

    def track_gemini(self, response: Any, **fields: Any) -> bool:
        return self._track_read(gemini_usage, response, fields)

    @contextmanager
    def timed(self, **fields: Any) -> Iterator[TimedCall]:
        """`with tracker.timed(provider=…, model=…) as call:` times the call (call.first_token() marks the
        first streamed token), and tracks it on exit with the usage given to call.record_*(); a call that
        raises is tracked as an ERROR with zero tokens (so give provider and model here), and re-raised."""
        call = TimedCall(fields)
        try:
            yield call
        except BaseException as error:
            call.failed(error)
            raise
        finally:
            if call.unreadable is not None:
                self._refuse(call.fields, call.context() + call.unreadable, None)
            else:
                event = self._event(call.finish(), call.context())
                if event is not None:
                    self._put(event)

    def _put(self, event: dict[str, Any]) -> bool:
        """Queue a checked event; False (counted) when the queue is full or the tracker closing."""
        raise NotImplementedError

    def _event(self, fields: dict[str, Any], context: str = "") -> dict[str, Any] | None:
        """The event to queue, or None when it could never be stored (reported, counted, never raised)."""
        try:
            return build_event(fields, self.settings.workspace_id)
        except Refused as refused:
            self._refuse(fields, f"{context}{refused}", refused.field)
        except Exception as error:
            self._refuse(fields, f"{context}the event could not be checked: {error!r}", None)
        return None

    def _refuse(self, fields: dict[str, Any], reason: str, field: str | None) -> None:
        self.settings.report(Rejected(events=[dict(fields)], reason=reason, field=field), refused=True)

    def _track_read(self, read: Callable[[Any], dict[str, Any]], response: Any, fields: dict[str, Any]) -> bool:
        try:
            usage = read(response)
        except Exception as error:
            self._refuse(fields, f"could not read the usage off {type(response).__name__}: {error!r}", None)
            return False
        given = {name: value for name, value in fields.items() if value is not None}
        if "input" in given and "output" not in given and not is_stream(response):
            given["output"] = response  # the answer is what was read: kept with the input the caller gave
        return self.track(**{**usage, **given})
