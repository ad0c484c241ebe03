"""Which headers cross the proxy. Ours (`X-LLM-Usage-*`: our key, the attribution) are read and never
forwarded; hop-by-hop ones (RFC 9110 §7.6.1: Connection and the fields it names, Keep-Alive, TE, Upgrade,
Transfer-Encoding, Proxy-*) belong to one connection; everything else, the caller's provider key included,
passes through untouched in both directions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from modules.proxy.error_shapes import ProxyRefusal, Refusal
from modules.usage import TEXT_LIMITS

OURS = b"x-llm-usage-"
KEY = "x-llm-usage-key"
WORKSPACE = "x-llm-usage-workspace"
ATTRIBUTION = {
    "x-llm-usage-user": "user_id",
    "x-llm-usage-session": "session_id",
    "x-llm-usage-task-type": "task_type",
    "x-llm-usage-request-id": "request_id",
}
LIMITS = {"user_id": "userId", "session_id": "sessionId", "task_type": "taskType", "request_id": "requestId"}
TAGS = "x-llm-usage-tags"
RETRY_COUNT = b"x-stainless-retry-count"  # the OpenAI and Anthropic SDKs' own: 0 on a first attempt
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
READABLE_ENCODINGS = frozenset({"gzip", "deflate", "identity"})  # what the readers can decode (zlib)

Headers = Sequence[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Attribution:
    """Who a proxied call is for, from our headers."""

    key: str | None = None
    workspace: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    task_type: str | None = None
    request_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    retry_count: int = 0


def header(headers: Headers, name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def attribution(headers: Headers) -> Attribution:
    """Our headers, checked; a bad one is refused (400 naming it) before anything goes upstream."""
    values: dict[str, str] = {}
    for key, raw in headers:
        name = key.lower().decode("latin-1")
        if name.startswith("x-llm-usage-"):
            values[name] = raw.decode("utf-8", "replace").strip()
    given: dict[str, str] = {}
    for name, attribute in ATTRIBUTION.items():
        value = values.get(name)
        if not value:
            continue
        limit = TEXT_LIMITS[LIMITS[attribute]]
        if len(value) > limit or not value.isprintable():
            raise ProxyRefusal(Refusal.BAD_REQUEST, f"{name} must be 1 to {limit} printable characters")
        given[attribute] = value
    retry = header(headers, RETRY_COUNT)
    return Attribution(
        key=values.get(KEY) or None,
        workspace=values.get(WORKSPACE) or None,
        tags=parse_tags(values.get(TAGS, "")),
        retry_count=int(retry) if retry and retry.isdigit() and int(retry) <= 1000 else 0,
        **given,
    )


def parse_tags(value: str) -> dict[str, str]:
    """`feature=search, team=core`: comma-separated pairs, values percent-decoded (a comma is %2C)."""
    tags: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        key, equals, tag = part.partition("=")
        if not equals or not key.strip():
            raise ProxyRefusal(Refusal.BAD_REQUEST, f"{TAGS} must be key=value pairs separated by commas")
        tags[unquote(key.strip())] = unquote(tag.strip())
    return tags


def connection_scoped(headers: Headers) -> frozenset[bytes]:
    """The hop-by-hop names and those the Connection header lists."""
    named = {
        token.strip().lower().encode("latin-1")
        for key, value in headers
        if key.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    return HOP_BY_HOP | named


def upstream_request_headers(headers: Headers, *, body_replaced: bool) -> list[tuple[bytes, bytes]]:
    """The caller's headers as the upstream gets them: ours, hop-by-hop and Host dropped (the client sets Host and,
    for a body we rewrote, its length); Accept-Encoding kept to what the readers decode."""
    dropped = connection_scoped(headers) | {b"host"}
    if body_replaced:
        dropped |= {b"content-length"}
    forwarded = []
    for key, value in headers:
        name = key.lower()
        if name in dropped or name.startswith(OURS):
            continue
        if name == b"accept-encoding":
            value = readable_encodings(value)
        forwarded.append((key, value))
    return forwarded


def readable_encodings(value: bytes) -> bytes:
    kept = [
        part.strip()
        for part in value.decode("latin-1").split(",")
        if part.split(";")[0].strip().lower() in READABLE_ENCODINGS
    ]
    return ", ".join(kept).encode("latin-1") or b"identity"


def response_headers(headers: Iterable[tuple[bytes, bytes]], *, body_rewritten: bool) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers as the caller gets them: hop-by-hop dropped, Date and Server too (the
    server writes its own: two of each would reach the caller); length and encoding too when the body is
    rewritten (a chat stream whose added usage chunk is removed)."""
    listed = list(headers)
    dropped = connection_scoped(listed) | {b"date", b"server"}
    if body_rewritten:
        dropped |= {b"content-length", b"content-encoding"}
    return [(key, value) for key, value in listed if key.lower() not in dropped]
