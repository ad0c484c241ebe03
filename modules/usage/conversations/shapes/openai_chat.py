"""OpenAI Chat Completions (and every OpenAI-compatible chat API): the request's messages, the response's
choices. A legacy `function` message is a tool message naming the function it answers."""

from __future__ import annotations

from ..records import Message, Side, ToolCall
from .gathered import Gathered
from .json_text import json_arguments
from .places import At

ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
TEXT_PARTS = {"text": "text", "refusal": "refusal"}  # a part's type → the key holding its text


def read_input(given: object) -> list[Message]:
    """The request body (`{"messages": [...]}`) or its messages list."""
    at = At("input")
    if isinstance(given, dict):
        if "messages" not in given:
            raise at.error("expected a request body with messages or a list of messages, got an object without them")
        at, given = at.key("messages"), given["messages"]
    elif not isinstance(given, list):
        raise at.mismatch("a request body or a list of messages", given)
    messages = at.items(given, "a list of messages")
    return [read_message(message, at.index(i), Side.INPUT) for i, message in enumerate(messages)]


def read_output(given: object) -> list[Message]:
    """The response body (every choice's message, in order) or one message object."""
    at = At("output")
    body = at.mapping(given, "a response body or a message")
    if "choices" not in body:
        return [read_message(body, at, Side.OUTPUT)]
    choices_at = at.key("choices")
    read = []
    for i, choice in enumerate(choices_at.items(body["choices"], "a list of choices")):
        choice_at = choices_at.index(i)
        found = choice_at.mapping(choice, "a choice")
        read.append(read_message(found.get("message"), choice_at.key("message"), Side.OUTPUT))
    return read


def read_message(given: object, at: At, side: Side) -> Message:
    message = at.mapping(given, "a message")
    role = at.key("role").text(message.get("role", "assistant" if side is Side.OUTPUT else None))
    if role not in ROLES:
        raise at.key("role").error(f"expected one of {', '.join(ROLES)}, got {role!r}")
    gathered = Gathered()
    gathered.add_content(message.get("content"), at.key("content"), TEXT_PARTS)
    refusal = at.key("refusal").optional_text(message.get("refusal"))
    if refusal:
        gathered.texts.append(refusal)
    if message.get("audio") is not None:
        gathered.omitted.append("audio")
    calls = message.get("tool_calls")
    if calls is not None:
        calls_at = at.key("tool_calls")
        for i, call in enumerate(calls_at.items(calls, "a list of tool calls")):
            read_tool_call(call, calls_at.index(i), gathered)
    legacy = message.get("function_call")
    if legacy is not None:
        gathered.tool_calls.append(read_function(legacy, at.key("function_call"), None))
    call_id = None
    if role == "tool":
        call_id = at.key("tool_call_id").optional_text(message.get("tool_call_id"))
    elif role == "function":
        call_id = at.key("name").optional_text(message.get("name"))
    return gathered.message(ROLES[role], side, call_id)


def read_tool_call(given: object, at: At, gathered: Gathered) -> None:
    call = at.mapping(given, "a tool call")
    kind = at.key("type").text(call.get("type", "function"))
    call_id = at.key("id").optional_text(call.get("id"))
    if kind == "function":
        gathered.tool_calls.append(read_function(call.get("function"), at.key("function"), call_id))
    elif kind == "custom":
        custom_at = at.key("custom")
        custom = custom_at.mapping(call.get("custom"), "a custom tool call")
        name = custom_at.key("name").text(custom.get("name"))
        gathered.tool_calls.append(ToolCall(name, json_arguments(custom.get("input"), custom_at.key("input")), call_id))
    else:
        gathered.omitted.append(kind)


def read_function(given: object, at: At, call_id: str | None) -> ToolCall:
    function = at.mapping(given, "a function call")
    name = at.key("name").text(function.get("name"))
    return ToolCall(name, json_arguments(function.get("arguments"), at.key("arguments")), call_id)
