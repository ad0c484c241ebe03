"""One batch on its way to the server, as a plan without I/O, so that the thread and the asyncio task follow
the same rules: the pieces still to send (a batch splits when the server refuses part of it), the retry
deadline, and what each answer means. One bad event never costs the other events of its batch."""

from __future__ import annotations

import json
import random
from collections import deque
from typing import Any

from llm_usage_client.answers import Answer, Problem
from llm_usage_client.events import KEYWORDS, describe
from llm_usage_client.reports import Rejected
from llm_usage_client.settings import Settings

TRACK_BATCH = (
    "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount duplicateCount } }"
)
JSON_HEADERS = {"Content-Type": "application/json"}


def to_json(value: Any) -> bytes:
    """httpx's own encoding (UTF-8, no NaN), done here so that a failure is ours to attribute to an event."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def request_body(inputs: list[dict[str, Any]]) -> bytes:
    return to_json({"query": TRACK_BATCH, "variables": {"inputs": inputs}})


def backoff(attempt: int) -> float:
    """Exponential, capped at 30 s, with full jitter."""
    return random.uniform(0, min(30.0, 0.25 * 2**attempt))


class Delivery:
    """Drive it with: `while (body := d.next_body()) is not None: wait = d.settle(answer_to(body), now)`."""

    def __init__(self, settings: Settings, batch: list[dict[str, Any]], now: float) -> None:
        self.settings = settings
        self.pieces: deque[list[dict[str, Any]]] = deque([batch] if batch else [])
        self.deadline = now + settings.max_retry_seconds
        self.attempt = 0

    def next_body(self) -> bytes | None:
        """The request for the piece at the head, once the events JSON cannot carry are dropped (and reported);
        None when nothing is left to send."""
        while self.pieces:
            try:
                return request_body(self.pieces[0])
            except Exception:
                piece = [event for event in self.pieces.popleft() if self._encodable(event)]
                if piece:
                    self.pieces.appendleft(piece)
                    return request_body(piece)
        return None

    def settle(self, answer: Answer, now: float) -> float:
        """Apply the server's answer to the piece last sent; the seconds to wait before sending again."""
        piece = self.pieces.popleft()
        named = {index: problem for index, problem in answer.named.items() if 0 <= index < len(piece)}
        if named:
            for index in sorted(named):
                self._reject(piece[index], named[index])
            rest = [event for index, event in enumerate(piece) if index not in named]
            self.pieces.extendleft([rest] if rest else [])
            return 0.0
        if answer.permanent:
            parts = split(piece, answer.code)
            if parts:
                self.pieces.extendleft(reversed(parts))
            elif len(piece) == 1:
                self._reject(piece[0], Problem(None, answer.reason))
            else:
                self.settings.report(Rejected(events=piece, reason=answer.reason))
            return 0.0
        if not answer.retry:
            self.settings.stats.inserted += answer.inserted
            self.settings.stats.duplicates += answer.duplicates
            self.attempt = 0
            return 0.0
        if now >= self.deadline:
            self.settings.report(Rejected(events=piece, reason=f"gave up: {answer.reason}", permanent=False))
            return 0.0
        self.pieces.appendleft(piece)
        self.attempt += 1
        self.settings.stats.retries += 1
        return min(backoff(self.attempt), max(0.0, self.deadline - now))

    def abandon(self, error: BaseException) -> None:
        """The sender failed unexpectedly: what is left of the batch is reported failed, and the sender goes on."""
        events = [event for piece in self.pieces for event in piece]
        self.pieces.clear()
        if events:
            reason = f"the sender failed unexpectedly: {error!r}"
            self.settings.report(Rejected(events=events, reason=reason, permanent=False))

    def _reject(self, event: dict[str, Any], problem: Problem) -> None:
        field = KEYWORDS.get(problem.field) if problem.field else None
        self.settings.report(Rejected(events=[event], reason=f"{describe(event)}: {problem.reason}", field=field))

    def _encodable(self, event: dict[str, Any]) -> bool:
        try:
            to_json(event)
            return True
        except Exception as error:
            at_fault = next((name for name, value in event.items() if not encodes(value)), None)
            self._reject(event, Problem(at_fault, f"{at_fault or 'the event'}: cannot be sent as JSON: {error!r}"))
            return False


def encodes(value: Any) -> bool:
    try:
        to_json(value)
        return True
    except Exception:
        return False


def split(piece: list[dict[str, Any]], code: str | None) -> list[list[dict[str, Any]]]:
    """How a piece refused as a whole is sent again, or [] when it is lost as a whole. BAD_USER_INPUT naming
    no event (a coercion error, a body too large): in halves, until the bad events are alone. FORBIDDEN: each
    workspace apart, when events name several (one of them may not be the key's)."""
    if code == "BAD_USER_INPUT" and len(piece) > 1:
        middle = len(piece) // 2
        return [piece[:middle], piece[middle:]]
    if code == "FORBIDDEN":
        groups: dict[Any, list[dict[str, Any]]] = {}
        for event in piece:
            groups.setdefault(event.get("workspaceId"), []).append(event)
        return list(groups.values()) if len(groups) > 1 else []
    return []
