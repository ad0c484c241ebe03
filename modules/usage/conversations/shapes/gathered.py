"""One message's pieces, gathered part by part by every reader and made into a `Message` once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..records import Message, Side, ToolCall
from .places import At

TEXT_SEPARATOR = "\n"  # a message's text parts are joined with it, in every shape


@dataclass
class Gathered:
    """Texts, tool calls and the kinds of the parts left out (an image is named, its data never kept)."""

    texts: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.texts or self.tool_calls or self.omitted)

    def add_content(self, given: object, at: At, text_parts: Mapping[str, str]) -> None:
        """Content as OpenAI and Anthropic give it: a string, null, or a list of parts each with a `type`;
        `text_parts` maps the types that are text to the key holding it, every other type is named."""
        if given is None:
            return
        if isinstance(given, str):
            self.texts.append(given)
            return
        for i, part in enumerate(at.items(given, "a string or a list of parts")):
            part_at = at.index(i)
            found = part_at.mapping(part, "a part")
            kind = part_at.key("type").text(found.get("type"))
            key = text_parts.get(kind)
            if key is None:
                self.omitted.append(kind)
            else:
                self.texts.append(part_at.key(key).text(found.get(key)))

    def message(self, role: str, side: Side, tool_call_id: str | None = None) -> Message:
        return Message(
            role=role,
            text=TEXT_SEPARATOR.join(self.texts),
            side=side,
            tool_calls=tuple(self.tool_calls),
            tool_call_id=tool_call_id,
            omitted=tuple(self.omitted),
        )
