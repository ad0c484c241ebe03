"""OpenAI Responses API: the request's `instructions` and `input` items, the response's `output` items.

Each item is one message: a function call an assistant message with that tool call, its output a tool
message. Reasoning items are left out (the model's own notes, often encrypted); any other item (a built-in
tool's activity such as web_search_call) is an assistant message naming the item's type in `omitted`."""

from __future__ import annotations

from ..records import Message, Side, ToolCall
from .gathered import Gathered
from .json_text import json_arguments
from .places import At

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
TEXT_PARTS = {"input_text": "text", "output_text": "text", "text": "text", "refusal": "refusal"}
SKIPPED_ITEMS = {"reasoning"}
CALLS = {"function_call": "arguments", "custom_tool_call": "input"}  # an item's type → the key of its arguments
CALL_OUTPUTS = {"function_call_output", "custom_tool_call_output"}
# What only the Responses API sends: how a call whose flavour is not given is told from a chat call.
ITEM_TYPES = {"message", "reasoning", *CALLS, *CALL_OUTPUTS}
PART_TYPES = {"input_text", "output_text", "input_image", "input_file", "input_audio"}


def looks_like(given_input: object, given_output: object) -> bool:
    """Whether a call of an OpenAI-compatible provider is in the Responses shape rather than chat's."""
    if isinstance(given_input, str):
        return True
    if isinstance(given_input, dict) and "messages" not in given_input and "input" in given_input:
        return True
    if isinstance(given_output, dict) and "choices" not in given_output and "output" in given_output:
        return True
    lists = [given for given in (given_input, given_output) if isinstance(given, list)]
    return any(_is_item(item) for given in lists for item in given)


def _is_item(given: object) -> bool:
    if not isinstance(given, dict):
        return False
    if given.get("type") in ITEM_TYPES:
        return True
    content = given.get("content")
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") in PART_TYPES for p in content)


def read_input(given: object) -> list[Message]:
    """The request body (`{"instructions": ..., "input": ...}`), its items list, or a plain string."""
    at = At("input")
    read: list[Message] = []
    if isinstance(given, dict):
        if "input" not in given and "instructions" not in given:
            raise at.error("expected a request body with input or a list of items, got an object without it")
        instructions = at.key("instructions").optional_text(given.get("instructions"))
        if instructions is not None:
            read.append(Message(role="system", text=instructions, side=Side.INPUT))
        at, given = at.key("input"), given.get("input")
        if given is None:
            return read
    elif not isinstance(given, str | list):
        raise at.mismatch("a request body, a string or a list of items", given)
    if isinstance(given, str):
        return [*read, Message(role="user", text=given, side=Side.INPUT)]
    return read + read_items(at.items(given, "a string or a list of items"), at, Side.INPUT)


def read_output(given: object) -> list[Message]:
    """The response body (`{"output": [...]}`) or its output list."""
    at = At("output")
    if isinstance(given, dict):
        if "output" not in given:
            raise at.error("expected a response body with output or a list of items, got an object without it")
        at, given = at.key("output"), given["output"]
    return read_items(at.items(given, "a response body or a list of items"), at, Side.OUTPUT)


def read_items(items: list[object], at: At, side: Side) -> list[Message]:
    read = []
    for i, given in enumerate(items):
        item_at = at.index(i)
        item = item_at.mapping(given, "an item")
        kind = item_at.key("type").optional_text(item.get("type")) or "message"
        if kind in SKIPPED_ITEMS:
            continue
        if kind == "message":
            read.append(read_message(item, item_at, side))
        elif kind in CALLS:
            call_id = item_at.key("call_id").optional_text(item.get("call_id"))
            name = item_at.key("name").text(item.get("name"))
            key = CALLS[kind]
            call = ToolCall(name, json_arguments(item.get(key), item_at.key(key)), call_id)
            read.append(Message(role="assistant", text="", side=side, tool_calls=(call,)))
        elif kind in CALL_OUTPUTS:
            call_id = item_at.key("call_id").optional_text(item.get("call_id"))
            gathered = Gathered()
            gathered.add_content(item.get("output"), item_at.key("output"), TEXT_PARTS)
            read.append(gathered.message("tool", side, call_id))
        else:
            read.append(Message(role="assistant", text="", side=side, omitted=(kind,)))
    return read


def read_message(item: dict[str, object], at: At, side: Side) -> Message:
    role = at.key("role").text(item.get("role", "assistant" if side is Side.OUTPUT else None))
    if role not in ROLES:
        raise at.key("role").error(f"expected one of {', '.join(ROLES)}, got {role!r}")
    gathered = Gathered()
    gathered.add_content(item.get("content"), at.key("content"), TEXT_PARTS)
    return gathered.message(ROLES[role], side)
