"""Readers of a call's content in each provider's own JSON shapes, into one `CallContent`.

`read_content` picks the reader: genai-prices' API flavour first where it names a shape (`anthropic` is Claude
on Bedrock or Vertex, `chat` is an OpenAI-compatible endpoint of Anthropic or Google), then the provider, then
for OpenAI-compatible providers the shape itself (Responses or chat)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..records import CallContent, Message
from . import anthropic, gemini, openai_chat, openai_responses
from .errors import ContentShapeError

__all__ = ["ContentShapeError", "read_content"]

GEMINI_PROVIDERS = {"google", "google-vertex", "google-gla", "gemini"}


@dataclass(frozen=True)
class Shape:
    """The two readers of one API: the request side and the response side."""

    read_input: Callable[[object], list[Message]]
    read_output: Callable[[object], list[Message]]


CHAT = Shape(openai_chat.read_input, openai_chat.read_output)
RESPONSES = Shape(openai_responses.read_input, openai_responses.read_output)
ANTHROPIC = Shape(anthropic.read_input, anthropic.read_output)
GEMINI = Shape(gemini.read_input, gemini.read_output)
FLAVORS = {"chat": CHAT, "responses": RESPONSES, "anthropic": ANTHROPIC}


def read_content(provider: str, api_flavor: str | None, given_input: object, given_output: object) -> CallContent:
    """The call's input messages (Side.INPUT) then its output messages (Side.OUTPUT); either given may be None.

    Raises ContentShapeError naming the field and the place inside it that does not match the shape."""
    shape = shape_of(provider, api_flavor, given_input, given_output)
    messages: list[Message] = []
    if given_input is not None:
        messages.extend(shape.read_input(given_input))
    if given_output is not None:
        messages.extend(shape.read_output(given_output))
    return CallContent(messages=tuple(map(valid_unicode, messages)))


def valid_unicode(message: Message) -> Message:
    """Half a surrogate pair (a JSON `\\ud800` the proxy may be sent) becomes U+FFFD: the regex engine and the
    stored UTF-8 need valid text, and a debugging aid must not refuse a call the provider answered."""
    texts = [message.text, *(part for call in message.tool_calls for part in (call.name, call.arguments))]
    if all(text.isascii() for text in texts):
        return message
    return replace(
        message,
        text=unicode_of(message.text),
        tool_calls=tuple(
            replace(call, name=unicode_of(call.name), arguments=unicode_of(call.arguments))
            for call in message.tool_calls
        ),
    )


def unicode_of(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def shape_of(provider: str, api_flavor: str | None, given_input: object, given_output: object) -> Shape:
    flavor = FLAVORS.get((api_flavor or "").strip().lower())
    if flavor is not None:
        return flavor
    name = provider.strip().lower()
    if name == "anthropic":
        return ANTHROPIC
    if name in GEMINI_PROVIDERS:
        return GEMINI
    return RESPONSES if openai_responses.looks_like(given_input, given_output) else CHAT
