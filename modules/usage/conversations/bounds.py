"""The size bound on a call's stored content, and what is kept when a call is larger.

A call's size is the UTF-8 bytes of its messages' texts and tool-call arguments. Within the bound
(`CONTENT_LIMIT_BYTES`, 256 KiB) everything is kept. Beyond it:

1. the OUTPUT messages are kept first, each cut to at most half the bound (the answer is what is least often
   kept anywhere else, yet a huge answer must leave room for the question);
2. then the system messages at the start of the input;
3. then the newest input messages, walking back from the last one while they fit; the first that does not
   fit whole is cut to what remains and the walk stops there.

A message longer than what remains is cut, its text first and then its tool-call arguments, each cut piece
ending with `…[truncated N characters]` (N counted in characters; the cut never splits a character, and the
marker counts towards the bound); a message that cannot hold even its markers is dropped. Dropped messages
are counted in `omitted_messages`; the kept ones stay in their original order."""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, replace

from .records import Message, Side

CONTENT_LIMIT_BYTES = 256 * 1024


@dataclass(frozen=True)
class Bounded:
    """The messages as stored; `truncated` whenever anything was cut or dropped; `original_bytes` the size
    before the bound."""

    messages: tuple[Message, ...]
    truncated: bool
    omitted_messages: int
    original_bytes: int


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def message_size(message: Message) -> int:
    """The bytes a message counts for: its text and its tool calls' arguments."""
    return utf8_size(message.text) + sum(utf8_size(call.arguments) for call in message.tool_calls)


def content_size(messages: Sequence[Message]) -> int:
    return sum(message_size(message) for message in messages)


def bound(messages: Sequence[Message], limit: int = CONTENT_LIMIT_BYTES) -> Bounded:
    """The messages that fit in `limit` bytes, by the policy above."""
    given = tuple(messages)
    original = content_size(given)
    if original <= limit:
        return Bounded(given, truncated=False, omitted_messages=0, original_bytes=original)
    kept: dict[int, Message] = {}
    remaining = limit
    for index in (i for i, message in enumerate(given) if message.side is Side.OUTPUT):
        fitted = fit(given[index], min(remaining, limit // 2))
        if fitted is not None:
            kept[index] = fitted
            remaining -= message_size(fitted)
    for index in leading_system(given):
        fitted = fit(given[index], remaining)
        if fitted is not None:
            kept[index] = fitted
            remaining -= message_size(fitted)
    for index in newest_inputs(given, skip=kept.keys()):
        fitted = fit(given[index], remaining)
        if fitted is None:
            break
        kept[index] = fitted
        remaining -= message_size(fitted)
        if fitted is not given[index]:
            break
    return Bounded(
        tuple(kept[index] for index in sorted(kept)),
        truncated=True,
        omitted_messages=len(given) - len(kept),
        original_bytes=original,
    )


def leading_system(messages: tuple[Message, ...]) -> Iterator[int]:
    for index, message in enumerate(messages):
        if message.side is not Side.INPUT or message.role != "system":
            return
        yield index


def newest_inputs(messages: tuple[Message, ...], skip: Container[int]) -> Iterator[int]:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].side is Side.INPUT and index not in skip:
            yield index


def fit(message: Message, budget: int) -> Message | None:
    """`message` itself if it fits in `budget` bytes, else cut to fit (the text first: the tool-call arguments
    are cut only once the text is down to its marker), else None when not even the markers fit."""
    if message_size(message) <= budget:
        return message
    pieces = [call.arguments for call in message.tool_calls] + [message.text]  # the last piece is cut first
    floors = [min(utf8_size(piece), utf8_size(marker(len(piece)))) for piece in pieces]
    if sum(floors) > budget:
        return None
    cut_pieces = []
    remaining = budget
    for position, piece in enumerate(pieces):
        cut_piece = cut(piece, remaining - sum(floors[position + 1 :]))
        cut_pieces.append(cut_piece)
        remaining -= utf8_size(cut_piece)
    arguments = cut_pieces[:-1]
    calls = tuple(replace(call, arguments=piece) for call, piece in zip(message.tool_calls, arguments, strict=True))
    return replace(message, text=cut_pieces[-1], tool_calls=calls)


def marker(removed: int) -> str:
    return f"…[truncated {removed} characters]"


def cut(text: str, budget: int) -> str:
    """`text` if it fits in `budget` bytes, else its longest prefix of whole characters that fits together with
    the marker saying how many characters were cut. The caller gives a budget of at least the marker's size.

    The first prefix leaves room for the shortest marker only; while the marker of what it cuts is longer, a
    shorter prefix (cutting more, so a marker as long or longer) is tried: the first that fits with its own
    marker is the longest that does."""
    if utf8_size(text) <= budget:
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    room = budget - utf8_size(marker(0))
    while True:
        prefix = encoded[:room].decode("utf-8", "ignore")
        removed = len(text) - len(prefix)
        wider = budget - utf8_size(marker(removed))  # fewer cut: a marker as short or shorter
        if wider == room:
            return prefix + marker(removed)
        room = wider
