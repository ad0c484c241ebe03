"""Every provider shape is read into the same messages: recorded response bodies (tests/fixtures/proxy) for the
outputs, request bodies as each SDK sends them for the inputs, tool calls and their results linked the same
way in every API, parts that are not text named and never kept, and every mismatch refused naming its place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.usage.conversations.records import CallContent, Message, Side, ToolCall
from modules.usage.conversations.shapes import ContentShapeError, read_content

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "proxy"
IN, OUT = Side.INPUT, Side.OUTPUT


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def messages(provider: str, api_flavor: str | None, given_input: object, given_output: object) -> list[Message]:
    content = read_content(provider, api_flavor, given_input, given_output)
    assert isinstance(content, CallContent)
    return list(content.messages)


def refused(provider: str, api_flavor: str | None, given_input: object, given_output: object) -> ContentShapeError:
    with pytest.raises(ContentShapeError) as raised:
        read_content(provider, api_flavor, given_input, given_output)
    return raised.value


# --- OpenAI Chat Completions ---------------------------------------------------------------------------------

CHAT_REQUEST = {
    "model": "gpt-4o-mini",
    "temperature": 0.2,
    "messages": [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "system", "content": [{"type": "text", "text": "Be kind."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-abc"}},
                {"type": "text", "text": "Be precise."},
            ],
        },
        {"role": "assistant", "content": None, "refusal": "I can't identify people."},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "Still no."}]},
    ],
}


def test_chat_request_and_response_body() -> None:
    assert messages("openai", "chat", CHAT_REQUEST, fixture("openai_chat")) == [
        Message(role="system", text="Answer briefly.", side=IN),
        Message(role="system", text="Be kind.", side=IN),
        Message(
            role="user",
            text="What is in this picture?\nBe precise.",
            side=IN,
            omitted=("image_url", "input_audio", "file"),
        ),
        Message(role="assistant", text="I can't identify people.", side=IN),
        Message(role="assistant", text="Still no.", side=IN),
        Message(role="assistant", text="Hello! How can I help you today?", side=OUT),
    ]


def test_chat_messages_list_and_a_single_output_message() -> None:
    given_input = [{"role": "user", "content": "Hi"}]
    given_output = {"role": "assistant", "content": "Hello"}
    assert messages("openai", None, given_input, given_output) == [
        Message(role="user", text="Hi", side=IN),
        Message(role="assistant", text="Hello", side=OUT),
    ]


def test_chat_every_choice_is_an_output_message() -> None:
    body = fixture("openai_chat")
    body["choices"].append({"index": 1, "message": {"role": "assistant", "content": "Hey."}})
    assert messages("openai", None, None, body) == [
        Message(role="assistant", text="Hello! How can I help you today?", side=OUT),
        Message(role="assistant", text="Hey.", side=OUT),
    ]


def test_chat_tool_calls_round_trip() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_Jx1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_Jx1", "content": '{"temp": 18}'},
            {"role": "assistant", "content": "Let me check.", "function_call": {"name": "lookup", "arguments": "{}"}},
            {"role": "function", "name": "lookup", "content": "found"},
        ]
    }
    assert messages("openai", "chat", request, fixture("openai_chat_tools")) == [
        Message(role="user", text="Weather in Paris?", side=IN),
        Message(
            role="assistant",
            text="",
            side=IN,
            tool_calls=(ToolCall(name="get_weather", arguments='{"city":"Paris"}', id="call_Jx1"),),
        ),
        Message(role="tool", text='{"temp": 18}', side=IN, tool_call_id="call_Jx1"),
        Message(role="assistant", text="Let me check.", side=IN, tool_calls=(ToolCall(name="lookup", arguments="{}"),)),
        Message(role="tool", text="found", side=IN, tool_call_id="lookup"),
        Message(
            role="assistant",
            text="",
            side=OUT,
            tool_calls=(ToolCall(name="get_weather", arguments='{"city":"Paris"}', id="call_Jx1"),),
        ),
    ]


def test_chat_arguments_text_is_kept_byte_for_byte() -> None:
    spaced = '{ "city" : "Paris",\n  "unit": "C" }'
    output = {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": spaced}}],
    }
    assert messages("openai", "chat", None, output)[0].tool_calls == (ToolCall(name="f", arguments=spaced, id="c1"),)


@pytest.mark.parametrize(
    ("given_input", "given_output", "field", "reason"),
    [
        (42, None, "input", "expected a request body or a list of messages, got a number"),
        ({"model": "gpt-4o"}, None, "input", "expected a request body with messages"),
        ({"messages": "hi"}, None, "input", "messages: expected a list of messages, got a string"),
        (
            {"messages": [{"role": "user", "content": "a"}, 7]},
            None,
            "input",
            "messages[1]: expected a message, got a number",
        ),
        ([{"content": "a"}], None, "input", "[0].role: expected a string, got null"),
        ([{"role": 1, "content": "a"}], None, "input", "[0].role: expected a string, got a number"),
        ([{"role": "critic", "content": "a"}], None, "input", "[0].role: expected one of system, developer"),
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "user", "content": "b"},
                    {"role": "user", "content": 3},
                ]
            },
            None,
            "input",
            "messages[2].content: expected a string or a list of parts, got a number",
        ),
        ([{"role": "user", "content": ["hi"]}], None, "input", "[0].content[0]: expected a part, got a string"),
        (
            [{"role": "user", "content": [{"text": "hi"}]}],
            None,
            "input",
            "[0].content[0].type: expected a string, got null",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": 5}]}],
            None,
            "input",
            "[0].content[0].text: expected a string, got a number",
        ),
        ([{"role": "assistant", "refusal": True}], None, "input", "[0].refusal: expected a string, got a boolean"),
        (
            [{"role": "assistant", "tool_calls": {}}],
            None,
            "input",
            "[0].tool_calls: expected a list of tool calls, got an object",
        ),
        (
            [{"role": "assistant", "tool_calls": [[]]}],
            None,
            "input",
            "[0].tool_calls[0]: expected a tool call, got a list",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"type": "function", "function": "f"}]}],
            None,
            "input",
            "[0].tool_calls[0].function: expected a function call, got a string",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"arguments": "{}"}}]}],
            None,
            "input",
            "[0].tool_calls[0].function.name: expected a string, got null",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": 1}}]}],
            None,
            "input",
            "[0].tool_calls[0].function.arguments: expected a string of JSON, got a number",
        ),
        (
            [{"role": "tool", "tool_call_id": 9, "content": "x"}],
            None,
            "input",
            "[0].tool_call_id: expected a string, got a number",
        ),
        (None, "Hello", "output", "expected a response body or a message, got a string"),
        (None, {"choices": {}}, "output", "choices: expected a list of choices, got an object"),
        (None, {"choices": [None]}, "output", "choices[0]: expected a choice, got null"),
        (None, {"choices": [{"index": 0}]}, "output", "choices[0].message: expected a message, got null"),
    ],
)
def test_chat_mismatches_name_their_place(given_input: object, given_output: object, field: str, reason: str) -> None:
    error = refused("openai", "chat", given_input, given_output)
    assert (error.field, error.reason[: len(reason)]) == (field, reason)
    assert str(error) == f"{field}: {error.reason}"


def test_chat_unknown_part_and_tool_types_are_named_not_refused() -> None:
    given = [
        {
            "role": "assistant",
            "content": [{"type": "hologram", "data": "…"}],
            "audio": {"id": "audio_1"},
            "tool_calls": [
                {"id": "c2", "type": "custom", "custom": {"name": "sql", "input": "select 1"}},
                {"id": "c3", "type": "computer", "computer": {}},
            ],
        }
    ]
    assert messages("openai", "chat", given, None) == [
        Message(
            role="assistant",
            text="",
            side=IN,
            tool_calls=(ToolCall(name="sql", arguments="select 1", id="c2"),),
            omitted=("hologram", "audio", "computer"),
        )
    ]


# --- OpenAI Responses --------------------------------------------------------------------------------------------

RESPONSES_REQUEST = {
    "model": "o4-mini",
    "instructions": "You are terse.",
    "input": [
        {"role": "developer", "content": "Use metric units."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather here?"},
                {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ"},
                {"type": "input_file", "file_id": "file-1"},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA"},
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_7",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
        },
        {"type": "function_call_output", "call_id": "call_7", "output": '{"temp":-3}'},
        {"role": "assistant", "content": [{"type": "output_text", "text": "It is -3 °C.", "annotations": []}]},
        {"role": "user", "content": "Thanks"},
    ],
}


def test_responses_request_and_response_body() -> None:
    assert messages("openai", "responses", RESPONSES_REQUEST, fixture("openai_responses")) == [
        Message(role="system", text="You are terse.", side=IN),
        Message(role="system", text="Use metric units.", side=IN),
        Message(role="user", text="Weather here?", side=IN, omitted=("input_image", "input_file")),
        Message(
            role="assistant",
            text="",
            side=IN,
            tool_calls=(ToolCall(name="get_weather", arguments='{"city":"Oslo"}', id="call_7"),),
        ),
        Message(role="tool", text='{"temp":-3}', side=IN, tool_call_id="call_7"),
        Message(role="assistant", text="It is -3 °C.", side=IN),
        Message(role="user", text="Thanks", side=IN),
        Message(role="assistant", text="Done.", side=OUT),
    ]


def test_responses_plain_string_input_and_output_list() -> None:
    output = [
        {"type": "reasoning", "id": "rs_2", "summary": []},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Calling."}, {"type": "refusal", "refusal": "Not that."}],
        },
        {"type": "function_call", "call_id": "call_9", "name": "search", "arguments": '{"q":"x"}'},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ]
    assert messages("openai", "responses", "Find x", output) == [
        Message(role="user", text="Find x", side=IN),
        Message(role="assistant", text="Calling.\nNot that.", side=OUT),
        Message(
            role="assistant",
            text="",
            side=OUT,
            tool_calls=(ToolCall(name="search", arguments='{"q":"x"}', id="call_9"),),
        ),
        Message(role="assistant", text="", side=OUT, omitted=("web_search_call",)),
    ]


def test_responses_function_call_output_with_parts() -> None:
    given = {
        "input": [
            {
                "type": "function_call_output",
                "call_id": "call_3",
                "output": [
                    {"type": "input_text", "text": "chart:"},
                    {"type": "input_image", "image_url": "https://x/c.png"},
                ],
            }
        ]
    }
    assert messages("openai", "responses", given, None) == [
        Message(role="tool", text="chart:", side=IN, tool_call_id="call_3", omitted=("input_image",)),
    ]


def test_responses_body_with_only_instructions_and_a_string_input() -> None:
    assert messages("openai", "responses", {"instructions": "Rhyme.", "input": "About cats"}, None) == [
        Message(role="system", text="Rhyme.", side=IN),
        Message(role="user", text="About cats", side=IN),
    ]


@pytest.mark.parametrize(
    ("given_input", "given_output", "field", "reason"),
    [
        (3.5, None, "input", "expected a request body, a string or a list of items, got a number"),
        ({"input": 3}, None, "input", "input: expected a string or a list of items, got a number"),
        ({"model": "o4-mini", "messages": []}, None, "input", "expected a request body with input or a list of items"),
        ({"instructions": ["x"], "input": "hi"}, None, "input", "instructions: expected a string, got a list"),
        (["hi"], None, "input", "[0]: expected an item, got a string"),
        ([{"type": 7}], None, "input", "[0].type: expected a string, got a number"),
        ([{"type": "message", "content": "x"}], None, "input", "[0].role: expected a string, got null"),
        ([{"type": "message", "role": "tool", "content": "x"}], None, "input", "[0].role: expected one of system"),
        (
            [{"role": "user", "content": 1}],
            None,
            "input",
            "[0].content: expected a string or a list of parts, got a number",
        ),
        (
            [{"role": "user", "content": [{"type": "input_text"}]}],
            None,
            "input",
            "[0].content[0].text: expected a string, got null",
        ),
        (
            [{"type": "function_call", "call_id": "c", "arguments": "{}"}],
            None,
            "input",
            "[0].name: expected a string, got null",
        ),
        (
            [{"type": "function_call", "call_id": 1, "name": "f"}],
            None,
            "input",
            "[0].call_id: expected a string, got a number",
        ),
        (
            [{"type": "function_call_output", "call_id": "c", "output": 5}],
            None,
            "input",
            "[0].output: expected a string or a list of parts",
        ),
        (None, {"id": "resp_1"}, "output", "expected a response body with output"),
        (None, {"output": None}, "output", "output: expected a response body or a list of items, got null"),
        (
            None,
            {"output": [{"type": "message", "role": "assistant", "content": [5]}]},
            "output",
            "output[0].content[0]: expected a part, got a number",
        ),
    ],
)
def test_responses_mismatches_name_their_place(
    given_input: object, given_output: object, field: str, reason: str
) -> None:
    error = refused("openai", "responses", given_input, given_output)
    assert (error.field, error.reason[: len(reason)]) == (field, reason)


@pytest.mark.parametrize(
    ("given_input", "given_output"),
    [
        ("hello", None),
        ({"model": "gpt-5", "input": [{"role": "user", "content": "hello"}]}, None),
        (None, {"object": "response", "output": [{"type": "message", "role": "assistant", "content": "hello"}]}),
        ([{"type": "message", "role": "user", "content": "hello"}], None),
        ([{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}], None),
    ],
    ids=["string", "body-with-input", "body-with-output", "message-items", "input-text-parts"],
)
def test_an_openai_compatible_call_without_a_flavour_is_told_responses_by_its_shape(
    given_input: object, given_output: object
) -> None:
    side = IN if given_input is not None else OUT
    role = "user" if side is IN else "assistant"
    assert messages("together", None, given_input, given_output) == [Message(role=role, text="hello", side=side)]


def test_a_chat_shaped_call_without_a_flavour_is_read_as_chat() -> None:
    # Read as Responses (the flavour given says so), the same body is refused for lacking `input`.
    given = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]}
    assert messages("deepseek", None, given, fixture("openai_chat")) == [
        Message(role="user", text="hello", side=IN),
        Message(role="assistant", text="Hello! How can I help you today?", side=OUT),
    ]
    error = refused("deepseek", "responses", given, None)
    assert (error.field, error.reason) == (
        "input",
        "expected a request body with input or a list of items, got an object without it",
    )


# --- Anthropic Messages --------------------------------------------------------------------------------------------

ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": [{"type": "text", "text": "You are a weather bot.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "document", "source": {"type": "url", "url": "https://x/report.pdf"}},
                {"type": "text", "text": "Weather in Rome?"},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "The user wants weather.", "signature": "EqQB"},
                {"type": "redacted_thinking", "data": "EmwKAhgB"},
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_weather",
                    "input": {"city": "Rome", "days": [1, 2]},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "22 °C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "map:"},
                        {"type": "image", "source": {"type": "base64", "data": "x"}},
                    ],
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
        {"role": "assistant", "content": "Sunny."},
    ],
}


def test_anthropic_request_and_response_body() -> None:
    assert messages("anthropic", None, ANTHROPIC_REQUEST, fixture("anthropic_messages")) == [
        Message(role="system", text="You are a weather bot.", side=IN),
        Message(role="user", text="Weather in Rome?", side=IN, omitted=("image", "document")),
        Message(
            role="assistant",
            text="Checking.",
            side=IN,
            tool_calls=(ToolCall(name="get_weather", arguments='{"city":"Rome","days":[1,2]}', id="toolu_01"),),
            omitted=("thinking", "redacted_thinking"),
        ),
        Message(role="tool", text="22 °C", side=IN, tool_call_id="toolu_01"),
        Message(role="tool", text="map:", side=IN, tool_call_id="toolu_02", omitted=("image",)),
        Message(role="user", text="And tomorrow?", side=IN),
        Message(role="assistant", text="Sunny.", side=IN),
        Message(role="assistant", text="Hello!", side=OUT),
    ]


def test_anthropic_string_system_messages_list_and_tool_use_output() -> None:
    body = fixture("anthropic_messages")
    body["content"] = [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_9", "name": "search", "input": {"q": "café"}},
    ]
    body["stop_reason"] = "tool_use"
    assert messages(
        "anthropic", "default", {"system": "Short.", "messages": [{"role": "user", "content": "Hi"}]}, body
    ) == [
        Message(role="system", text="Short.", side=IN),
        Message(role="user", text="Hi", side=IN),
        Message(
            role="assistant",
            text="Let me look.",
            side=OUT,
            tool_calls=(ToolCall(name="search", arguments='{"q":"café"}', id="toolu_9"),),
        ),
    ]
    assert messages("anthropic", None, [{"role": "user", "content": "Hi"}], None) == [
        Message(role="user", text="Hi", side=IN)
    ]


def test_claude_on_bedrock_is_read_as_anthropic_by_its_flavour() -> None:
    assert messages("aws", "anthropic", [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], None) == [
        Message(role="user", text="Hi", side=IN)
    ]


def test_anthropic_through_its_openai_compatible_endpoint_is_read_as_chat() -> None:
    assert messages("anthropic", "chat", [{"role": "developer", "content": "Hi"}], None) == [
        Message(role="system", text="Hi", side=IN)
    ]


@pytest.mark.parametrize(
    ("given_input", "given_output", "field", "reason"),
    [
        ("hi", None, "input", "expected a request body or a list of messages, got a string"),
        ({"system": "x"}, None, "input", "expected a request body with messages"),
        ({"system": 1, "messages": []}, None, "input", "system: expected a string or a list of parts, got a number"),
        ({"messages": [1]}, None, "input", "messages[0]: expected a message, got a number"),
        ([{"role": "tool", "content": "x"}], None, "input", "[0].role: expected one of user, assistant"),
        (
            [{"role": "user", "content": 5}],
            None,
            "input",
            "[0].content: expected a string or a list of blocks, got a number",
        ),
        (
            [{"role": "user", "content": [{"text": "x"}]}],
            None,
            "input",
            "[0].content[0].type: expected a string, got null",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": None}]}],
            None,
            "input",
            "[0].content[0].text: expected a string, got null",
        ),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}],
            None,
            "input",
            "[0].content[0].name: expected a string, got null",
        ),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "id": 3, "name": "f"}]}],
            None,
            "input",
            "[0].content[0].id: expected a string, got a number",
        ),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"x": b"raw"}}]}],
            None,
            "input",
            "[0].content[0].input: expected JSON, got a bytes",
        ),
        (
            [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": 1}]}],
            None,
            "input",
            "[0].content[0].tool_use_id: expected a string",
        ),
        (
            [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": 4}]}],
            None,
            "input",
            "[0].content[0].content: expected a string or a list of parts",
        ),
        (None, [{"type": "text", "text": "x"}], "output", "expected a response message, got a list"),
        (
            None,
            {"type": "error", "error": {"type": "overloaded_error"}},
            "output",
            "expected a response message with content",
        ),
    ],
)
def test_anthropic_mismatches_name_their_place(
    given_input: object, given_output: object, field: str, reason: str
) -> None:
    error = refused("anthropic", None, given_input, given_output)
    assert (error.field, error.reason[: len(reason)]) == (field, reason)


def test_nesting_is_bounded_without_recursion() -> None:
    deep: object = "bottom"
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    given = [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": deep}]}]
    error = refused("anthropic", None, given, None)
    assert (error.field, error.reason) == ("input", "[0].content[0].input: nested deeper than 64 levels")
    shallow: object = 1
    for _ in range(63):
        shallow = [shallow]
    given[0]["content"][0]["input"] = shallow  # type: ignore[index]
    assert messages("anthropic", None, given, None)[0].tool_calls[0].arguments == "[" * 63 + "1" + "]" * 63


# --- Gemini generateContent ------------------------------------------------------------------------------------------

GEMINI_REQUEST = {
    "systemInstruction": {"parts": [{"text": "You are a weather bot."}, {"text": "Be brief."}]},
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "Weather in Lima?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/f.pdf"}},
            ],
        },
        {
            "role": "model",
            "parts": [
                {"text": "Let me think about units.", "thought": True},
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Lima"}}, "thoughtSignature": "CiQB"},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 19, "sky": "nublado"}}},
                {"text": "And Cusco?"},
            ],
        },
    ],
    "generationConfig": {"temperature": 0.1},
}


def test_gemini_request_and_response_body() -> None:
    assert messages("google", None, GEMINI_REQUEST, fixture("gemini_generate_content")) == [
        Message(role="system", text="You are a weather bot.\nBe brief.", side=IN),
        Message(role="user", text="Weather in Lima?", side=IN, omitted=("inlineData", "fileData")),
        Message(
            role="assistant",
            text="Checking.",
            side=IN,
            tool_calls=(ToolCall(name="get_weather", arguments='{"city":"Lima"}'),),
            omitted=("thought",),
        ),
        Message(role="tool", text='{"temp":19,"sky":"nublado"}', side=IN, tool_call_id="get_weather"),
        Message(role="user", text="And Cusco?", side=IN),
        Message(role="assistant", text="Hi there", side=OUT),
    ]


def test_gemini_snake_case_contents_list_and_function_call_output() -> None:
    request = {
        "system_instruction": {"parts": [{"text": "Terse."}]},
        "contents": [{"parts": [{"text": "Hi"}, {"inline_data": {"mime_type": "audio/wav", "data": "UklG"}}]}],
    }
    body = fixture("gemini_generate_content")
    body["candidates"][0]["content"]["parts"] = [
        {"function_call": {"id": "fc-1", "name": "search", "args": {"q": "ñandú"}}},
    ]
    body["candidates"].append({"finishReason": "SAFETY", "index": 1})  # no content: contributes nothing
    assert messages("google-vertex", None, request, body) == [
        Message(role="system", text="Terse.", side=IN),
        Message(role="user", text="Hi", side=IN, omitted=("inlineData",)),
        Message(
            role="assistant",
            text="",
            side=OUT,
            tool_calls=(ToolCall(name="search", arguments='{"q":"ñandú"}', id="fc-1"),),
        ),
    ]
    contents = [
        {"role": "user", "parts": [{"functionResponse": {"id": "fc-1", "name": "search", "response": {"hits": []}}}]}
    ]
    single = {"role": "model", "parts": [{"text": "None found."}]}
    assert messages("gemini", None, contents, single) == [
        Message(role="tool", text='{"hits":[]}', side=IN, tool_call_id="fc-1"),
        Message(role="assistant", text="None found.", side=OUT),
    ]


def test_gemini_every_candidate_is_an_output_message() -> None:
    body = fixture("gemini_generate_content")
    body["candidates"].append({"content": {"role": "model", "parts": [{"text": "Hello"}]}, "index": 1})
    assert messages("google", "default", None, body) == [
        Message(role="assistant", text="Hi there", side=OUT),
        Message(role="assistant", text="Hello", side=OUT),
    ]
    assert messages("google", None, None, {"promptFeedback": {"blockReason": "SAFETY"}}) == []


@pytest.mark.parametrize(
    ("given_input", "given_output", "field", "reason"),
    [
        ("hi", None, "input", "expected a request body or a list of contents, got a string"),
        ({"systemInstruction": {"parts": []}}, None, "input", "expected a request body with contents"),
        (
            {"systemInstruction": 3, "contents": []},
            None,
            "input",
            "systemInstruction: expected a string or a content, got a number",
        ),
        (
            {"system_instruction": {"parts": "x"}, "contents": []},
            None,
            "input",
            "system_instruction.parts: expected a list of parts, got a string",
        ),
        ({"contents": {"parts": []}}, None, "input", "contents: expected a list of contents, got an object"),
        ([None], None, "input", "[0]: expected a content, got null"),
        ([{"role": "assistant", "parts": []}], None, "input", "[0].role: expected one of user, model"),
        ([{"role": 0, "parts": []}], None, "input", "[0].role: expected a string, got a number"),
        ([{"parts": ["hi"]}], None, "input", "[0].parts[0]: expected a part, got a string"),
        ([{"parts": [{"text": 1}]}], None, "input", "[0].parts[0].text: expected a string, got a number"),
        (
            [{"parts": [{"functionCall": "f"}]}],
            None,
            "input",
            "[0].parts[0].functionCall: expected a function call, got a string",
        ),
        (
            [{"parts": [{"functionCall": {"args": {}}}]}],
            None,
            "input",
            "[0].parts[0].functionCall.name: expected a string, got null",
        ),
        (
            [{"parts": [{"functionResponse": {"response": {}}}]}],
            None,
            "input",
            "[0].parts[0].functionResponse.name: expected a string",
        ),
        (
            [{"parts": [{"functionResponse": []}]}],
            None,
            "input",
            "[0].parts[0].functionResponse: expected a function response, got a list",
        ),
        (None, [], "output", "expected a response body or a content, got a list"),
        (None, {"usageMetadata": {}}, "output", "expected a response body with candidates or a content"),
        (None, {"candidates": [1]}, "output", "candidates[0]: expected a candidate, got a number"),
        (
            None,
            {"candidates": [{"content": {"parts": [{"text": None}]}}]},
            "output",
            "candidates[0].content.parts[0].text: expected a string, got null",
        ),
    ],
)
def test_gemini_mismatches_name_their_place(given_input: object, given_output: object, field: str, reason: str) -> None:
    error = refused("google", None, given_input, given_output)
    assert (error.field, error.reason[: len(reason)]) == (field, reason)


# --- read_content -----------------------------------------------------------------------------------------------------


def test_neither_side_given_is_no_content() -> None:
    assert read_content("openai", None, None, None) == CallContent(messages=())


def test_provider_names_are_case_insensitive() -> None:
    assert messages(" Anthropic ", None, [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], None) == [
        Message(role="user", text="Hi", side=IN)
    ]
    assert messages("Google", None, [{"parts": [{"text": "Hi"}]}], None) == [Message(role="user", text="Hi", side=IN)]


def test_half_a_surrogate_pair_becomes_the_replacement_character_and_pairs_stay() -> None:
    content = read_content("openai", None, {"messages": [{"role": "user", "content": "a\ud800b \U0001f600 €"}]}, None)
    assert [m.text for m in content.messages] == ["a\ufffdb \U0001f600 €"]
