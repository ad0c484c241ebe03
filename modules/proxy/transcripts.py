"""A streamed answer put back together, event by event, into its API's non-streamed response shape — the shape
the usage module's content readers (`read_content`) read as a call's output. One transcript per API, fed by the
call's reader with every event's parsed data, only while the call's content is captured.

What a transcript keeps is capped (MAX_TEXT characters of text): past it, it stops keeping more and the stored
conversation is marked truncated by the ingest's bound, which is smaller anyway."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from modules.proxy.apis import Reader

MAX_TEXT = 1024 * 1024  # characters kept per call (the ingest stores at most 256 KiB of a call's content)
FINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")


class Transcript:
    """Keeps nothing; the API transcripts below say what to keep. `feed` never raises on a shape it does not
    know (the event is skipped), and stops keeping once `kept` passes MAX_TEXT."""

    def __init__(self) -> None:
        self.kept = 0

    def feed(self, data: dict[str, Any], name: str | None) -> None:
        if self.kept > MAX_TEXT:
            return
        with contextlib.suppress(AttributeError, TypeError, ValueError, KeyError):  # a shape we do not know
            self.take(data, name)

    def take(self, data: dict[str, Any], name: str | None) -> None:
        pass

    def text(self, given: object) -> str:
        """`given` as text kept (counted against the cap); "" when it is not text."""
        if not isinstance(given, str):
            return ""
        self.kept += len(given)
        return given

    def output(self) -> Any:
        """The answer in the API's non-streamed shape; None when the stream showed none."""
        return None


@dataclass
class ChatToolCall:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class ChatChoice:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, ChatToolCall] = field(default_factory=dict)


class ChatTranscript(Transcript):
    """OpenAI chat: each choice's content and refusal deltas joined, its tool call deltas merged by `index`
    (the id and name come once, the arguments in pieces). Legacy completions' `text` joins as content."""

    def __init__(self) -> None:
        super().__init__()
        self.choices: dict[int, ChatChoice] = {}

    def take(self, data: dict[str, Any], name: str | None) -> None:
        for given in data.get("choices") or ():
            choice = self.choices.setdefault(int(given.get("index") or 0), ChatChoice())
            delta = given.get("delta") or {}
            if isinstance(delta.get("role"), str):
                choice.role = delta["role"]
            for piece in (delta.get("content"), given.get("text")):
                if text := self.text(piece):
                    choice.content.append(text)
            if refusal := self.text(delta.get("refusal")):
                choice.refusal.append(refusal)
            for call in delta.get("tool_calls") or ():
                merged = choice.tool_calls.setdefault(int(call.get("index") or 0), ChatToolCall())
                merged.id = call.get("id") or merged.id
                function = call.get("function") or {}
                merged.name = merged.name or self.text(function.get("name"))
                if arguments := self.text(function.get("arguments")):
                    merged.arguments.append(arguments)

    def output(self) -> Any:
        if not self.choices:
            return None
        return {"choices": [chat_choice(index, self.choices[index]) for index in sorted(self.choices)]}


def chat_choice(index: int, choice: ChatChoice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": choice.role, "content": "".join(choice.content) or None}
    if choice.refusal:
        message["refusal"] = "".join(choice.refusal)
    if choice.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": "".join(call.arguments)},
            }
            for _, call in sorted(choice.tool_calls.items())
        ]
    return {"index": index, "message": message}


class ResponsesTranscript(Transcript):
    """OpenAI Responses: the final event (`response.completed`, or incomplete, failed) carries the whole
    response; the deltas before it are not needed."""

    def __init__(self) -> None:
        super().__init__()
        self.response: dict[str, Any] | None = None

    def take(self, data: dict[str, Any], name: str | None) -> None:
        kind = str(data.get("type") or name or "")
        if kind in FINAL_RESPONSE_EVENTS and isinstance(data.get("response"), dict):
            self.response = data["response"]  # already parsed by the reader: nothing more is kept

    def output(self) -> Any:
        return self.response


@dataclass
class AnthropicBlock:
    block: dict[str, Any]
    text: list[str] = field(default_factory=list)
    partial_json: list[str] = field(default_factory=list)


class AnthropicTranscript(Transcript):
    """Anthropic messages: each content block as `content_block_start` opened it, its `text_delta`s joined into
    its text, its `input_json_delta`s joined and parsed into its input (kept as the string if it does not
    parse: an answer cut short)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[int, AnthropicBlock] = {}

    def take(self, data: dict[str, Any], name: str | None) -> None:
        kind = data.get("type")
        if kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            self.blocks[int(data.get("index") or 0)] = AnthropicBlock(dict(data["content_block"]))
        elif kind == "content_block_delta":
            block = self.blocks.get(int(data.get("index") or 0))
            delta = data.get("delta") or {}
            if block is None:
                return
            if delta.get("type") == "text_delta":
                block.text.append(self.text(delta.get("text")))
            elif delta.get("type") == "input_json_delta":
                block.partial_json.append(self.text(delta.get("partial_json")))
            elif delta.get("type") == "thinking_delta":
                block.text.append(self.text(delta.get("thinking")))

    def output(self) -> Any:
        if not self.blocks:
            return None
        return {
            "type": "message",
            "role": "assistant",
            "content": [anthropic_block(self.blocks[index]) for index in sorted(self.blocks)],
        }


def anthropic_block(given: AnthropicBlock) -> dict[str, Any]:
    block = dict(given.block)
    if given.text:
        key = "thinking" if block.get("type") == "thinking" else "text"
        block[key] = str(block.get(key) or "") + "".join(given.text)
    if given.partial_json:
        joined = "".join(given.partial_json)
        try:
            block["input"] = json.loads(joined)
        except ValueError:
            block["input"] = joined
    return block


class GeminiTranscript(Transcript):
    """Gemini: each candidate's parts in order, consecutive text parts joined (a thought's apart from the
    answer's), function calls and any other part kept as they came."""

    def __init__(self) -> None:
        super().__init__()
        self.candidates: dict[int, list[dict[str, Any]]] = {}

    def take(self, data: dict[str, Any], name: str | None) -> None:
        for candidate in data.get("candidates") or ():
            parts = self.candidates.setdefault(int(candidate.get("index") or 0), [])
            for part in (candidate.get("content") or {}).get("parts") or ():
                if not isinstance(part, dict):
                    continue
                text = self.text(part.get("text"))
                if "text" in part and parts and "text" in parts[-1] and parts[-1].get("thought") == part.get("thought"):
                    parts[-1]["text"] += text
                elif "text" in part:
                    parts.append({**part, "text": text})
                else:
                    self.kept += len(json.dumps(part))
                    parts.append(part)

    def output(self) -> Any:
        if not self.candidates:
            return None
        return {
            "candidates": [
                {"index": index, "content": {"role": "model", "parts": self.candidates[index]}}
                for index in sorted(self.candidates)
            ]
        }


TRANSCRIPTS: dict[Reader, type[Transcript]] = {
    Reader.CHAT: ChatTranscript,
    Reader.RESPONSES: ResponsesTranscript,
    Reader.ANTHROPIC: AnthropicTranscript,
    Reader.GEMINI: GeminiTranscript,
}


def transcript_for(reader: Reader) -> Transcript:
    return TRANSCRIPTS.get(reader, Transcript)()


def reassembled(reader: Reader, chunks: list[Any]) -> Any:
    """A stream that came as one JSON array (Gemini without `alt=sse`), reassembled the same way."""
    transcript = transcript_for(reader)
    for chunk in chunks:
        if isinstance(chunk, dict):
            transcript.feed(chunk, None)
    return transcript.output()
