"""Edges of the content feature that the other tests leave open: card numbers at the lengths and overlaps
Luhn's runs choose between, exact fits of the size bound, the settings' limits and the fields their refusals
name, reads refused per workspace, the audit log's pages, the proxy's cached question, and the hourly
retention loop (its log, its retry, its chunks).

Every Redactor is built inside its test: one built at import (or kept by a cache) would be shared by every
test of the process and hide what the test names."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.cache import NotifiedCache
from modules.core.database import Database
from modules.core.errors import BadUserInput, Forbidden, Problem
from modules.core.notifications import Notifications
from modules.core.principal import Principal, Scope
from modules.usage.conversations import retention as retention_module
from modules.usage.conversations.bounds import Bounded, bound, cut, marker, message_size
from modules.usage.conversations.keeper import SETTINGS_CHANNEL, ContentKeeper
from modules.usage.conversations.records import ContentSettings, ContentSettingsDraft, Message, Side, ToolCall
from modules.usage.conversations.redaction import Redactor, check_pattern
from modules.usage.conversations.repository import ConversationRepository
from modules.usage.conversations.retention import ContentRetention
from modules.usage.conversations.service import ConversationService
from service.container import ApplicationContainer
from service.context import provide
from tests.conftest import GraphQLClient, create_key
from tests.documents import TRACK_BATCH

IN, OUT = Side.INPUT, Side.OUTPUT
SET = """mutation($input: SetContentSettingsInput!) { setContentSettings(input: $input) {
  enabled retentionDays redactionPatterns } }"""
SETTINGS = '{ contentSettings(workspaceId: "acme") { enabled retentionDays } }'
TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { id } } }"
SAID = {"messages": [{"role": "user", "content": "hello"}]}


def user(said: str) -> Message:
    return Message(role="user", text=said, side=IN)


def answer(said: str) -> Message:
    return Message(role="assistant", text=said, side=OUT)


def call(**given: Any) -> dict[str, Any]:
    return {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 20,
            "completionTokens": 5, **given}  # fmt: skip


async def turn_on(gql: GraphQLClient, **given: Any) -> None:
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True, **given})


# --- redaction --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "masked", "count"),
    [
        ("card 4111 1111 1111 1111 thanks", "card [REDACTED:CARD_NUMBER] thanks", 1),
        ("card 4111 1111 1111 1112 thanks", "card 4111 1111 1111 1112 thanks", 0),  # Luhn's check fails: kept
        ("visa 4222222222222.", "visa [REDACTED:CARD_NUMBER].", 1),  # 13 digits, the shortest card
        ("long 4111111111111111110 ok", "long [REDACTED:CARD_NUMBER] ok", 1),  # 19 digits, the longest
        # the 16-digit card after "12" (which passes with its first groups too): only the card's groups
        ("order 12 5500 0000 0000 0004 shipped", "order 12 [REDACTED:CARD_NUMBER] shipped", 1),
        # "4 555555555555" (13 digits) and "555555555555 12" (14) both pass and share a group: the longer wins
        ("ref 4 555555555555 12", "ref 4 [REDACTED:CARD_NUMBER]", 1),
    ],
)
def test_card_numbers_are_masked_by_the_longest_run_of_groups_passing_luhns_check(
    said: str, masked: str, count: int
) -> None:
    assert Redactor().mask(said) == (masked, count)


def test_a_match_inside_one_already_masked_is_skipped_and_the_matches_after_it_are_still_masked() -> None:
    redactor = Redactor(["bob"])
    assert redactor.mask("bob@example.com, then bob and eve@example.org") == (
        "[REDACTED:EMAIL], then [REDACTED] and [REDACTED:EMAIL]",
        3,
    )


@pytest.mark.parametrize(
    ("patterns", "said", "masked"),
    [
        # a workspace pattern ending inside the longest Luhn run ("18 4111…", 18 digits, passing): the card
        # after it was left in clear when the run lost to the earlier match
        (["ref 1"], "ref 18 4111111111111111 ok", "[REDACTED] ok"),
        (["1111 1111 1111 1111"], "card 4111 1111 1111 1111 ok", "card [REDACTED:CARD_NUMBER] ok"),
    ],
    ids=["a pattern reaching into the card's run", "a pattern inside the card"],
)
def test_a_match_overlapping_another_masks_what_reaches_beyond_it_too(
    patterns: list[str], said: str, masked: str
) -> None:
    assert Redactor(patterns).mask(said) == (masked, 1)


def test_the_replacements_in_a_messages_text_and_in_each_of_its_tool_calls_add_up() -> None:
    message = Message(
        role="assistant",
        text="mail a@b.io",
        side=OUT,
        tool_calls=(ToolCall(name="send", arguments='{"to":"c@d.io"}', id="c1"), ToolCall(name="log", arguments="{}")),
    )
    redacted, count = Redactor().redact([message])
    assert count == 2
    assert redacted == (
        Message(
            role="assistant",
            text="mail [REDACTED:EMAIL]",
            side=OUT,
            tool_calls=(
                ToolCall(name="send", arguments='{"to":"[REDACTED:EMAIL]"}', id="c1"),
                ToolCall(name="log", arguments="{}"),
            ),
        ),
    )


def test_a_refused_pattern_is_reported_to_its_author_and_nothing_is_written_to_the_servers_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert check_pattern("(unclosed") == "is not a valid RE2 pattern: missing ): (unclosed"
    with pytest.raises(ValueError, match=r"^pattern 0 is not a valid RE2 pattern: bad repetition operator: \*\*$"):
        Redactor(["a**"])
    assert capfd.readouterr().err == ""


def test_the_groups_of_a_pattern_are_never_captured_so_they_do_not_make_it_too_large() -> None:
    # 50,000 capturing groups once repeated: past RE2's program size if they captured, well within it if not
    assert check_pattern("(?:" + "(.)" * 50 + "){1000}") is None


# --- the size bound ---------------------------------------------------------------------------------------------


def test_tool_call_arguments_that_exactly_fill_what_the_texts_marker_leaves_are_kept_whole() -> None:
    call_ = ToolCall(name="write", arguments="a" * 40, id="c1")
    message = Message(role="assistant", text="t" * 50, side=IN, tool_calls=(call_,))
    # 90 bytes in 68: the text's marker "…[truncated 50 characters]" is 28 bytes, which leaves the 40 exactly
    bounded = bound([message], limit=68)
    assert bounded == Bounded(
        (Message(role="assistant", text="…[truncated 50 characters]", side=IN, tool_calls=(call_,)),), True, 0, 90
    )
    assert message_size(bounded.messages[0]) == 68


def test_a_message_whose_marker_is_exactly_the_limit_is_kept_as_its_marker() -> None:
    # "…[truncated 50 characters]" is 28 bytes: no character fits beside it
    assert bound([user("x" * 50)], limit=28) == Bounded((user("…[truncated 50 characters]"),), True, 0, 50)


def test_an_input_that_exactly_fills_what_remains_is_kept_whole_and_the_walk_goes_on() -> None:
    empty, question, long_answer = user(""), user("b" * 50), answer("c" * 100)
    # the answer is cut to half the limit (50 bytes); the question fills the other 50 exactly, whole, so the
    # walk goes on to the empty message before it, which fits in the 0 bytes left
    bounded = bound([empty, question, long_answer], limit=100)
    assert bounded == Bounded((empty, question, answer("c" * 22 + "…[truncated 78 characters]")), True, 0, 150)
    assert bounded.messages[1] is question


def test_each_input_is_kept_once_when_every_input_fits() -> None:
    # the answer is cut to 50 bytes; the one input fits in the 50 left, with room for it again
    assert bound([answer("c" * 100), user("q" * 10)], limit=100) == Bounded(
        (answer("c" * 22 + "…[truncated 78 characters]"), user("q" * 10)), True, 0, 110
    )


def test_the_system_prompt_kept_first_is_not_cut_again_by_the_walk_through_the_inputs() -> None:
    system = Message(role="system", text="s" * 60, side=IN)
    # the answer is cut to 100 bytes, the system prompt takes 60 and the question 5: 35 are left at the start
    bounded = bound([system, user("u" * 5), answer("c" * 300)], limit=200)
    assert bounded == Bounded((system, user("u" * 5), answer("c" * 71 + "…[truncated 229 characters]")), True, 0, 365)


@pytest.mark.parametrize(
    ("length", "budget", "kept"),
    [(171, 100, 72), (100, 29, 1), (1000, 100, 71), (130, 100, 72)],
    ids=["a marker a digit shorter fits one more", "one character and a two-digit marker", "three digits", "two"],
)
def test_a_cut_keeps_the_longest_prefix_that_fits_with_its_own_marker(length: int, budget: int, kept: int) -> None:
    result = cut("x" * length, budget)
    assert result == "x" * kept + marker(length - kept)
    assert len(result.encode()) <= budget
    longer = "x" * (kept + 1) + marker(length - kept - 1)
    assert len(longer.encode()) > budget  # one character more does not fit


def test_a_lone_surrogate_in_the_part_cut_away_is_cut_like_any_character() -> None:
    # the shapes make U+FFFD of a lone surrogate before any bound, yet the bound itself takes one (3 bytes, as
    # utf8_size counts it) and cutting it away is no error
    said = user("a" * 100 + "\ud800")
    assert bound([said], limit=50) == Bounded((user("a" * 22 + "…[truncated 79 characters]"),), True, 0, 103)


# --- settings ---------------------------------------------------------------------------------------------------


async def test_the_retention_may_be_from_1_to_3650_days_and_is_refused_outside_saying_so(
    gql: GraphQLClient, workspace: dict[str, str]
) -> None:
    for days in (1, 3650):
        set_ = await gql.data(SET, input={"workspaceId": "acme", "enabled": True, "retentionDays": days})
        assert set_["setContentSettings"] == {"enabled": True, "retentionDays": days, "redactionPatterns": []}
    for days in (0, 3651):
        error = await gql.error(SET, input={"workspaceId": "acme", "enabled": False, "retentionDays": days})
        assert error["extensions"]["problems"] == [
            {"field": "retentionDays", "reason": f"must be between 1 and 3650 days (got {days})"}
        ]
    assert (await gql.data(SETTINGS))["contentSettings"] == {"enabled": True, "retentionDays": 3650}


async def test_twenty_patterns_are_accepted_and_the_refusals_name_the_patterns_field(
    gql: GraphQLClient, workspace: dict[str, str]
) -> None:
    twenty = [f"p{n}-[0-9]+" for n in range(20)]
    set_ = await gql.data(SET, input={"workspaceId": "acme", "enabled": True, "redactionPatterns": twenty})
    assert set_["setContentSettings"]["redactionPatterns"] == twenty
    error = await gql.error(SET, input={"workspaceId": "acme", "enabled": True, "redactionPatterns": ["x"] * 21})
    assert error["extensions"]["problems"] == [{"field": "redactionPatterns", "reason": "at most 20 patterns (got 21)"}]
    error = await gql.error(SET, input={"workspaceId": "acme", "enabled": True, "redactionPatterns": ["ok", "(x"]})
    assert error["extensions"]["problems"] == [
        {"field": "redactionPatterns", "reason": "is not a valid RE2 pattern: missing ): (x", "index": 1}
    ]


async def test_the_content_retention_must_be_shorter_than_the_servers_event_retention(
    database: Database, container: ApplicationContainer, workspace: dict[str, str]
) -> None:
    service = ConversationService(
        database=database,
        repository=ConversationRepository(),
        workspaces=await provide(container.workspaces.service()),
        event_retention_days=30,
    )
    with pytest.raises(BadUserInput) as refused:
        await service.set_settings(Principal.system(), ContentSettingsDraft("acme", enabled=True, retention_days=30))
    assert refused.value.problems == (
        Problem("retentionDays", "must be shorter than this server's event retention (30 days; got 30)"),
    )
    saved = await service.set_settings(
        Principal.system(), ContentSettingsDraft("acme", enabled=True, retention_days=29)
    )
    assert (saved.enabled, saved.retention_days) == (True, 29)


@pytest.mark.parametrize(
    "operation",
    [
        '{ contentSettings(workspaceId: "nope") { enabled } }',
        'mutation { setContentSettings(input: {workspaceId: "nope", enabled: true}) { enabled } }',
        '{ contentReads(workspaceId: "nope") { edges { cursor } } }',
    ],
)
async def test_a_workspace_that_does_not_exist_is_refused_naming_the_workspace_field(
    gql: GraphQLClient, operation: str
) -> None:
    error = await gql.error(operation)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [{"field": "workspaceId", "reason": "no workspace 'nope'"}]


async def test_a_read_key_sees_the_setting_and_cannot_change_it(
    gql: GraphQLClient, container: ApplicationContainer, workspace: dict[str, str]
) -> None:
    reader = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ,)))
    assert (await reader.data(SETTINGS))["contentSettings"] == {"enabled": False, "retentionDays": 30}
    error = await reader.error(SET, input={"workspaceId": "acme", "enabled": True})
    assert (error["extensions"]["code"], error["message"]) == ("FORBIDDEN", "this key lacks the ADMIN scope")
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    error = await ingest.error(SETTINGS)
    assert (error["extensions"]["code"], error["message"]) == ("FORBIDDEN", "this key lacks the READ scope")


# --- reading content and the audit log --------------------------------------------------------------------------


async def test_a_refused_workspace_does_not_stop_the_others_being_read(
    gql: GraphQLClient, container: ApplicationContainer, database: Database, workspace: dict[str, str]
) -> None:
    await turn_on(gql)
    event_id = int((await gql.data(TRACK, input=call(input=SAID)))["trackUsage"]["event"]["id"])
    acme = UUID(workspace["id"])
    service = await provide(container.usage.conversations())
    support = Principal(name="support", scopes=frozenset({Scope.CONTENT}), workspace_id=acme)
    elsewhere = UUID(int=7)
    refused, found = await service.conversations(support, [(elsewhere, 1), (acme, event_id)], operation="Ticket")
    assert isinstance(refused, Forbidden) and refused.message == "this key does not give access to that workspace"
    assert found is not None and not isinstance(found, Forbidden)
    assert (found.workspace_id, found.event_id, found.messages) == (acme, event_id, (user("hello"),))
    [only_refused] = await service.conversations(support, [(elsewhere, event_id)])
    assert isinstance(only_refused, Forbidden)
    async with database.session_factory() as session:
        logged = await ConversationRepository().reads(session, acme, before_id=None, limit=10)
    assert [(r.reader, r.operation, r.event_ids) for r in logged] == [("support", "Ticket", (event_id,))]


async def test_the_audit_log_is_paged_newest_first(
    gql: GraphQLClient, container: ApplicationContainer, workspace: dict[str, str]
) -> None:
    await turn_on(gql)
    await gql.data(TRACK, input=call(input=SAID))
    reader = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ, Scope.CONTENT)))
    for name in ("One", "Two", "Three"):
        await reader.data(f'query {name} {{ usageEvents(filter: {{workspaceId: "acme"}}) {{ edges {{ node {{ '
                          "conversation { redactions } } } } }")  # fmt: skip
    page = """query($first: Int!, $after: String) { contentReads(workspaceId: "acme", first: $first, after: $after) {
      edges { node { operation } } pageInfo { hasNextPage endCursor } } }"""

    async def read(first: int, after: str | None = None) -> tuple[list[str], bool, str]:
        found = (await gql.data(page, first=first, after=after))["contentReads"]
        info = found["pageInfo"]
        return [e["node"]["operation"] for e in found["edges"]], info["hasNextPage"], info["endCursor"]

    operations, more, cursor = await read(2)
    assert (operations, more) == (["Three", "Two"], True)
    assert (await read(2, cursor))[:2] == (["One"], False)
    assert (await read(3))[:2] == (["Three", "Two", "One"], False)


# --- the proxy's question ---------------------------------------------------------------------------------------


async def test_the_proxy_asks_whether_a_workspace_keeps_content(
    gql: GraphQLClient, database: Database, workspace: dict[str, str]
) -> None:
    acme = UUID(workspace["id"])
    keeper = ContentKeeper(database=database, repository=ConversationRepository())
    assert await keeper.enabled(acme) is False
    await turn_on(gql)
    assert await keeper.enabled(acme) is True


class HeardCache(NotifiedCache[UUID, ContentSettings]):
    """The settings cache, telling when it was first cleared (its LISTEN is up then)."""

    def __init__(self, *, channel: str, notifications: Notifications) -> None:
        super().__init__(channel=channel, notifications=notifications)
        self.cleared = asyncio.Event()

    def clear(self) -> None:
        super().clear()
        self.cleared.set()


async def test_the_proxys_question_is_answered_from_the_cache_until_a_change_is_heard(
    gql: GraphQLClient, database: Database, workspace: dict[str, str]
) -> None:
    notifications = Notifications(
        database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    cache = HeardCache(channel=SETTINGS_CHANNEL, notifications=notifications)
    listener = asyncio.create_task(cache.run())
    try:
        async with asyncio.timeout(10):
            await cache.cleared.wait()  # run() clears once its LISTEN is up: from then on it caches
        keeper = ContentKeeper(database=database, repository=ConversationRepository(), cache=cache)
        acme = UUID(workspace["id"])
        assert await keeper.enabled(acme) is False
        # announced on commit, which this test's transaction never reaches: unheard, so the cached answer stays
        await turn_on(gql)
        assert await keeper.enabled(acme) is False
        cache.clear()  # what hearing the announcement does
        assert await keeper.enabled(acme) is True
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await notifications.close()


# --- retention --------------------------------------------------------------------------------------------------


class FailingOnce(ConversationRepository):
    """A repository whose first read of the settings fails (the database away for one pass)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def kept_settings(self, session: AsyncSession) -> list[ContentSettings]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database went away")
        return await super().kept_settings(session)


class CountingChunks(ConversationRepository):
    """Records each chunk deleted: the chunk size asked and the calls deleted."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[tuple[int, int]] = []

    async def delete_expired(self, session: AsyncSession, workspace_id: UUID, horizon: datetime, chunk: int) -> int:
        count = await super().delete_expired(session, workspace_id, horizon, chunk)
        self.chunks.append((chunk, count))
        return count


class Passes:
    """Stands for asyncio in the retention loop: each sleep is recorded, and the given number of them end it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) == self.count:
            raise asyncio.CancelledError


async def old_content(gql: GraphQLClient, calls: int = 1, days_ago: int = 3) -> None:
    """`calls` calls with content `days_ago` days ago (by the real clock, which the loop reads), kept one day."""
    await turn_on(gql, retentionDays=1)
    at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    inputs = [call(requestId=f"old{n}", occurredAt=at, input=SAID) for n in range(calls)]
    await gql.data(TRACK_BATCH, inputs=inputs)


async def kept_contents(database: Database) -> int:
    async with database.session_factory() as session:
        return int((await session.execute(text("SELECT count(*) FROM usage_contents"))).scalar_one())


def retention_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == retention_module.log.name]


@pytest.fixture
async def two_passes_over_old_content(
    gql: GraphQLClient,
    database: Database,
    workspace: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Callable[[ConversationRepository], Awaitable[list[float]]]:
    """One call's content three days old, kept one day; then a runner of the hourly loop over a repository for two
    passes (its second sleep ends it), logging at INFO, that answers what it slept."""
    await old_content(gql)

    async def run(repository: ConversationRepository) -> list[float]:
        passes = Passes(2)
        monkeypatch.setattr(retention_module, "asyncio", passes)
        caplog.set_level(logging.INFO, logger=retention_module.log.name)
        with pytest.raises(asyncio.CancelledError):
            await ContentRetention(database=database, repository=repository).run()
        return passes.slept

    return run


async def test_the_loop_prunes_logs_what_it_deleted_and_sleeps_an_hour_between_passes(
    two_passes_over_old_content: Callable[[ConversationRepository], Awaitable[list[float]]],
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await two_passes_over_old_content(ConversationRepository()) == [3600.0, 3600.0]
    # the second pass deleted nothing, and says nothing
    assert retention_log(caplog) == [(logging.INFO, "content retention: deleted the content of 1 calls")]
    assert await kept_contents(database) == 0


async def test_a_failing_pass_is_logged_and_the_next_one_prunes(
    two_passes_over_old_content: Callable[[ConversationRepository], Awaitable[list[float]]],
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await two_passes_over_old_content(FailingOnce()) == [3600.0, 3600.0]
    assert retention_log(caplog) == [
        (logging.ERROR, "content retention pass failed; retrying in an hour"),
        (logging.INFO, "content retention: deleted the content of 1 calls"),
    ]
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failed[0].exc_info is not None and str(failed[0].exc_info[1]) == "the database went away"
    assert await kept_contents(database) == 0


async def test_expired_content_is_deleted_in_chunks_until_one_is_not_full(
    gql: GraphQLClient, database: Database, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await old_content(gql, calls=5, days_ago=10)
    monkeypatch.setattr(retention_module, "CHUNK", 2)
    repository = CountingChunks()
    now = datetime.now(UTC)
    assert await ContentRetention(database=database, repository=repository).prune(now=now) == 5
    assert repository.chunks == [(2, 2), (2, 2), (2, 1)]
    assert await kept_contents(database) == 0
