"""NOTIFY payloads stay under Postgres' 8,000-byte limit whatever the batch, and lose no id or session."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from modules.core.notifications import MAX_PAYLOAD_BYTES
from modules.providers.pricing import CostSource
from modules.usage.live.service import payloads
from modules.usage.records import UsageEvent, UsageStatus


def event(number: int, workspace: uuid.UUID, session: str | None) -> UsageEvent:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return UsageEvent(
        id=10**12 + number, workspace_id=workspace, request_id=f"r{number}", occurred_at=now, received_at=now,
        provider="openai", model="gpt-4o", provider_instance_id=None, task_type=None, user_id=None,
        session_id=session, prompt_tokens=1, completion_tokens=1, total_tokens=2, cached_prompt_tokens=0,
        cache_write_tokens=0, reasoning_tokens=0, input_cost_usd=None, output_cost_usd=None, cost_usd=None,
        cost_source=CostSource.UNKNOWN_MODEL, duration_ms=None, time_to_first_token_ms=None,
        status=UsageStatus.SUCCESS, error_type=None, error_message=None, retry_count=0, streamed=None, tags={},
    )  # fmt: skip


def test_a_thousand_events_with_long_session_ids_in_two_workspaces_are_split_and_complete():
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [event(n, first if n % 3 else second, f"session-{'x' * 240}-{n}" if n % 2 else None) for n in range(1000)]
    events.append(replace(events[1], id=1))  # a session seen again
    sent = [json.loads(p) for p in payloads(events)]
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads(events))
    # A payload holds up to 7,800 bytes of ids and sessions: 26 pairs of an event bringing a new session id of 255
    # characters (276 bytes with its id and separators) and one without (21 bytes) make 7,722; one more sessioned
    # event would go over. The second workspace's 334 events (every third) start with shorter ids and sessions: 53 fit.
    # The first workspace's 666 events and the one seen again (its session already sent) make 667 = 12 x 52 + 43.
    assert [(p["w"], len(p["ids"]), len(p["s"])) for p in sent] == [
        *[(str(second), count, sessions) for count, sessions in [(53, 26), *[(52, 26)] * 5, (21, 11)]],
        *[(str(first), count, sessions) for count, sessions in [*[(52, 26)] * 12, (43, 22)]],
    ]
    for workspace in (first, second):
        mine = [p for p in sent if p["w"] == str(workspace)]
        assert sorted(i for p in mine for i in p["ids"]) == sorted(e.id for e in events if e.workspace_id == workspace)
        assert {s for p in mine for s in p["s"]} == {
            e.session_id for e in events if e.workspace_id == workspace and e.session_id
        }
