"""GraphQL surface of conversation content: an event's conversation, a workspace's setting, the read log."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import strawberry

from modules.core.pagination import PageInfo, encode_cursor
from modules.core.principal import Principal
from modules.core.scalars import BigInt
from modules.usage.conversations import records
from modules.usage.conversations.loader import ConversationLoader
from modules.usage.conversations.records import Side
from modules.usage.conversations.redaction import DEFAULT_PATTERNS
from modules.usage.conversations.service import ConversationService

strawberry.enum(Side, name="MessageSide", description="INPUT: sent to the model. OUTPUT: answered by it.")


class ConversationsContext(Protocol):
    principal: Principal
    conversations: ConversationService
    conversation_loader: ConversationLoader


@strawberry.type(name="ToolCall", description="A tool the model asked for, with its arguments as JSON text.")
class ToolCallType:
    id: str | None
    name: str
    arguments: str


@strawberry.type(
    name="ConversationMessage",
    description="One message, read from the provider's own shape into one: roles system, user, assistant, tool.",
)
class ConversationMessageType:
    role: str
    side: Side
    text: str = strawberry.field(description="The message's text parts joined by newlines; may be empty.")
    tool_calls: list[ToolCallType]
    tool_call_id: str | None = strawberry.field(description="On a tool message: the tool call it answers.")
    omitted_parts: list[str] = strawberry.field(
        description="Kinds of parts that are not text (image, audio, file…): named, their data never stored."
    )

    @classmethod
    def from_model(cls, message: records.Message) -> ConversationMessageType:
        return cls(
            role=message.role,
            side=message.side,
            text=message.text,
            tool_calls=[ToolCallType(id=c.id, name=c.name, arguments=c.arguments) for c in message.tool_calls],
            tool_call_id=message.tool_call_id,
            omitted_parts=list(message.omitted),
        )


@strawberry.type(name="Conversation", description="What one call said, as stored: redacted and size-bounded.")
class ConversationType:
    messages: list[ConversationMessageType] = strawberry.field(description="Input messages, then the output.")
    truncated: bool = strawberry.field(description="True when a text was cut or messages dropped to fit the bound.")
    omitted_messages: int = strawberry.field(description="Messages dropped to fit the bound.")
    redactions: int = strawberry.field(description="How many matches redaction masked.")
    original_bytes: int = strawberry.field(description="UTF-8 bytes of the texts and tool arguments as received.")
    stored_bytes: int = strawberry.field(description="Bytes stored, compressed.")
    stored_at: datetime

    @classmethod
    def from_model(cls, conversation: records.Conversation) -> ConversationType:
        return cls(
            messages=[ConversationMessageType.from_model(m) for m in conversation.messages],
            truncated=conversation.truncated,
            omitted_messages=conversation.omitted_messages,
            redactions=conversation.redactions,
            original_bytes=conversation.original_bytes,
            stored_bytes=conversation.stored_bytes,
            stored_at=conversation.created_at,
        )


@strawberry.type(name="ContentSettings", description="Whether a workspace keeps what its calls said, and how.")
class ContentSettingsType:
    workspace_id: strawberry.ID
    enabled: bool = strawberry.field(description="Off by default: content sent is dropped and counted.")
    retention_days: int = strawberry.field(description="Content older than this is deleted; the numbers stay.")
    redaction: bool = strawberry.field(description="Mask the default patterns and redactionPatterns before storage.")
    redaction_patterns: list[str] = strawberry.field(description="The workspace's own RE2 patterns.")
    default_patterns: list[str] = strawberry.field(description="What redaction always masks when on.")
    dropped_calls: BigInt = strawberry.field(description="Calls whose content came while off: dropped, not stored.")
    updated_at: datetime | None

    @classmethod
    def from_model(cls, settings: records.ContentSettings) -> ContentSettingsType:
        return cls(
            workspace_id=strawberry.ID(str(settings.workspace_id)),
            enabled=settings.enabled,
            retention_days=settings.retention_days,
            redaction=settings.redaction,
            redaction_patterns=list(settings.redaction_patterns),
            default_patterns=list(DEFAULT_PATTERNS),
            dropped_calls=BigInt(settings.dropped_calls),
            updated_at=settings.updated_at,
        )


@strawberry.input(description="A workspace's content setting; omitted fields keep what is set.")
class SetContentSettingsInput:
    workspace_id: strawberry.ID
    enabled: bool
    retention_days: int | None = strawberry.field(
        default=None, description="1 to 3650, shorter than the server's event retention. Default: 30."
    )
    redaction: bool | None = strawberry.field(default=None, description="Default: on.")
    redaction_patterns: list[str] | None = strawberry.field(
        default=None, description="At most 20 RE2 patterns, each masked as [REDACTED]."
    )

    def to_model(self) -> records.ContentSettingsDraft:
        return records.ContentSettingsDraft(
            workspace_id=str(self.workspace_id),
            enabled=self.enabled,
            retention_days=self.retention_days,
            redaction=self.redaction,
            redaction_patterns=None if self.redaction_patterns is None else tuple(self.redaction_patterns),
        )


@strawberry.type(name="ContentRead", description="One read of content: who read which events' content, when.")
class ContentReadType:
    id: strawberry.ID
    read_at: datetime
    key_id: strawberry.ID | None = strawberry.field(description="Null: the operator at the command line.")
    reader: str = strawberry.field(description="The key's name.")
    operation: str | None = strawberry.field(description="The GraphQL operation's name, if it had one.")
    event_ids: list[strawberry.ID]

    @classmethod
    def from_model(cls, read: records.ContentRead) -> ContentReadType:
        return cls(
            id=strawberry.ID(str(read.id)),
            read_at=read.read_at,
            key_id=strawberry.ID(str(read.key_id)) if read.key_id else None,
            reader=read.reader,
            operation=read.operation,
            event_ids=[strawberry.ID(str(i)) for i in read.event_ids],
        )


@strawberry.type
class ContentReadEdge:
    cursor: str
    node: ContentReadType


@strawberry.type
class ContentReadConnection:
    edges: list[ContentReadEdge]
    page_info: PageInfo


def read_cursor(read: records.ContentRead) -> str:
    return encode_cursor(read.id)
