"""A finished proxied call as the UsageDraft the ingest stores: its usage as the provider reported it (raw,
read by genai-prices in the ingest, as `trackUsage`'s `rawUsage`), its timing, its outcome, its attribution."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from modules.providers import UnreadableUsage, read_usage
from modules.proxy.capture import CapturedContent
from modules.proxy.headers import Attribution
from modules.proxy.readers import ReadCall
from modules.usage import UsageDraft, UsageStatus

OPENAI_COMPATIBLE = "openai"  # an instance of a provider genai-prices does not know is read as OpenAI's wire format


@dataclass(frozen=True)
class Target:
    """Whose usage it is: the provider (and instance) it is attributed to, and the API flavour read."""

    provider: str
    api_flavor: str | None
    provider_instance_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How the call ended, as the proxy saw it."""

    occurred_at: datetime
    duration_ms: int
    time_to_first_token_ms: int | None
    streamed: bool
    status_code: int | None  # the upstream's; None: it never answered
    error_type: str | None = None
    error_message: str | None = None


def request_id(attribution: Attribution) -> str:
    """The caller's request id (each retry of it its own call: `<id>#retry<n>`), else a new one."""
    if attribution.request_id is None:
        return uuid.uuid4().hex
    if attribution.retry_count:
        return f"{attribution.request_id}#retry{attribution.retry_count}"
    return attribution.request_id


def draft_of(
    workspace: str,
    attribution: Attribution,
    target: Target,
    read: ReadCall,
    outcome: Outcome,
    *,
    request_model: str | None,
    content: CapturedContent | None = None,
) -> UsageDraft:
    model = read.model or request_model or "unknown"
    usage: dict[str, object] = {"prompt_tokens": 0, "completion_tokens": 0}
    if read.raw_usage is not None:
        usage = readable_usage(target, read.raw_usage)
    if content is not None and "raw_usage" not in usage:  # the flavour names the content's shape
        usage["api_flavor"] = target.api_flavor
    error_type = outcome.error_type or read.error_type
    failed = error_type is not None or outcome.status_code is None or outcome.status_code >= 400
    return UsageDraft(
        workspace_id=workspace,
        provider=target.provider,
        model=model[:200],
        request_id=request_id(attribution),
        occurred_at=outcome.occurred_at,
        provider_instance_id=target.provider_instance_id,
        task_type=attribution.task_type,
        user_id=attribution.user_id,
        session_id=attribution.session_id,
        tags=attribution.tags or None,
        duration_ms=outcome.duration_ms,
        time_to_first_token_ms=outcome.time_to_first_token_ms,
        streamed=outcome.streamed,
        retry_count=attribution.retry_count,
        status=UsageStatus.ERROR if failed else UsageStatus.SUCCESS,
        error_type=(error_type or f"http_{outcome.status_code}") if failed else None,
        error_message=(outcome.error_message or read.error_message) if failed else None,
        content_input=None if content is None else content.input,
        content_output=None if content is None else content.output,
        **usage,  # type: ignore[arg-type]
    )


def readable_usage(target: Target, raw: dict[str, object]) -> dict[str, object]:
    """The draft's usage fields: the raw usage when genai-prices reads it for the target provider; the kinds
    read as OpenAI's wire format for a provider it does not know (an OpenAI-compatible instance); else none."""
    try:
        read_usage(raw, provider=target.provider, api_flavor=target.api_flavor)
        return {"raw_usage": raw, "api_flavor": target.api_flavor}
    except UnreadableUsage as unread:
        if unread.field == "apiFlavor":  # a provider that reads this API under another flavour name
            return readable_usage(Target(target.provider, None, target.provider_instance_id), raw)
        if unread.field == "provider":
            try:
                kinds = read_usage(raw, provider=OPENAI_COMPATIBLE, api_flavor=None).kinds
                return {"usage_kinds": kinds}
            except UnreadableUsage:
                pass
    return {"prompt_tokens": 0, "completion_tokens": 0}
