"""Secrets are masked before content is stored: each default pattern by its label, card numbers only where
Luhn's check passes, a workspace's own patterns as [REDACTED], every match counted once; patterns an ADMIN
writes are checked, and run on RE2, where a pattern that backtracks exponentially elsewhere is linear."""

from __future__ import annotations

import time

import pytest

from modules.usage.conversations.records import Message, Side, ToolCall
from modules.usage.conversations.redaction import (
    DEFAULT_PATTERNS,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    Redactor,
    check_pattern,
    luhn_valid,
)


@pytest.mark.parametrize(
    ("text", "masked", "count"),
    [
        ("key sk-abcdefghijklmnopqrstuvwxyz0123 ok", "key [REDACTED:API_KEY] ok", 1),
        ("OPENAI_API_KEY=sk-proj-Ab12_Cd34-Ef56Gh78Ij90Kl12Mn34", "OPENAI_API_KEY=[REDACTED:API_KEY]", 1),
        ("x-api-key: sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAA-BBBB", "x-api-key: [REDACTED:API_KEY]", 1),
        ("aws AKIAIOSFODNN7EXAMPLE.", "aws [REDACTED:API_KEY].", 1),
        ("token ghp_" + "a1B2" * 9 + " end", "token [REDACTED:API_KEY] end", 1),
        ("gho_" + "Z" * 36 + " ghs_" + "9" * 36, "[REDACTED:API_KEY] [REDACTED:API_KEY]", 2),
        ("pat github_pat_11ABCDEFG0123456789_abcdefghijkl", "pat [REDACTED:API_KEY]", 1),
        ("maps AIzaSyA-1234567890abcdefghijklmnopqrstu!", "maps [REDACTED:API_KEY]!", 1),
        ("slack xoxb-1234567890-abcdefghij", "slack [REDACTED:API_KEY]", 1),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc==", "Authorization: [REDACTED:API_KEY]", 1),
        ("write to ada.lovelace+llm@math.example.co.uk.", "write to [REDACTED:EMAIL].", 1),
        ("a@b.io and c@d.org", "[REDACTED:EMAIL] and [REDACTED:EMAIL]", 2),
        ("card 4111111111111111 thanks", "card [REDACTED:CARD_NUMBER] thanks", 1),
        ("card 4111 1111 1111 1111, exp 12/29", "card [REDACTED:CARD_NUMBER], exp 12/29", 1),
        ("amex 3782-822463-10005", "amex [REDACTED:CARD_NUMBER]", 1),
        ("card 4111 1111 1111 1111 123", "card [REDACTED:CARD_NUMBER] 123", 1),  # a CVV after it
        # "12 5500 0000 0000" passes Luhn's check too (14 digits): the 16-digit card is the one masked
        ("order 12 5500 0000 0000 0004 shipped", "order 12 [REDACTED:CARD_NUMBER] shipped", 1),
        ("4111 1111 1111 1111 5500 0000 0000 0004", "[REDACTED:CARD_NUMBER] [REDACTED:CARD_NUMBER]", 2),
    ],
)
def test_each_default_pattern_is_masked_by_its_label(text: str, masked: str, count: int) -> None:
    assert Redactor().mask(text) == (masked, count)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # 16 digits, Luhn's check fails
        "4111111111111112",
        "id 12345678901234567890123",  # 23 digits in one run: no card inside a longer number
        "call +1 415-555-0100 on 2024-01-15",
        "the task-abcdefghijklmnopqrstuvwxyz is done",  # "sk-" inside a word
        "Bearer short",
        "user at example dot com",
    ],
)
def test_what_is_not_a_secret_is_kept(text: str) -> None:
    assert Redactor().mask(text) == (text, 0)


def test_luhn_check() -> None:
    assert [luhn_valid(d) for d in ("4111111111111111", "4111111111111112", "79927398713", "0")] == [
        True,
        False,
        True,
        True,
    ]


def test_redact_masks_texts_and_arguments_not_tool_names_and_counts_every_replacement() -> None:
    messages = [
        Message(role="system", text="No secrets here.", side=Side.INPUT),
        Message(role="user", text="Mail bob@example.com my key sk-abcdefghijklmnopqrstuvwxyz", side=Side.INPUT),
        Message(
            role="assistant",
            text="",
            side=Side.OUTPUT,
            tool_calls=(
                ToolCall(
                    name="send_to_bob@example.com", arguments='{"to":"bob@example.com","cc":"eve@example.org"}', id="c1"
                ),
            ),
        ),
    ]
    redacted, count = Redactor().redact(messages)
    assert count == 4
    assert redacted == (
        messages[0],
        Message(role="user", text="Mail [REDACTED:EMAIL] my key [REDACTED:API_KEY]", side=Side.INPUT),
        Message(
            role="assistant",
            text="",
            side=Side.OUTPUT,
            tool_calls=(
                ToolCall(
                    name="send_to_bob@example.com",
                    arguments='{"to":"[REDACTED:EMAIL]","cc":"[REDACTED:EMAIL]"}',
                    id="c1",
                ),
            ),
        ),
    )
    assert redacted[0] is messages[0]


def test_custom_patterns_are_masked_as_redacted_alongside_the_defaults() -> None:
    redactor = Redactor(["(?i)project[- ]falcon", r"EMP-[0-9]{6}"])
    assert redactor.mask("Project Falcon: EMP-123456 asked x@y.com") == (
        "[REDACTED]: [REDACTED] asked [REDACTED:EMAIL]",
        3,
    )
    assert Redactor(["EMP-[0-9]{6}"], defaults=False).mask("EMP-123456 x@y.com") == ("[REDACTED] x@y.com", 1)


def test_overlapping_matches_count_once_and_replacements_are_not_matched_again() -> None:
    redactor = Redactor(["REDACTED", "bob"], defaults=True)
    # "bob@example.com": EMAIL starts first and is longer than "bob": one replacement; "REDACTED" in the
    # replacement text itself is never matched (the matches are found in the original text).
    assert redactor.mask("bob@example.com") == ("[REDACTED:EMAIL]", 1)
    assert redactor.mask("hi bob") == ("hi [REDACTED]", 1)


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    redactor = Redactor(["(a+)+$"], defaults=False)
    started = time.perf_counter()
    assert redactor.mask("a" * 50_000 + "b") == ("a" * 50_000 + "b", 0)
    assert redactor.mask("b" + "a" * 50_000) == ("b[REDACTED]", 1)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(unclosed", "is not a valid RE2 pattern: missing ): (unclosed"),
        (r"(a)\1", "is not a valid RE2 pattern: invalid escape sequence: \\1"),
        ("(?=lookahead)", "is not a valid RE2 pattern: invalid perl operator: (?="),
        ("", "matches the empty string, so it would mask nothing"),
        ("x*", "matches the empty string, so it would mask nothing"),
        (r"\b", "matches the empty string, so it would mask nothing"),
        ("^", "matches the empty string, so it would mask nothing"),
        (
            "x" * (MAX_PATTERN_LENGTH + 1),
            f"must be at most {MAX_PATTERN_LENGTH} characters (got {MAX_PATTERN_LENGTH + 1})",
        ),
    ],
)
def test_check_pattern_says_why_a_pattern_is_refused(pattern: str, reason: str) -> None:
    assert check_pattern(pattern) == reason


def test_check_pattern_accepts_patterns_within_the_limits() -> None:
    assert check_pattern("x" * MAX_PATTERN_LENGTH) is None
    assert check_pattern(r"(?i)acme-[0-9]{4}") is None
    assert check_pattern("(a+)+$") is None
    assert all(check_pattern(pattern) is None for pattern in DEFAULT_PATTERNS.values())
    assert sorted(DEFAULT_PATTERNS) == ["API_KEY", "CARD_NUMBER", "EMAIL"]


def test_the_redactor_refuses_what_check_pattern_refuses() -> None:
    with pytest.raises(ValueError, match="pattern 1 matches the empty string"):
        Redactor(["ok", "x*"])
    with pytest.raises(ValueError, match=f"at most {MAX_PATTERNS} patterns"):
        Redactor([f"p{i}" for i in range(MAX_PATTERNS + 1)])
    assert Redactor([f"p{i}" for i in range(MAX_PATTERNS)], defaults=False).mask("p3 p19") == (
        "[REDACTED] [REDACTED]",
        2,
    )
