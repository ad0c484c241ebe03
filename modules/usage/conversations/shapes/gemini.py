"""Google Gemini generateContent: the request's `systemInstruction` and `contents`, the response's candidates
(every candidate, in order, as chat's choices are). Parts are read in camelCase or snake_case, as the API
accepts both. A `functionResponse` part is a `tool` message of its own, in its place; Gemini links it to its
call by the call's `id` when given, else by the function's name."""

from __future__ import annotations

from ..records import Message, Side, ToolCall
from .gathered import Gathered
from .json_text import compact_json
from .places import At

ROLES = {"user": "user", "model": "assistant", "function": "tool", "tool": "tool", "system": "system"}
# Keys of a part that describe another key (a thought's signature) rather than being its kind.
PART_METADATA = {"thought", "thoughtSignature", "thought_signature", "videoMetadata", "video_metadata"}
SNAKE_KEYS = {
    "systemInstruction": "system_instruction",
    "functionCall": "function_call",
    "functionResponse": "function_response",
    "inlineData": "inline_data",
    "fileData": "file_data",
}
CAMEL_KEYS = {snake: camel for camel, snake in SNAKE_KEYS.items()}


def read_input(given: object) -> list[Message]:
    """The request body (`{"systemInstruction": ..., "contents": [...]}`) or its contents list."""
    at = At("input")
    read: list[Message] = []
    if isinstance(given, dict):
        system_key = "systemInstruction" if "systemInstruction" in given else "system_instruction"
        system = given.get(system_key)
        if isinstance(system, str):
            read.append(Message(role="system", text=system, side=Side.INPUT))
        elif system is not None:
            system_at = at.key(system_key)
            found = system_at.mapping(system, "a string or a content")
            read.extend(read_parts(found.get("parts"), system_at.key("parts"), "system", Side.INPUT))
        if "contents" not in given:
            raise at.error("expected a request body with contents or a list of contents, got an object without them")
        at, given = at.key("contents"), given["contents"]
    elif not isinstance(given, list):
        raise at.mismatch("a request body or a list of contents", given)
    for i, content in enumerate(at.items(given, "a list of contents")):
        read.extend(read_content(content, at.index(i), Side.INPUT))
    return read


def read_output(given: object) -> list[Message]:
    """The response body (every candidate's content; a blocked prompt has none) or a single content."""
    at = At("output")
    body = at.mapping(given, "a response body or a content")
    if "parts" in body:
        return read_content(body, at, Side.OUTPUT)
    if "candidates" not in body:
        if "promptFeedback" in body:
            return []
        raise at.error("expected a response body with candidates or a content, got an object without them")
    candidates_at = at.key("candidates")
    read: list[Message] = []
    for i, candidate in enumerate(candidates_at.items(body["candidates"], "a list of candidates")):
        candidate_at = candidates_at.index(i)
        found = candidate_at.mapping(candidate, "a candidate")
        if found.get("content") is not None:  # a candidate stopped by a safety filter may have no content
            read.extend(read_content(found["content"], candidate_at.key("content"), Side.OUTPUT))
    return read


def read_content(given: object, at: At, side: Side) -> list[Message]:
    content = at.mapping(given, "a content")
    role_at = at.key("role")
    role = role_at.text(content.get("role", "model" if side is Side.OUTPUT else "user"))
    if role not in ROLES:
        raise role_at.error(f"expected one of {', '.join(ROLES)}, got {role!r}")
    return read_parts(content.get("parts", []), at.key("parts"), ROLES[role], side)


def read_parts(given: object, at: At, role: str, side: Side) -> list[Message]:
    read: list[Message] = []
    gathered = Gathered()
    for i, part in enumerate(at.items(given, "a list of parts")):
        part_at = at.index(i)
        found = {CAMEL_KEYS.get(key, key): value for key, value in part_at.mapping(part, "a part").items()}
        if "text" in found:
            text = part_at.key("text").text(found["text"])
            if found.get("thought") is True:
                gathered.omitted.append("thought")
            else:
                gathered.texts.append(text)
        elif "functionCall" in found:
            gathered.tool_calls.append(read_call(found["functionCall"], part_at.key("functionCall")))
        elif "functionResponse" in found:
            if gathered:
                read.append(gathered.message(role, side))
                gathered = Gathered()
            read.append(read_response(found["functionResponse"], part_at.key("functionResponse"), side))
        else:
            gathered.omitted.extend(key for key in found if key not in PART_METADATA)
    if gathered or not read:
        read.append(gathered.message(role, side))
    return read


def read_call(given: object, at: At) -> ToolCall:
    call = at.mapping(given, "a function call")
    name = at.key("name").text(call.get("name"))
    call_id = at.key("id").optional_text(call.get("id"))
    return ToolCall(name, compact_json(call.get("args", {}), at.key("args")), call_id)


def read_response(given: object, at: At, side: Side) -> Message:
    response = at.mapping(given, "a function response")
    name = at.key("name").text(response.get("name"))
    call_id = at.key("id").optional_text(response.get("id")) or name
    text = compact_json(response.get("response", {}), at.key("response"))
    return Message(role="tool", text=text, side=side, tool_call_id=call_id)
