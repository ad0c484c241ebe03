"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modules.core.addresses import AllowList
from modules.proxy import PROXY_ALLOW_HOSTS_VARIABLE, ProxySettings
from modules.usage import DEFAULT_MAX_EVENT_AGE_DAYS
from service.export_limits import DEFAULT_EXPORT_LIMITS, ExportLimits

POOLERS = ("none", "pgbouncer")  # DATABASE_POOLER's values


@dataclass(frozen=True)
class Settings:
    """DATABASE_URL unset: an embedded PostgreSQL is started in LLM_USAGE_DATA_DIR/postgres."""

    database_url: str | None = None
    database_read_url: str | None = None  # a streaming replica for analytics; unset: the primary serves them
    database_pooler: str | None = None  # "pgbouncer": the URLs reach PgBouncer in transaction mode
    database_listen_url: str | None = None  # LISTEN's direct connection to the primary; unset: DATABASE_URL
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    env: str = "development"
    log_format: str = "text"  # LOG_FORMAT=json: one JSON object a line, with the request id
    max_event_age_days: int = DEFAULT_MAX_EVENT_AGE_DAYS
    retention_days: int | None = None  # events older are deleted (the rollups keep their sums); None: kept
    export_limits: ExportLimits = DEFAULT_EXPORT_LIMITS  # service/limits.py's numbers; tests shorten them
    rate_limit_per_second: float | None = 100.0  # per key and process, burst x2; a key's own setting wins
    public_url: str | None = None  # how callers reach this service (https://usage.example.com): exportUrl's base
    max_rate_limit_per_second: float = 1000.0  # the most a key's own setting may ask (a workspace ADMIN mints)
    webhook_retry_base_seconds: float = 30.0  # retries after 30 s, 1 min, 2 min … (at most 1 h) for 24 h
    webhook_poll_seconds: float = 5.0  # how often due retries are looked for (new alerts wake it at once)
    webhooks_enabled: bool = True  # this process delivers webhooks (every process may: they share the work)
    webhook_allow_hosts: tuple[str, ...] = ()  # host names, IPs, CIDRs webhooks may reach although not public
    proxy: ProxySettings = field(default_factory=ProxySettings)  # the proxy's upstreams (LLM_USAGE_PROXY_*)

    @property
    def accepted_event_age_days(self) -> int:
        """How old an event may be to be stored: never older than what retention would delete."""
        return min(self.max_event_age_days, self.retention_days or self.max_event_age_days)

    @property
    def production(self) -> bool:
        """LLM_USAGE_ENV=production: no introspection, no GraphiQL."""
        return self.env == "production"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            database_read_url=env.get("DATABASE_READ_URL") or None,
            database_pooler=chosen_pooler(env.get("DATABASE_POOLER"), listen_url=env.get("DATABASE_LISTEN_URL")),
            database_listen_url=env.get("DATABASE_LISTEN_URL") or None,
            data_dir=Path(env.get("LLM_USAGE_DATA_DIR", ".data")),
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8000")),
            log_level=env.get("LOG_LEVEL", "info").lower(),
            env=env.get("LLM_USAGE_ENV", "development").lower(),
            log_format=env.get("LOG_FORMAT", "json" if env.get("LLM_USAGE_ENV") == "production" else "text").lower(),
            max_event_age_days=int(env.get("LLM_USAGE_MAX_EVENT_AGE_DAYS", str(DEFAULT_MAX_EVENT_AGE_DAYS))),
            retention_days=positive_days(env.get("LLM_USAGE_RETENTION_DAYS")),
            rate_limit_per_second=float(env.get("LLM_USAGE_RATE_LIMIT", "100")) or None,
            max_rate_limit_per_second=float(env.get("LLM_USAGE_MAX_RATE_LIMIT", "1000")),
            public_url=env.get("LLM_USAGE_PUBLIC_URL") or None,
            webhook_retry_base_seconds=float(env.get("LLM_USAGE_WEBHOOK_RETRY_BASE_SECONDS", "30")),
            webhook_poll_seconds=float(env.get("LLM_USAGE_WEBHOOK_POLL_SECONDS", "5")),
            webhooks_enabled=env.get("LLM_USAGE_WEBHOOKS", "on").lower() not in ("off", "0", "false"),
            webhook_allow_hosts=tuple(
                e.strip() for e in env.get("LLM_USAGE_WEBHOOK_ALLOW_HOSTS", "").split(",") if e.strip()
            ),
            proxy=proxy_settings(env),
        )


def chosen_pooler(value: str | None, *, listen_url: str | None) -> str | None:
    """DATABASE_POOLER: unset or "none" (direct connections, session pooling), or "pgbouncer" (transaction pooling),
    which needs DATABASE_LISTEN_URL: a LISTEN must stay on one server connection, which transaction pooling hands
    to another client after every transaction."""
    chosen = (value or "none").strip().lower()
    if chosen not in POOLERS:
        raise ValueError(f"DATABASE_POOLER must be one of {', '.join(POOLERS)} (got {value!r})")
    if chosen == "pgbouncer" and not listen_url:
        raise ValueError("DATABASE_POOLER=pgbouncer needs DATABASE_LISTEN_URL: a direct connection to the primary")
    return None if chosen == "none" else chosen


def positive_days(value: str | None, *, name: str = "LLM_USAGE_RETENTION_DAYS") -> int | None:
    """A number of days given as text (unset or empty: None); a whole number, at least 1."""
    if not value:
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of days, at least 1 (got {value!r})")
    return int(value)


def proxy_settings(env: Mapping[str, str]) -> ProxySettings:
    """LLM_USAGE_PROXY_OPENAI_URL, _ANTHROPIC_URL, _GOOGLE_URL (the upstreams' base URLs), _TIMEOUT_S (the longest
    wait between two bytes of an answer), _CONNECT_TIMEOUT_S, _ALLOW_HOSTS (what provider instances' base URLs may
    reach although not public: host names, addresses, CIDR networks, comma-separated)."""
    default = ProxySettings()
    return ProxySettings(
        openai_url=env.get("LLM_USAGE_PROXY_OPENAI_URL") or default.openai_url,
        anthropic_url=env.get("LLM_USAGE_PROXY_ANTHROPIC_URL") or default.anthropic_url,
        google_url=env.get("LLM_USAGE_PROXY_GOOGLE_URL") or default.google_url,
        read_timeout_s=float(env.get("LLM_USAGE_PROXY_TIMEOUT_S") or default.read_timeout_s),
        connect_timeout_s=float(env.get("LLM_USAGE_PROXY_CONNECT_TIMEOUT_S") or default.connect_timeout_s),
        instance_allow=AllowList.parse(
            env.get(PROXY_ALLOW_HOSTS_VARIABLE, "").split(","), variable=PROXY_ALLOW_HOSTS_VARIABLE
        ),
    )
