"""Plain records of a call's content: its messages as every provider shape is read into, and what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Side(StrEnum):
    """Whether a message was sent to the model (the call's input) or answered by it (its output)."""

    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


@dataclass(frozen=True)
class ToolCall:
    """A tool (function) the model asked for: `arguments` as the JSON text the provider gave (or made from
    Gemini's and Anthropic's objects)."""

    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True)
class Message:
    """One message in any provider's shape, read into one: roles system, user, assistant, tool (Gemini's `model`
    is assistant; a tool's result is a `tool` message naming the call it answers). `text` joins the text parts;
    parts that are not text (images, audio, files) are named in `omitted`, their data never kept."""

    role: str
    text: str
    side: Side
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    omitted: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallContent:
    """What a call said, read from the caller's input and output before the call is stored."""

    messages: tuple[Message, ...]


@dataclass(frozen=True)
class Conversation:
    """A stored call's content as read back: after redaction and the size bound."""

    workspace_id: UUID
    event_id: int
    messages: tuple[Message, ...]
    truncated: bool
    omitted_messages: int
    redactions: int
    original_bytes: int
    stored_bytes: int
    created_at: datetime


DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class ContentSettings:
    """A workspace's content setting: off unless an ADMIN turned it on. `dropped_calls` counts the calls whose
    content came while it was off (dropped, never stored)."""

    workspace_id: UUID
    enabled: bool = False
    retention_days: int = DEFAULT_RETENTION_DAYS
    redaction: bool = True
    redaction_patterns: tuple[str, ...] = ()
    dropped_calls: int = 0
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContentSettingsDraft:
    """A change of a workspace's content setting as an ADMIN asked it; None keeps what is set."""

    workspace_id: str
    enabled: bool
    retention_days: int | None = None
    redaction: bool | None = None
    redaction_patterns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ContentRead:
    """One entry of the audit log: a key read the content of these events."""

    id: int
    workspace_id: UUID
    read_at: datetime
    key_id: UUID | None
    reader: str
    operation: str | None
    event_ids: tuple[int, ...]
