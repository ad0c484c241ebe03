"""`llm-usage serve` as a real process on its own embedded PostgreSQL: SIGTERM ends both, with one worker or
several, and also after an earlier server was killed outright."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.gc_tuning import YOUNG_THRESHOLD
from tests.live_server import free_port

STOPS_WITHIN_S = 5


def postgres_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def serving(data_dir: Path, workers: int = 1) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`llm-usage serve` and its base URL, once /healthz answers; killed at the end if still running."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "WEB_CONCURRENCY")}
    env.update(LLM_USAGE_DATA_DIR=str(data_dir), PORT=str(port), LOG_LEVEL="warning", LLM_USAGE_WEBHOOKS="off")
    with (data_dir / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--workers", str(workers)], env=env, stdout=log, stderr=log
        )
    try:

        def healthy() -> bool:
            assert process.poll() is None, (data_dir / "serve.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            return False

        assert wait_until(healthy, 60), (data_dir / "serve.log").read_text()
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def initialized_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve")


@pytest.fixture
def data_dir(initialized_dir: Path) -> Iterator[Path]:
    """LLM_USAGE_DATA_DIR, shared by this module's tests (initdb and migrations once); a PostgreSQL a test
    leaves running there is stopped by its pid."""
    yield initialized_dir
    if (initialized_dir / "postgres" / "postmaster.pid").exists() and alive(pid := postgres_pid(initialized_dir)):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        assert wait_until(lambda: not alive(pid), 10)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_serve_and_its_embedded_postgres(data_dir, workers):
    with serving(data_dir, workers) as (process, _):
        postgres = postgres_pid(data_dir)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) >= 0, "killed by the signal: its atexit handlers did not run"
        assert wait_until(lambda: not alive(postgres), STOPS_WITHIN_S), "the embedded PostgreSQL is still running"
    announced = (data_dir / "serve.log").read_text()
    assert "llm-usage: the dashboard at http://127.0.0.1:" in announced, announced
    assert "/, GraphiQL and the API at http://127.0.0.1:" in announced, announced


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_tunes_the_garbage_collector_once_started(data_dir, workers):
    """What start-up made is frozen out of the collector's walks and young collections wait for 50,000 new
    objects (service/gc_tuning.py), in each worker; the apps the tests build in-process are left alone."""
    with serving(data_dir, workers) as (process, base):
        for _ in range(2 * workers):  # with two workers, the scrapes reach both (most likely)
            metrics = httpx.get(f"{base}/metrics", timeout=5).text
            assert f"llm_usage_gc_young_threshold {YOUNG_THRESHOLD:.1f}" in metrics, metrics
            [frozen] = [
                float(line.split()[1]) for line in metrics.splitlines() if line.startswith("llm_usage_gc_frozen")
            ]
            assert frozen > 100_000, f"only {frozen:,.0f} objects frozen"
        process.send_signal(signal.SIGTERM)
        process.wait(30)


async def test_apps_built_in_process_leave_the_garbage_collector_alone(client):
    metrics = (await client.get("/metrics")).text
    assert "llm_usage_gc_frozen_objects 0.0" in metrics, metrics
    young = gc.get_threshold()[0]
    assert young != YOUNG_THRESHOLD and f"llm_usage_gc_young_threshold {young:.1f}" in metrics, metrics


def test_a_server_killed_outright_does_not_keep_postgres_running_after_the_next_one(data_dir):
    with serving(data_dir) as (killed, _):
        postgres = postgres_pid(data_dir)
        killed.kill()  # SIGKILL: no atexit handler, its pid stays on embedded-postgres's list of users
        killed.wait(10)
    assert alive(postgres), "the embedded PostgreSQL outlives a killed server (the next one joins it)"
    with serving(data_dir) as (next_one, _):
        assert postgres_pid(data_dir) == postgres
        next_one.send_signal(signal.SIGTERM)
        next_one.wait(30)
        assert wait_until(lambda: not alive(postgres), STOPS_WITHIN_S), "the embedded PostgreSQL is still running"
