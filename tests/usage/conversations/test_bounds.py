"""The size bound on stored content: nothing changes within it; beyond it the answer is kept first (cut to
half the bound), then the system prompt, then the newest input walking back, and the one message that does not
fit whole is cut with a marker that counts its characters, bytes measured in UTF-8, never splitting one."""

from __future__ import annotations

from modules.usage.conversations.bounds import CONTENT_LIMIT_BYTES, Bounded, bound, content_size, message_size
from modules.usage.conversations.records import Message, Side, ToolCall

IN, OUT = Side.INPUT, Side.OUTPUT


def user(text: str) -> Message:
    return Message(role="user", text=text, side=IN)


def answer(text: str) -> Message:
    return Message(role="assistant", text=text, side=OUT)


def test_within_the_limit_nothing_changes_and_bytes_are_utf8() -> None:
    messages = (Message(role="system", text="Be brief.", side=IN), user("Hi €"), answer("Hello 👋"))
    assert content_size(messages) == 9 + 6 + 10
    assert bound(messages, limit=25) == Bounded(messages, truncated=False, omitted_messages=0, original_bytes=25)
    assert bound(messages, limit=24).truncated is True
    assert CONTENT_LIMIT_BYTES == 256 * 1024
    assert bound(list(messages)) == Bounded(messages, truncated=False, omitted_messages=0, original_bytes=25)


def test_the_default_limit_is_256_kib() -> None:
    big = user("x" * CONTENT_LIMIT_BYTES)
    assert bound([big]).truncated is False
    bounded = bound([user("x" * (CONTENT_LIMIT_BYTES + 1))])
    assert (bounded.truncated, bounded.original_bytes) == (True, CONTENT_LIMIT_BYTES + 1)
    assert message_size(bounded.messages[0]) == CONTENT_LIMIT_BYTES


def test_the_output_is_kept_when_inputs_are_dropped() -> None:
    old, new, out = user("a" * 60), user("b" * 60), answer("c" * 40)
    assert bound([old, new, out], limit=100) == Bounded(
        (new, out), truncated=True, omitted_messages=1, original_bytes=160
    )


def test_the_system_prompt_and_the_newest_inputs_are_kept_in_their_order() -> None:
    system = Message(role="system", text="s" * 20, side=IN)
    old, said, new = user("o" * 30), Message(role="assistant", text="r" * 30, side=IN), user("n" * 30)
    out = answer("k" * 10)
    # 10 (output) + 20 (system) + 30 (newest) + 30 (the reply before it) = 90; the oldest 30 do not fit in the 10
    # left, which cannot even hold the marker: dropped.
    assert bound([system, old, said, new, out], limit=100) == Bounded(
        (system, said, new, out), truncated=True, omitted_messages=1, original_bytes=120
    )


def test_a_long_text_is_cut_with_the_marker_to_the_exact_limit() -> None:
    bounded = bound([user("x" * 200)], limit=100)
    # the marker "…[truncated 200 characters]" is 29 bytes: 71 characters are kept, 129 cut
    assert bounded == Bounded(
        (user("x" * 71 + "…[truncated 129 characters]"),), truncated=True, omitted_messages=0, original_bytes=200
    )
    assert message_size(bounded.messages[0]) == 100


def test_each_output_is_cut_to_half_the_limit() -> None:
    bounded = bound([user("i" * 10), answer("o" * 300)], limit=100)
    assert bounded == Bounded(
        (user("i" * 10), answer("o" * 21 + "…[truncated 279 characters]")),
        truncated=True,
        omitted_messages=0,
        original_bytes=310,
    )
    assert message_size(bounded.messages[1]) == 50


def test_the_walk_stops_at_the_message_it_cuts() -> None:
    oldest, long, newest = user("a" * 10), user("b" * 200), user("c" * 30)
    # the oldest would fit in what is left, but keeping it would leave a hole in the conversation
    assert bound([oldest, long, newest], limit=100) == Bounded(
        (user("b" * 41 + "…[truncated 159 characters]"), newest), truncated=True, omitted_messages=1, original_bytes=240
    )


def test_multibyte_characters_count_as_bytes_and_are_never_split() -> None:
    euros = bound([user("€" * 40)], limit=50)
    # 120 bytes; the 28-byte marker leaves 22: seven euros (21 bytes), not seven and a third
    assert euros == Bounded((user("€" * 7 + "…[truncated 33 characters]"),), True, 0, 120)
    assert message_size(euros.messages[0]) == 49
    waves = bound([user("👋" * 30)], limit=50)
    assert waves == Bounded((user("👋" * 5 + "…[truncated 25 characters]"),), True, 0, 120)
    assert bound([user("€" * 10)], limit=30).truncated is False
    # 33 bytes: the 28-byte marker leaves 5, one euro and two bytes that cannot hold half of the next one
    assert bound([user("€" * 20)], limit=33).messages[0].text == "€…[truncated 19 characters]"
    assert bound([user("€" * 10)], limit=29).messages[0].text == "…[truncated 10 characters]"


def test_tool_call_arguments_count_and_are_cut_after_the_text() -> None:
    call = ToolCall(name="write", arguments="a" * 40, id="c1")
    message = Message(role="assistant", text="t" * 50, side=IN, tool_calls=(call,))
    assert bound([message], limit=90).messages == (message,)
    assert bound([message], limit=89) == Bounded(
        (Message(role="assistant", text="t" * 21 + "…[truncated 29 characters]", side=IN, tool_calls=(call,)),),
        True,
        0,
        90,
    )
    big = Message(role="assistant", text="t" * 50, side=IN, tool_calls=(ToolCall(name="write", arguments="a" * 100),))
    cut = bound([big], limit=70).messages[0]
    assert cut == Message(
        role="assistant",
        text="…[truncated 50 characters]",
        side=IN,
        tool_calls=(ToolCall(name="write", arguments="a" * 14 + "…[truncated 86 characters]"),),
    )
    assert message_size(cut) == 70


def test_an_answer_is_cut_to_half_the_limit_tool_call_included() -> None:
    call = ToolCall(name="write", arguments="a" * 40, id="c1")
    message = Message(role="assistant", text="t" * 50, side=OUT, tool_calls=(call,))
    assert bound([message], limit=160).messages == (message,)  # 90 bytes in 160: within the limit
    bounded = bound([message, user("q" * 80)], limit=160)  # 170 bytes: the answer gets at most 80
    assert bounded.messages == (
        Message(role="assistant", text="t" * 12 + "…[truncated 38 characters]", side=OUT, tool_calls=(call,)),
        user("q" * 80),
    )


def test_a_message_that_cannot_hold_its_marker_is_dropped() -> None:
    assert bound([user("x" * 100), answer("y" * 20)], limit=40) == Bounded((answer("y" * 20),), True, 1, 120)
