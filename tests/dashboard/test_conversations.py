"""Conversation content in the dashboard: a key with CONTENT reads what a session's (and a user's) calls said,
a key without it gets one notice and no FORBIDDEN error, an ADMIN turns content keeping on, keys offer CONTENT."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Principal, Scope
from service.context import provide
from tests.dashboard.seed import RANGE
from tests.live_server import LiveServer, committed_container, live_workspace

TRACK = "mutation($i: TrackUsageInput!) { trackUsage(input: $i) { event { id } } }"
SETTINGS = "workspaceId enabled retentionDays redaction redactionPatterns droppedCalls"
SET = f"mutation($i: SetContentSettingsInput!) {{ setContentSettings(input: $i) {{ {SETTINGS} }} }}"
READ_SETTINGS = f"query($ws: ID!) {{ contentSettings(workspaceId: $ws) {{ {SETTINGS} }} }}"

QUESTION = "Where is my order?\nIt is <b>ORD-1</b>."  # newlines kept, markup shown as text
TOOL_ARGUMENTS = '{"order": "ORD-1"}'
CALLS: list[dict[str, Any]] = [
    {
        "requestId": "conv-1",
        "occurredAt": "2025-06-10T09:00:00Z",
        "input": {
            "messages": [
                {"role": "system", "content": "You help with orders."},
                {"role": "user", "content": QUESTION},
            ]
        },
        "output": {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "lookup_order", "arguments": TOOL_ARGUMENTS},
                            }
                        ],
                    }
                }
            ]
        },
    },
    {
        "requestId": "conv-2",
        "occurredAt": "2025-06-10T09:01:00Z",
        "input": {
            "messages": [
                {"role": "user", "content": QUESTION},
                {"role": "tool", "tool_call_id": "call_1", "content": "shipped"},
            ]
        },
        "output": {"choices": [{"message": {"role": "assistant", "content": "It ships tomorrow."}}]},
    },
    {"requestId": "conv-3", "occurredAt": "2025-06-10T09:02:00Z"},  # no content sent: none kept
]
# What the page must show, call by call: (role, side, text) of each message.
EXPECTED = [
    [("system", "INPUT", "You help with orders."), ("user", "INPUT", QUESTION), ("assistant", "OUTPUT", "")],
    [("user", "INPUT", QUESTION), ("tool", "INPUT", "shipped"), ("assistant", "OUTPUT", "It ships tomorrow.")],
]


@dataclass
class ContentWorkspace:
    url: str
    slug: str
    admin_key: str
    content_key: str
    read_key: str
    event_ids: list[str]

    def gql(self, query: str, key: str, **variables: Any) -> dict[str, Any]:
        body = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).json()
        assert "errors" not in body, body
        return body["data"]


async def keys_for(engine: AsyncEngine, slug: str) -> tuple[str, str]:
    """A READ + CONTENT key (only a holder of CONTENT may give it: here the system) and a READ key."""
    access = await provide(committed_container(engine).access.service())
    content = await access.create(
        Principal.system(), workspace_ref=slug, name="content", scopes=[Scope.READ, Scope.CONTENT]
    )
    read = await access.create(Principal.system(), workspace_ref=slug, name="read", scopes=[Scope.READ])
    return content.secret, read.secret


@pytest.fixture(scope="module")
async def content(engine: AsyncEngine, dashboard_server: LiveServer) -> AsyncIterator[ContentWorkspace]:
    async with live_workspace(engine) as ws:
        content_key, read_key = await keys_for(engine, ws.slug)
        made = ContentWorkspace(dashboard_server.url, ws.slug, ws.admin_key, content_key, read_key, [])
        made.gql(SET, ws.admin_key, i={"workspaceId": ws.slug, "enabled": True})
        for call in CALLS:
            event = {
                "workspaceId": ws.slug,
                "provider": "openai",
                "model": "gpt-4o",
                "promptTokens": 100,
                "completionTokens": 10,
                "userId": "dana",
                "sessionId": "conv-session",
                **call,
            }
            made.event_ids.append(made.gql(TRACK, ws.admin_key, i=event)["trackUsage"]["event"]["id"])
        yield made


@pytest.fixture
async def fresh(engine: AsyncEngine, dashboard_server: LiveServer) -> AsyncIterator[ContentWorkspace]:
    """A workspace of its own, content off (the default)."""
    async with live_workspace(engine) as ws:
        yield ContentWorkspace(dashboard_server.url, ws.slug, ws.admin_key, "", "", [])


def conversations(browser, table: str) -> list[list[tuple[str, str, str]] | None]:
    """Each row's conversation below it, as read from the DOM: (role, side, text) per message, None for none."""
    found = []
    for detail in browser.find_all(f"table[data-table='{table}'] tbody tr.detail"):
        messages = detail.find_elements("css selector", "[data-message]")
        if detail.find_elements("css selector", "[data-no-content]"):
            found.append(None)
            continue
        found.append(
            [
                (
                    m.get_attribute("data-role"),
                    m.get_attribute("data-side"),
                    "".join(t.get_attribute("textContent") for t in m.find_elements("css selector", "[data-text]")),
                )
                for m in messages
            ]
        )
    return found


def open_view(browser, key: str, path: str, ready: str) -> None:
    browser.sign_in(key, path)
    browser.find(ready)
    browser.idle()


def test_a_content_key_reads_a_sessions_conversations_in_order(browser, content):
    open_view(
        browser,
        content.content_key,
        f"#/sessions/conv-session?ws={content.slug}&{RANGE}",
        "[data-session=conv-session]",
    )
    browser.wait(lambda: browser.find_all("table[data-table=session-events] tr.detail"), "the conversations")
    assert browser.find_all("[data-content-notice]") == []
    assert conversations(browser, "session-events") == [*EXPECTED, None]
    # Each conversation sits right below its own call.
    rows = browser.find_all("table[data-table=session-events] tbody tr")
    assert [r.get_attribute("data-row") or r.get_attribute("data-detail") for r in rows] == [
        "0",
        "0",
        "1",
        "1",
        "2",
        "2",
    ]
    first = browser.find(f"[data-conversation='{content.event_ids[0]}']")
    # The tool call: its name and its arguments (as JSON, in a <pre>).
    call = first.find_element("css selector", "[data-tool-call=lookup_order]")
    assert "lookup_order" in call.get_attribute("textContent")
    assert json.loads(call.find_element("css selector", "pre[data-tool-arguments]").get_attribute("textContent")) == {
        "order": "ORD-1"
    }
    # Customer text is text: the newline kept (pre-wrap), the markup not made into elements.
    text = first.find_elements("css selector", "[data-message='1'] [data-text]")[0]
    assert text.get_attribute("textContent") == QUESTION
    assert text.find_elements("css selector", "b") == []
    assert text.value_of_css_property("white-space") == "pre-wrap"
    assert "tool" in browser.text(f"[data-conversation='{content.event_ids[1]}'] [data-message='1'] .message-head")
    assert browser.find_all(f"[data-no-content='{content.event_ids[2]}']")


def test_a_content_key_reads_a_users_latest_calls_with_the_same_rendering(browser, content):
    open_view(browser, content.content_key, f"#/users/dana?ws={content.slug}&{RANGE}", "[data-user=dana]")
    browser.wait(lambda: browser.find_all("table[data-table=user-events] tr.detail"), "the conversations")
    assert conversations(browser, "user-events") == [None, *reversed(EXPECTED)]  # newest first


@pytest.mark.parametrize("page", ["sessions/conv-session", "users/dana"])
def test_a_key_without_content_sees_one_notice_and_asks_no_conversation(browser, content, page):
    # The browser fixture fails the test on any console error (a FORBIDDEN conversation would log none,
    # but would leave the page in its error state: checked below too).
    open_view(browser, content.read_key, f"#/{page}?ws={content.slug}&{RANGE}", "[data-content-notice]")
    assert len(browser.find_all("[data-content-notice]")) == 1
    assert browser.text("[data-content-notice]").startswith("Conversation content needs a key with the CONTENT scope")
    assert browser.find_all("[data-state=error]") == []
    assert browser.find_all("tr.detail, [data-conversation], [data-no-content]") == []
    table = "session-events" if page.startswith("sessions") else "user-events"
    assert len(browser.table(table, "model", "text")) == 3  # the calls still listed
    # Even an ADMIN key (no CONTENT) is told, not refused.
    open_view(browser, content.admin_key, f"#/{page}?ws={content.slug}&{RANGE}", "[data-content-notice]")
    assert browser.find_all("[data-state=error]") == []


def test_an_admin_turns_content_on_and_the_setting_shown_updates(browser, fresh):
    open_view(browser, fresh.admin_key, f"#/keys?ws={fresh.slug}", f"[data-content-settings='{fresh.slug}']")
    settings = f"[data-content-settings='{fresh.slug}']"
    assert browser.attribute(f"{settings} [data-setting=enabled]", "data-value") == "false"
    assert browser.attribute(f"{settings} [data-setting=droppedCalls]", "data-value") == "0"
    # A call with content while off: dropped and counted (seen after the next load).
    fresh.gql(
        TRACK,
        fresh.admin_key,
        i={
            "workspaceId": fresh.slug,
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": 1,
            "completionTokens": 1,
            "input": {"messages": [{"role": "user", "content": "dropped"}]},
        },
    )
    form = "[data-content-form]"
    # Refused: the API's problem shown next to the form, nothing changed.
    browser.type(f"{form} textarea[name=redactionPatterns]", "(unclosed")
    browser.find(f"{form} input[name=enabled]").click()
    browser.click(f"{form} button[type=submit]")
    problem = browser.wait(lambda: browser.find_all(f"{form} [data-problems] li"), "the problem")[0]
    assert problem.get_attribute("data-problem").startswith("redactionPatterns")
    assert browser.attribute(f"{settings} [data-setting=enabled]", "data-value") == "false"
    # Accepted: on, 7 days, one pattern of its own.
    browser.type(f"{form} textarea[name=redactionPatterns]", "ORD-[0-9]+")
    browser.type(f"{form} input[name=retentionDays]", "7")
    browser.click(f"{form} button[type=submit]")
    browser.wait(
        lambda: browser.attribute(f"{settings} [data-setting=enabled]", "data-value") == "true", "enabled shown"
    )
    assert browser.attribute(f"{settings} [data-setting=droppedCalls]", "data-value") == "1"
    assert browser.attribute(f"{settings} [data-setting=retentionDays]", "data-value") == "7"
    assert browser.find_all(f"{form} [data-problems]") == []
    assert browser.find(f"{form} input[name=enabled]").is_selected()  # the form shows what is saved
    saved = fresh.gql(READ_SETTINGS, fresh.admin_key, ws=fresh.slug)["contentSettings"]
    assert (saved["enabled"], saved["retentionDays"], saved["redactionPatterns"], saved["droppedCalls"]) == (
        True,
        7,
        ["ORD-[0-9]+"],
        1,
    )


def test_the_key_form_offers_content_with_its_hint(browser, dashboard):
    open_view(browser, dashboard.workspace.admin_key, f"#/keys?ws={dashboard.workspace.slug}", "[data-key-form]")
    offered = [i.get_attribute("value") for i in browser.find_all("[data-key-form] input[name=scopes]")]
    assert offered == ["INGEST", "READ", "ADMIN", "CONTENT"]
    assert "never implied by ADMIN" in browser.text("[data-key-form] [data-scope-hint=CONTENT]")
    # The workspace's admin key holds no CONTENT: asking for it is refused, and the page says why.
    browser.type("[data-key-form] input[name=name]", "wants-content")
    browser.find("[data-key-form] input[value=CONTENT]").click()
    browser.wait(lambda: browser.find("[data-key-form] input[value=CONTENT]").is_selected(), "CONTENT chosen")
    browser.click("[data-key-form] button[type=submit]")
    refusal = browser.wait(lambda: browser.text("[data-key-form] [data-state=error]"), "the refusal")
    assert "CONTENT" in refusal
