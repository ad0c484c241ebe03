"""ProxyContainer: imports UsageService (ingestion), the key check (AccessService), the provider instances
(ProviderService), the workspaces (WorkspaceService), whether a workspace keeps content (ContentKeeper) and the
settings; exports the endpoint, and the recorder and
clients the shell starts and closes with the process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from dependency_injector import containers, providers

from modules.proxy.access import InstanceLookup, KeyCheck, ProxyAccess, WorkspaceLookup
from modules.proxy.capture import ContentSwitch
from modules.proxy.forwarding import CallObserver, ProxyEndpoint
from modules.proxy.recorder import Outcome, TrackBatch, UsageRecorder
from modules.proxy.upstreams import ProxySettings, UpstreamClients


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProxyContainer(containers.DeclarativeContainer):
    usage: providers.Dependency[TrackBatch] = providers.Dependency()  # UsageService
    keys: providers.Dependency[KeyCheck] = providers.Dependency()  # AccessService
    instances: providers.Dependency[InstanceLookup] = providers.Dependency()  # ProviderService
    workspaces: providers.Dependency[WorkspaceLookup | None] = providers.Dependency(default=None)  # WorkspaceService
    # ContentKeeper; None: no call's content is captured
    content: providers.Dependency[ContentSwitch | None] = providers.Dependency(default=None)
    settings = providers.Dependency(instance_of=ProxySettings, default=ProxySettings())
    observe_call: providers.Dependency[CallObserver | None] = providers.Dependency(default=None)
    observe_recorded: providers.Dependency[Outcome | None] = providers.Dependency(default=None)
    clock: providers.Dependency[Callable[[], float]] = providers.Dependency(default=time.perf_counter)
    now: providers.Dependency[Callable[[], datetime]] = providers.Dependency(default=utc_now)
    # whether a failure to store says the database is away (the calls then wait for it), not that they are refused
    transient: providers.Dependency[Callable[[BaseException], bool]] = providers.Dependency(default=lambda e: True)
    clients = providers.Singleton(UpstreamClients, settings=settings)
    recorder = providers.Singleton(UsageRecorder, usage=usage, observe=observe_recorded, transient=transient)
    access = providers.Singleton(ProxyAccess, keys=keys, instances=instances, workspaces=workspaces)
    endpoint = providers.Singleton(
        ProxyEndpoint,
        access=access,
        clients=clients,
        recorder=recorder,
        clock=clock,
        now=now,
        observe=observe_call,
        content=content,
    )
