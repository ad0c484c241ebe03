"""The APIs the proxy speaks, in one table: which upstream calls carry usage (and how to read it), and the
error shape each provider's SDK understands. Every other path passes through unrecorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Api(StrEnum):
    """The wire format of an upstream: its SDKs, its error bodies, its usage."""

    OPENAI = "openai"  # OpenAI itself and every OpenAI-compatible provider instance
    ANTHROPIC = "anthropic"
    GOOGLE = "google"


class Reader(StrEnum):
    """Which stream reader watches a call (modules/proxy/readers.py)."""

    CHAT = "chat"
    RESPONSES = "responses"
    EMBEDDINGS = "embeddings"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


@dataclass(frozen=True)
class UsageEndpoint:
    """A call that is recorded: its reader, genai-prices' API flavour, and the model its path names."""

    reader: Reader
    api_flavor: str
    model_in_path: str | None = None
    streamed_by_path: bool = False  # Gemini's streamGenerateContent: the path says it streams


OPENAI_ENDPOINTS = {
    "chat/completions": UsageEndpoint(Reader.CHAT, "chat"),
    "completions": UsageEndpoint(Reader.CHAT, "chat"),
    "responses": UsageEndpoint(Reader.RESPONSES, "responses"),
    "embeddings": UsageEndpoint(Reader.EMBEDDINGS, "embeddings"),
}
ANTHROPIC_ENDPOINTS = {"messages": UsageEndpoint(Reader.ANTHROPIC, "default")}
GEMINI_CALL = re.compile(r"(?:v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)")


def usage_endpoint(api: Api, method: str, path: str) -> UsageEndpoint | None:
    """The recorded call `method path` (relative to the upstream's base URL) is, or None: passed through only."""
    if method != "POST":
        return None
    path = path.strip("/")
    if api is Api.OPENAI:
        return OPENAI_ENDPOINTS.get(path)
    if api is Api.ANTHROPIC:
        return ANTHROPIC_ENDPOINTS.get(path)
    found = GEMINI_CALL.fullmatch(path)
    if found is None:
        return None
    return UsageEndpoint(
        Reader.GEMINI,
        "default",
        model_in_path=found.group(1),
        streamed_by_path=found.group(2) == "streamGenerateContent",
    )
