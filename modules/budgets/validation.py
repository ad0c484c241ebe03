"""Budget inputs checked before anything is written: every problem is reported with the field it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from modules.budgets.records import DEFAULT_THRESHOLDS, BudgetFields, BudgetPeriod, BudgetScope
from modules.core.errors import BadUserInput, Problem
from modules.core.time_zones import time_zone
from modules.providers import normalize_provider

MAX_NAME = 200
MAX_SCOPE_VALUE = 200
MAX_THRESHOLDS = 10
# Each alert is POSTed to every URL of its budget and retried for 24 h, and every stored batch is counted
# against every budget of its workspace: both are bounded so one ADMIN cannot multiply either at will.
MAX_WEBHOOKS = 5
MAX_BUDGETS_PER_WORKSPACE = 100
MAX_LIMIT_USD = Decimal("1000000000")


@dataclass(frozen=True)
class BudgetDraft:
    """A caller's budget input; None: not given (the default on create, unchanged on update)."""

    name: str | None = None
    scope: BudgetScope | None = None
    scope_value: str | None = None
    scope_tag_key: str | None = None
    period: BudgetPeriod | None = None
    time_zone: str | None = None
    limit_usd: Decimal | None = None
    thresholds: tuple[int, ...] | None = None
    webhook_urls: tuple[str, ...] | None = None
    paused: bool | None = None


def merged(draft: BudgetDraft, current: BudgetFields | None) -> BudgetDraft:
    """An update's draft over the budget as it is; scope fields travel together."""
    if current is None:
        return draft
    scope_given = draft.scope is not None
    return BudgetDraft(
        name=draft.name if draft.name is not None else current.name,
        scope=draft.scope if scope_given else current.scope,
        scope_value=draft.scope_value if scope_given or draft.scope_value is not None else current.scope_value,
        scope_tag_key=draft.scope_tag_key if scope_given or draft.scope_tag_key is not None else current.scope_tag_key,
        period=draft.period or current.period,
        time_zone=draft.time_zone or current.time_zone,
        limit_usd=draft.limit_usd if draft.limit_usd is not None else current.limit_usd,
        thresholds=draft.thresholds if draft.thresholds is not None else current.thresholds,
        webhook_urls=draft.webhook_urls if draft.webhook_urls is not None else current.webhook_urls,
        paused=draft.paused if draft.paused is not None else current.paused,
    )


def check_budget(draft: BudgetDraft, url_problems: Sequence[Problem] = ()) -> BudgetFields:
    """The budget to store, or BadUserInput listing every problem; `url_problems`: those the address check of
    the given webhook URLs found (it needs DNS, so the service runs it)."""
    problems: list[Problem] = []
    name = (draft.name or "").strip()
    if not name or len(name) > MAX_NAME:
        problems.append(Problem("name", f"must be 1 to {MAX_NAME} characters"))
    scope = draft.scope or BudgetScope.WORKSPACE
    problems.extend(scope_problems(scope, draft.scope_value, draft.scope_tag_key))
    zone_name = draft.time_zone or "UTC"
    if time_zone(zone_name) is None:
        problems.append(Problem("timeZone", f"{zone_name[:60]!r} is not an IANA time zone (e.g. Europe/Paris)"))
    limit = draft.limit_usd
    if limit is None or not limit.is_finite() or not Decimal(0) < limit <= MAX_LIMIT_USD:
        problems.append(Problem("limitUsd", f"must be more than 0 and at most {MAX_LIMIT_USD}"))
    thresholds = draft.thresholds if draft.thresholds is not None else DEFAULT_THRESHOLDS
    if not 1 <= len(thresholds) <= MAX_THRESHOLDS or len(set(thresholds)) != len(thresholds):
        problems.append(Problem("thresholds", f"1 to {MAX_THRESHOLDS} distinct percentages"))
    elif any(not 1 <= t <= 1000 for t in thresholds):
        problems.append(Problem("thresholds", "each must be a percentage from 1 to 1000"))
    urls = draft.webhook_urls or ()
    if len(urls) > MAX_WEBHOOKS:
        problems.append(Problem("webhookUrls", f"at most {MAX_WEBHOOKS}"))
    problems.extend(url_problems)
    if problems:
        raise BadUserInput(problems)
    assert limit is not None
    return BudgetFields(
        name=name,
        scope=scope,
        scope_value=scope_value(scope, draft.scope_value),
        scope_tag_key=draft.scope_tag_key if scope is BudgetScope.TAG else None,
        period=draft.period or BudgetPeriod.MONTHLY,
        time_zone=zone_name,
        limit_usd=limit,
        thresholds=tuple(sorted(thresholds)),
        webhook_urls=tuple(dict.fromkeys(urls)),
        paused=bool(draft.paused),
    )


def scope_value(scope: BudgetScope, value: str | None) -> str | None:
    """Provider ids are stored lower-case, as events store them."""
    if scope is BudgetScope.WORKSPACE or value is None:
        return None
    return normalize_provider(value) if scope is BudgetScope.PROVIDER else value


def scope_problems(scope: BudgetScope, value: str | None, tag_key: str | None) -> list[Problem]:
    if scope is BudgetScope.WORKSPACE:
        given = [name for name, v in (("scopeValue", value), ("scopeTagKey", tag_key)) if v is not None]
        return [Problem(name, "must not be given for a WORKSPACE budget") for name in given]
    problems = []
    if not value or len(value) > MAX_SCOPE_VALUE:
        problems.append(
            Problem(
                "scopeValue", f"a {scope.value} budget needs the value it counts (1 to {MAX_SCOPE_VALUE} characters)"
            )
        )
    if scope is BudgetScope.TAG and not tag_key:
        problems.append(Problem("scopeTagKey", "a TAG budget needs the tag key it looks at"))
    if scope is not BudgetScope.TAG and tag_key is not None:
        problems.append(Problem("scopeTagKey", "only a TAG budget has a tag key"))
    return problems
