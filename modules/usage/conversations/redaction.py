"""Masking secrets in a call's content before it is stored: the defaults (API keys, e-mail addresses, card
numbers) and a workspace's own patterns.

Every pattern runs on RE2, whose matching is linear in the text: a pattern an ADMIN supplies can never
backtrack catastrophically and stall the ingestion other workspaces share. Matches of all patterns are found
in the original text and the leftmost (then the longest) of overlapping ones gives the replacement, which
also covers whatever of the others reaches beyond it (no part of any match stays in clear), so a replacement is
never matched again and each masked run counts once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import re2

from .records import Message

MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 500

_API_KEYS = (
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}",  # OpenAI (project keys too) and Anthropic
    r"AKIA[0-9A-Z]{16}",  # AWS access key id
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"AIza[0-9A-Za-z_-]{35}",  # Google API key
    r"xox[baprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"Bearer\s+[A-Za-z0-9._~+/-]{16,}=*",  # any bearer token, the word included
)
DEFAULT_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        "API_KEY": r"\b(?:" + "|".join(_API_KEYS) + ")",
        "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        # 13 to 19 digits, single spaces or dashes between them; masked only where the digits pass Luhn's check
        "CARD_NUMBER": r"\b[0-9](?:[ -]?[0-9]){12,18}\b",
    }
)
CUSTOM_LABEL = "[REDACTED]"
# Texts whose every position (text and line ends, word boundaries or not) an empty match would show at.
_EMPTY_PROBES = ("", " ", "a", "aa", "  ", "a a", "a\nb", "\n")

Span = tuple[int, int]


def _options() -> re2.Options:
    options = re2.Options()
    options.never_capture = True  # only whole matches are used: no submatch tracking to pay for
    options.log_errors = False  # a refused pattern is reported to its author, not to the server's stderr
    return options


def _compile(pattern: str) -> re2._Regexp[str]:
    return re2.compile(pattern, _options())


def check_pattern(pattern: str) -> str | None:
    """None when `pattern` may be a workspace's redaction pattern, else why not (for the ADMIN who wrote it)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"must be at most {MAX_PATTERN_LENGTH} characters (got {len(pattern)})"
    try:
        regexp = _compile(pattern)
    except re2.error as refused:
        reason = refused.args[0] if refused.args else "unknown error"
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        return f"is not a valid RE2 pattern: {text}"
    if any(match.start() == match.end() for probe in _EMPTY_PROBES for match in regexp.finditer(probe)):
        return "matches the empty string, so it would mask nothing"
    return None


def luhn_valid(digits: str) -> bool:
    """Luhn's checksum over `digits` (ASCII digits only), as every card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - ord("0")
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@dataclass(frozen=True)
class _Rule:
    """One pattern and its replacement; `spans` finds where it masks."""

    replacement: str
    spans: Callable[[str], Iterator[Span]]


def _regexp_spans(regexp: re2._Regexp[str]) -> Callable[[str], Iterator[Span]]:
    def spans(text: str) -> Iterator[Span]:
        for match in regexp.finditer(text):
            if match.end() > match.start():
                yield match.span()

    return spans


def _card_spans(regexp: re2._Regexp[str]) -> Callable[[str], Iterator[Span]]:
    """A candidate run of digit groups may hold a card between other numbers ("order 12 4111 1111 1111 1111"):
    the runs of whole groups with 13-19 digits passing Luhn's check are masked."""

    def spans(text: str) -> Iterator[Span]:
        for match in regexp.finditer(text):
            start, candidate = match.start(), match.group()
            # each group of digits between separators: its span in the text and its digits
            groups = [(start + begin, start + end, candidate[begin:end]) for begin, end in _digit_groups(candidate)]
            yield from _luhn_runs(groups)

    return spans


def _digit_groups(candidate: str) -> Iterator[Span]:
    begin = 0
    for index, char in enumerate(candidate):
        if char in " -":
            yield begin, index
            begin = index + 1
    yield begin, len(candidate)


def _luhn_runs(groups: list[tuple[int, int, str]]) -> Iterator[Span]:
    """The runs of whole groups that pass, the most digits first (a card beats a shorter run that passes by
    chance with the number before it), none sharing a group."""
    runs = []
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last][2]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_valid(digits):
                runs.append((-len(digits), first, last))
    taken: set[int] = set()
    for _, first, last in sorted(runs):
        if taken.isdisjoint(range(first, last + 1)):
            taken.update(range(first, last + 1))
            yield groups[first][0], groups[last][1]


class Redactor:
    """The patterns of one workspace, compiled once: the defaults (unless `defaults` is False) and its own,
    which must each pass `check_pattern` (ValueError otherwise: they are checked when they are set)."""

    def __init__(self, custom_patterns: Sequence[str] = (), defaults: bool = True) -> None:
        if len(custom_patterns) > MAX_PATTERNS:
            raise ValueError(f"at most {MAX_PATTERNS} patterns (got {len(custom_patterns)})")
        rules: list[_Rule] = []
        if defaults:
            for name, pattern in DEFAULT_PATTERNS.items():
                spans = _card_spans if name == "CARD_NUMBER" else _regexp_spans
                rules.append(_Rule(f"[REDACTED:{name}]", spans(_compile(pattern))))
        for index, pattern in enumerate(custom_patterns):
            if (reason := check_pattern(pattern)) is not None:
                raise ValueError(f"pattern {index} {reason}")
            rules.append(_Rule(CUSTOM_LABEL, _regexp_spans(_compile(pattern))))
        self._rules = tuple(rules)

    def mask(self, text: str) -> tuple[str, int]:
        """`text` with every match replaced, and how many were."""
        found = sorted(
            (start, -end, order) for order, rule in enumerate(self._rules) for start, end in rule.spans(text)
        )
        pieces: list[str] = []
        done = 0
        for start, negative_end, order in found:
            if start < done:  # overlaps a match already masked: what reaches beyond it is masked with it
                done = max(done, -negative_end)
                continue
            pieces += [text[done:start], self._rules[order].replacement]
            done = -negative_end
        if not pieces:
            return text, 0
        pieces.append(text[done:])
        return "".join(pieces), len(pieces) // 2

    def redact(self, messages: Sequence[Message]) -> tuple[tuple[Message, ...], int]:
        """The messages with their texts and tool-call arguments masked (tool names are kept: they are the
        caller's code, not its data), and the number of replacements."""
        redacted: list[Message] = []
        total = 0
        for message in messages:
            text, count = self.mask(message.text)
            calls = []
            for call in message.tool_calls:
                arguments, in_call = self.mask(call.arguments)
                calls.append(replace(call, arguments=arguments))
                count += in_call
            redacted.append(replace(message, text=text, tool_calls=tuple(calls)) if count else message)
            total += count
        return tuple(redacted), total
