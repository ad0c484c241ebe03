"""The budget pre-flight: ask, before an expensive call, whether it would count against an exhausted budget.
It fails open: an unreachable server or a refused key gives None, never an exception on the request path."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

log = logging.getLogger("llm_usage_client")

BUDGET_STATUS = (
    "query($w: ID!, $u: String, $p: String, $m: String, $t: String, $i: ID) { budgetStatus(workspaceId: $w, "
    "userId: $u, provider: $p, model: $m, taskType: $t, providerInstanceId: $i) { exceeded remainingUsd "
    "percentUsed tightest { id name } } }"
)


@dataclass(frozen=True)
class BudgetStatus:
    """`exceeded`: some active budget the call would count against is at or over its limit; `remaining_usd`
    and `percent_used`: of the matching budget with the least remaining (None when no budget matches). Its id
    and name only for a key that may READ (an INGEST key is told whether to go ahead, not the budgets)."""

    exceeded: bool
    budget_id: str | None
    budget_name: str | None
    remaining_usd: Decimal | None
    percent_used: Decimal | None


def status_request(workspace_id: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """GraphQL body for the call described by `fields` (user_id, provider, model, task_type, provider_instance_id)."""
    unknown = set(fields) - {"workspace_id", "user_id", "provider", "model", "task_type", "provider_instance_id"}
    if unknown:
        raise TypeError(f"budget_status() got unexpected fields: {sorted(unknown)}")
    variables = {
        "w": fields.get("workspace_id", workspace_id),
        "u": fields.get("user_id"),
        "p": fields.get("provider"),
        "m": fields.get("model"),
        "t": fields.get("task_type"),
        "i": fields.get("provider_instance_id"),
    }
    if variables["w"] is None:
        raise TypeError("budget_status() needs the tracker's workspace_id")
    return {"query": BUDGET_STATUS, "variables": variables}


def read_status(response: httpx.Response | None, error: Exception | None) -> BudgetStatus | None:
    if error is not None or response is None:
        log.warning("llm-usage: budget status unavailable: %s", error)
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    data = (body.get("data") or {}).get("budgetStatus")
    if data is None:
        log.warning("llm-usage: budget status refused: %s", body.get("errors") or response.status_code)
        return None
    tightest = data["tightest"] or {}
    return BudgetStatus(
        exceeded=data["exceeded"],
        budget_id=tightest.get("id"),
        budget_name=tightest.get("name"),
        remaining_usd=Decimal(data["remainingUsd"]) if data["remainingUsd"] is not None else None,
        percent_used=Decimal(data["percentUsed"]) if data["percentUsed"] is not None else None,
    )
