"""Anthropic Messages API (also Claude on Bedrock and Vertex): the request's `system` and `messages`, the
response message. A `tool_result` block is a `tool` message of its own, in the place of the block, so that the
blocks around it stay in order; thinking, images and documents are named in `omitted`."""

from __future__ import annotations

from ..records import Message, Side, ToolCall
from .gathered import Gathered
from .json_text import compact_json
from .places import At

ROLES = {"user": "user", "assistant": "assistant", "system": "system"}
TEXT_BLOCKS = {"text": "text"}


def read_input(given: object) -> list[Message]:
    """The request body (`{"system": ..., "messages": [...]}`) or its messages list."""
    at = At("input")
    read: list[Message] = []
    if isinstance(given, dict):
        system = given.get("system")
        if system is not None:
            gathered = Gathered()
            gathered.add_content(system, at.key("system"), TEXT_BLOCKS)
            read.append(gathered.message("system", Side.INPUT))
        if "messages" not in given:
            raise at.error("expected a request body with messages or a list of messages, got an object without them")
        at, given = at.key("messages"), given["messages"]
    elif not isinstance(given, list):
        raise at.mismatch("a request body or a list of messages", given)
    for i, message in enumerate(at.items(given, "a list of messages")):
        read.extend(read_message(message, at.index(i), Side.INPUT))
    return read


def read_output(given: object) -> list[Message]:
    """The response body: one assistant message whose content is a list of blocks."""
    at = At("output")
    body = at.mapping(given, "a response message")
    if "content" not in body:
        raise at.error("expected a response message with content, got an object without it")
    return read_message(body, at, Side.OUTPUT)


def read_message(given: object, at: At, side: Side) -> list[Message]:
    message = at.mapping(given, "a message")
    role_at = at.key("role")
    role = role_at.text(message.get("role", "assistant" if side is Side.OUTPUT else None))
    if role not in ROLES:
        raise role_at.error(f"expected one of {', '.join(ROLES)}, got {role!r}")
    content, content_at = message.get("content"), at.key("content")
    if content is None or isinstance(content, str):
        return [Message(role=ROLES[role], text=content or "", side=side)]
    read: list[Message] = []
    gathered = Gathered()
    for i, block in enumerate(content_at.items(content, "a string or a list of blocks")):
        block_at = content_at.index(i)
        found = block_at.mapping(block, "a block")
        kind = block_at.key("type").text(found.get("type"))
        if kind == "text":
            gathered.texts.append(block_at.key("text").text(found.get("text")))
        elif kind == "tool_use":
            gathered.tool_calls.append(read_tool_use(found, block_at))
        elif kind == "tool_result":
            if gathered:
                read.append(gathered.message(ROLES[role], side))
                gathered = Gathered()
            read.append(read_tool_result(found, block_at, side))
        else:
            gathered.omitted.append(kind)
    if gathered or not read:
        read.append(gathered.message(ROLES[role], side))
    return read


def read_tool_use(block: dict[str, object], at: At) -> ToolCall:
    call_id = at.key("id").optional_text(block.get("id"))
    name = at.key("name").text(block.get("name"))
    return ToolCall(name, compact_json(block.get("input", {}), at.key("input")), call_id)


def read_tool_result(block: dict[str, object], at: At, side: Side) -> Message:
    call_id = at.key("tool_use_id").optional_text(block.get("tool_use_id"))
    gathered = Gathered()
    gathered.add_content(block.get("content"), at.key("content"), TEXT_BLOCKS)
    return gathered.message("tool", side, call_id)
