"""The uvicorn server, configured once: `llm-usage serve` and the tests' live servers run these settings."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from service.connections import GuardedHttpProtocol, allow_open_files
from service.limits import GRACEFUL_SHUTDOWN_S, KEEP_ALIVE_S, MAX_BODY_BYTES


def server_config(
    app: ASGIApp | str, *, host: str, port: int, workers: int = 1, log_level: str = "info"
) -> uvicorn.Config:
    """`app` is the application, or with several workers the import string of its factory. No
    `limit_concurrency`: it counted idle connections; connections.py caps them, service/admission.py the work."""
    allow_open_files()
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=host,
        port=port,
        workers=workers,
        http=GuardedHttpProtocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        ws_max_size=MAX_BODY_BYTES,  # a WebSocket message is held to the HTTP body's limit
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_level=log_level,
        log_config=None,  # uvicorn's loggers go through ours (JSON with LOG_FORMAT=json)
    )


def run(config: uvicorn.Config) -> None:
    """What uvicorn.run does with a Config: serve in this process, or supervise `workers` processes."""
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        sys.exit(STARTUP_FAILURE)


def exit_normally_on_sigterm() -> None:
    """uvicorn handles SIGTERM (a graceful shutdown), then raises it again under the handler it found: the
    default one would kill the process before its atexit handlers run, the embedded PostgreSQL's stop among
    them. Set first thing, this one also covers a SIGTERM during the migrations."""
    signal.signal(signal.SIGTERM, exit_as_terminated)


def exit_as_terminated(signum: int, _: FrameType | None) -> None:
    """A normal exit (atexit handlers run), with the status a shell gives a process ended by the signal."""
    raise SystemExit(128 + signum)
