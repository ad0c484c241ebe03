"""The stream readers alone, on the recorded fixtures and on shapes they do not know: what they forward, the
usage they find, the first content event; a chunk of an unknown shape is forwarded and breaks nothing."""

from __future__ import annotations

import json

from modules.proxy.apis import Reader
from modules.proxy.readers import AnthropicReader, ChatReader, GeminiReader, reader_for
from modules.proxy.sse import SseSplitter
from tests.proxy.fake_upstream import fixture, fixture_json


def fed(reader: ChatReader | AnthropicReader | GeminiReader, name: str, *, piece: int = 7) -> bytes:
    """The fixture fed in pieces of `piece` bytes, each at the next clock tick; the bytes forwarded."""
    splitter, out, raw = SseSplitter(), [], fixture(name).encode()
    for tick, start in enumerate(range(0, len(raw), piece)):
        for event in splitter.feed(raw[start : start + piece]):
            forwarded = reader.on_event(event, float(tick))
            if forwarded is not None:
                out.append(forwarded)
    return b"".join(out) + splitter.rest()


def test_the_added_usage_is_removed_byte_for_byte() -> None:
    reader = ChatReader(remove_usage=True)
    assert fed(reader, "openai_chat_stream_usage.sse").decode() == fixture("openai_chat_stream.sse")
    assert reader.read.raw_usage is not None and reader.read.raw_usage["usage"]["prompt_tokens"] == 519
    assert reader.read.model == "gpt-4o-mini-2024-07-18"
    raw = fixture("openai_chat_stream_usage.sse").encode()
    event_end = raw.index(b"\n\n", raw.index(b'"content":"Hello"')) + 2
    assert reader.read.first_content_at == (event_end - 1) // 7  # the tick its event was whole at


def test_a_stream_passed_through_is_unchanged() -> None:
    reader = ChatReader()
    assert fed(reader, "openai_chat_stream_usage.sse").decode() == fixture("openai_chat_stream_usage.sse")


def test_anthropic_usage_is_message_start_and_message_delta_merged() -> None:
    reader = AnthropicReader()
    fed(reader, "anthropic_messages_stream.sse")
    expected = fixture_json("anthropic_messages.json")
    assert reader.read.raw_usage == {"model": expected["model"], "usage": expected["usage"]}


def test_gemini_streamed_as_one_json_array_is_read_from_its_last_counted_chunk() -> None:
    events = fixture("gemini_stream.sse").split("\r\n\r\n")
    chunks = [json.loads(event.removeprefix("data: ")) for event in events if event]
    reader = GeminiReader()
    reader.on_body(chunks)
    assert reader.read.raw_usage == chunks[-1] and reader.read.model == "gemini-2.5-flash"


def test_a_chunk_of_an_unknown_shape_is_forwarded_and_breaks_nothing() -> None:
    splitter = SseSplitter()
    odd = b'data: {"choices": ["not an object"], "usage": 5}\n\ndata: {"choices": [{"delta": "text"}]}\n\ndata: [1, 2]\n\n'
    for kind in Reader:
        reader = reader_for(kind)
        assert b"".join(reader.on_event(event, 0.0) or b"" for event in splitter.feed(odd)) == odd
        assert reader.read.raw_usage is None
