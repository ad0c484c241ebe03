"""The proxy's own refusals (our key missing, the upstream unreachable…) as each provider's own error body, so
that its SDK raises its usual exception (AuthenticationError, RateLimitError, APIStatusError…); and the error
type an upstream's error body names, as recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from modules.proxy.apis import Api


class Refusal(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    UPSTREAM_UNREACHABLE = "upstream_unreachable"
    UPSTREAM_TIMEOUT = "upstream_timeout"


@dataclass(frozen=True)
class Shape:
    """A refusal's HTTP status and the type each provider's body gives it (OpenAI, Anthropic, Gemini)."""

    status: int
    openai: str
    anthropic: str
    google: str


SHAPES = {
    Refusal.UNAUTHENTICATED: Shape(401, "invalid_request_error", "authentication_error", "UNAUTHENTICATED"),
    Refusal.FORBIDDEN: Shape(403, "invalid_request_error", "permission_error", "PERMISSION_DENIED"),
    Refusal.RATE_LIMITED: Shape(429, "rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    Refusal.BAD_REQUEST: Shape(400, "invalid_request_error", "invalid_request_error", "INVALID_ARGUMENT"),
    Refusal.NOT_FOUND: Shape(404, "invalid_request_error", "not_found_error", "NOT_FOUND"),
    Refusal.UNAVAILABLE: Shape(503, "server_error", "api_error", "UNAVAILABLE"),
    Refusal.UPSTREAM_UNREACHABLE: Shape(502, "server_error", "api_error", "UNAVAILABLE"),
    Refusal.UPSTREAM_TIMEOUT: Shape(504, "server_error", "timeout_error", "DEADLINE_EXCEEDED"),
}


class ProxyRefusal(Exception):
    """A request the proxy answers itself, before or instead of the upstream's answer."""

    def __init__(self, refusal: Refusal, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return SHAPES[self.refusal].status


def error_body(api: Api, refusal: Refusal, message: str) -> bytes:
    shape = SHAPES[refusal]
    body: dict[str, object]
    if api is Api.OPENAI:
        code = "invalid_api_key" if refusal is Refusal.UNAUTHENTICATED else refusal.value
        body = {"error": {"message": message, "type": shape.openai, "param": None, "code": code}}
    elif api is Api.ANTHROPIC:
        body = {"type": "error", "error": {"type": shape.anthropic, "message": message}}
    else:
        body = {"error": {"code": shape.status, "message": message, "status": shape.google}}
    return json.dumps(body).encode()


def upstream_error_type(body: object, status: int) -> str:
    """The error type an upstream's error body names (OpenAI `error.type`/`code`, Anthropic `error.type`,
    Gemini `error.status`); `http_<status>` when it names none."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        for key in ("type", "status", "code"):
            if isinstance(error.get(key), str) and error[key]:
                return str(error[key])[:200]
    return f"http_{status}"


def upstream_error_message(body: object) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:4000]
    return None
