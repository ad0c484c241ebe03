"""Export memory: the server's RSS while it streams EXPORT_ROWS events (default 1,000,000) as CSV.

    .venv/bin/python bench/export_memory.py

Starts a throw-away embedded Postgres, inserts the rows with one INSERT … SELECT, starts `llm-usage serve`
as its own process, downloads /export/usage.csv (reading and discarding, like curl > file) while sampling
the server's RSS every 20 ms, and prints idle RSS, peak RSS, the difference, rows and throughput.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
from harness import wait_until_up
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

ROWS = int(os.environ.get("EXPORT_ROWS", "1000000"))
PORT = int(os.environ.get("EXPORT_PORT", "8765"))


async def prepare(url: str) -> str:
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    await provide(container.init_resources())
    workspaces = await provide(container.workspaces.service())
    workspace = await workspaces.create(Principal.system(), name="Export", slug="export")
    access = await provide(container.access.service())
    key = (await access.create(Principal.system(), workspace_ref="export", name="bench", scopes=[Scope.READ])).secret
    await provide(container.shutdown_resources())
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, user_id, "
                "prompt_tokens, completion_tokens, total_tokens, input_cost_usd, output_cost_usd, cost_usd, cost_source, "
                "duration_ms, status, tags) "
                "SELECT :w, 'r' || g, timestamptz '2026-01-01' + g * interval '1 second', now(), 'openai', 'gpt-4o', "
                "'user-' || g % 500, g % 4000, g % 300, g % 4000 + g % 300, 0.0025, 0.001, 0.0035, 'CATALOG', g % 5000, "
                "'SUCCESS', '{\"feature\": \"search\"}' FROM generate_series(1, :n) AS g"
            ),
            {"w": workspace.id, "n": ROWS},
        )
        await connection.execute(text("ANALYZE usage_events"))
    await engine.dispose()
    return key


def main() -> None:
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-export-")), temporary=True)
    key = asyncio.run(prepare(url))
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT)],
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{PORT}/healthz")
        process = psutil.Process(server.pid)
        headers = {"Authorization": f"Bearer {key}"}
        httpx.get(
            f"http://127.0.0.1:{PORT}/export/usage.csv?workspaceId=export&to=2026-01-01T00:01:00Z", headers=headers
        )
        idle = process.memory_info().rss
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], process.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started, size, lines = time.perf_counter(), 0, 0
        with httpx.stream(
            "GET", f"http://127.0.0.1:{PORT}/export/usage.csv?workspaceId=export", headers=headers, timeout=600
        ) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        print(
            f"rows exported: {lines - 1:,} ({size / 1e6:.1f} MB CSV) in {seconds:.1f} s = {(lines - 1) / seconds:,.0f} rows/s"
        )
        print(
            f"server RSS idle {idle / 1e6:.1f} MB, peak {peak[0] / 1e6:.1f} MB, growth {(peak[0] - idle) / 1e6:.1f} MB"
        )
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
