"""The pass-through proxy against the same requests sent straight to the upstream, in one run.

    .venv/bin/python bench/proxy.py      (BENCH_PAIRS=400, BENCH_SECONDS=5, BENCH_STREAMS=1000, BENCH_MODEL_TIME_MS=100 by default)

The upstream is tests/proxy/fake_upstream.py (the recorded OpenAI fixtures) in a process of its own; the proxy
is `llm-usage serve` (its embedded PostgreSQL, every call recorded) in another; this process sends the load.
- added latency of a chat completion at 50 requests/s: a direct and a proxied request every 20 ms (in random
  order), p50 and p99 of each; target: proxied - direct ≤ 2 ms (p50) and ≤ 10 ms (p99);
- added time to the first byte of a chat stream (the proxy asks for usage and removes it again): target ≤ 2 ms;
- throughput with 32 concurrent clients for BENCH_SECONDS each way: target proxied ≥ 0.7x direct; once against
  the upstream answering at once (what the proxy's CPU costs against the fake's own) and once with the upstream
  taking BENCH_MODEL_TIME_MS=100 ms to answer (a model never answers faster: what a caller sees);
- the proxy's RSS with BENCH_STREAMS streams open at once (each has its first event; the upstream then holds
  it): target ≤ 300 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
from harness import percentile, wait_until_up
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

PAIRS = int(os.environ.get("BENCH_PAIRS", "400"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
MODEL_TIME_MS = int(os.environ.get("BENCH_MODEL_TIME_MS", "100"))  # the second throughput run's upstream wait
UPSTREAM_PORT = int(os.environ.get("BENCH_UPSTREAM_PORT", "8771"))
PROXY_PORT = int(os.environ.get("BENCH_PORT", "8772"))
ROOT = Path(__file__).resolve().parents[1]
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
PROVIDER_HEADERS = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}


async def prepare(url: str) -> str:
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    await provide(container.init_resources())
    await (await provide(container.workspaces.service())).create(Principal.system(), name="Bench", slug="bench")
    access = await provide(container.access.service())
    key = (await access.create(Principal.system(), workspace_ref="bench", name="proxy", scopes=[Scope.INGEST])).secret
    await provide(container.shutdown_resources())
    return key


async def timed(http: httpx.AsyncClient, url: str, headers: dict[str, str], body: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = await http.post(url, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return (time.perf_counter() - started) * 1000


async def first_byte(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    elapsed = None
    async with http.stream("POST", url, json={**CHAT, "stream": True}, headers=headers) as answer:
        async for _ in answer.aiter_raw():
            elapsed = elapsed or (time.perf_counter() - started) * 1000
    assert elapsed is not None
    return elapsed


async def latency(http: httpx.AsyncClient, direct: str, proxied: str, headers: dict[str, str]) -> None:
    samples: dict[str, list[float]] = {"direct": [], "proxied": []}
    targets = {"direct": (direct, PROVIDER_HEADERS), "proxied": (proxied, headers)}
    for url, sent in targets.values():  # warm both connections
        await timed(http, url, sent, CHAT)
    tick = time.perf_counter()
    for _ in range(PAIRS):
        order = random.sample(list(targets), 2)
        for name in order:
            url, sent = targets[name]
            samples[name].append(await timed(http, url, sent, CHAT))
        tick += 0.02
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    p50 = {name: statistics.median(found) for name, found in samples.items()}
    p99 = {name: percentile(found, 0.99) for name, found in samples.items()}
    print(
        f"chat completion at 50 req/s, {PAIRS} pairs: direct p50 {p50['direct']:.2f} ms p99 {p99['direct']:.2f} ms; "
        f"proxied p50 {p50['proxied']:.2f} ms p99 {p99['proxied']:.2f} ms"
    )
    print(
        f"  added latency: p50 {p50['proxied'] - p50['direct']:+.2f} ms (target ≤ 2), "
        f"p99 {p99['proxied'] - p99['direct']:+.2f} ms (target ≤ 10); ratio p50 {p50['proxied'] / p50['direct']:.2f}x"
    )
    ttfb: dict[str, list[float]] = {"direct": [], "proxied": []}
    for _ in range(PAIRS // 2):
        for name in random.sample(list(targets), 2):
            url, sent = targets[name]
            ttfb[name].append(await first_byte(http, url, sent))
    first = {name: statistics.median(found) for name, found in ttfb.items()}
    print(
        f"chat stream, time to first byte p50: direct {first['direct']:.2f} ms, proxied {first['proxied']:.2f} ms; "
        f"added {first['proxied'] - first['direct']:+.2f} ms (target ≤ 2)"
    )


async def throughput(
    url: str, headers: dict[str, str], served_by: psutil.Process, *, listing: bool = False
) -> tuple[float, float]:
    """Requests per second with 32 clients, and the CPU `served_by` spent per request (ms)."""
    done = 0
    cpu_before = sum(served_by.cpu_times()[:2])
    deadline = time.perf_counter() + SECONDS
    # The load comes from aiohttp (0.15 ms of CPU a request, httpx 2.5 ms): on 2 shared cores an httpx load
    # generator would take the CPU the proxy is measured on.
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        body = json.dumps(CHAT).encode()

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                if listing:
                    async with http.get(url, headers=headers) as answer:
                        assert answer.status == 200
                        await answer.read()
                else:
                    async with http.post(url, data=body, headers=headers) as answer:
                        assert answer.status == 200
                        await answer.read()
                done += 1

        await asyncio.gather(*(client() for _ in range(32)))
    return done / SECONDS, (sum(served_by.cpu_times()[:2]) - cpu_before) / done * 1000


async def open_streams(url: str, headers: dict[str, str], proxy: psutil.Process) -> None:
    idle = proxy.memory_info().rss
    opened = asyncio.Event()
    count = 0
    release = asyncio.Event()
    limits = httpx.Limits(max_connections=STREAMS + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def stream() -> None:
            nonlocal count
            body = {**CHAT, "stream": True}
            async with http.stream("POST", url, json=body, headers={**headers, "x-fake-stall": "1"}) as answer:
                assert answer.status_code == 200
                async for _ in answer.aiter_raw():
                    break
                count += 1
                if count == STREAMS:
                    opened.set()
                await release.wait()

        tasks = [asyncio.create_task(stream()) for _ in range(STREAMS)]
        await asyncio.wait_for(opened.wait(), 120)
        await asyncio.sleep(0.5)
        held = proxy.memory_info().rss
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(
        f"{count} of {STREAMS} streams open at once through the proxy: RSS {held / 1e6:.1f} MB (idle {idle / 1e6:.1f} MB, "
        f"+{(held - idle) / 1e6:.1f} MB, {(held - idle) / STREAMS / 1e3:.1f} KB a stream; target ≤ 300 MB)"
    )


async def measure(key: str, proxy: psutil.Process, upstream: psutil.Process) -> None:
    direct = f"http://127.0.0.1:{UPSTREAM_PORT}/v1/chat/completions"
    proxied = f"http://127.0.0.1:{PROXY_PORT}/proxy/openai/v1/chat/completions"
    headers = {**PROVIDER_HEADERS, "X-LLM-Usage-Key": key}
    async with httpx.AsyncClient(timeout=30) as http:
        await latency(http, direct, proxied, headers)
    straight, upstream_cpu = await throughput(direct, PROVIDER_HEADERS, upstream)
    through, proxy_cpu = await throughput(proxied, headers, proxy)
    print(
        f"32 concurrent clients, {SECONDS:.0f} s each: direct {straight:,.0f} req/s, proxied {through:,.0f} req/s; "
        f"ratio {through / straight:.2f}x (target ≥ 0.7x)"
    )
    print(
        f"  CPU per call: the proxy {proxy_cpu:.2f} ms (recording included), the upstream {upstream_cpu:.2f} ms; "
        f"ratio {proxy_cpu / upstream_cpu:.2f}x"
    )
    model_time = {"x-fake-delay-ms": str(MODEL_TIME_MS)}
    straight, _ = await throughput(direct, {**PROVIDER_HEADERS, **model_time}, upstream)
    through, _ = await throughput(proxied, {**headers, **model_time}, proxy)
    print(
        f"  with an upstream that answers in {MODEL_TIME_MS} ms (faster than any model): direct {straight:,.0f} req/s, "
        f"proxied {through:,.0f} req/s; ratio {through / straight:.2f}x (target ≥ 0.7x)"
    )
    models = (f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models", f"http://127.0.0.1:{PROXY_PORT}/proxy/openai/v1/models")
    straight, upstream_cpu = await throughput(models[0], PROVIDER_HEADERS, upstream, listing=True)
    through, proxy_cpu = await throughput(models[1], headers, proxy, listing=True)
    print(
        f"  GET /v1/models (passed through, nothing recorded): direct {straight:,.0f} req/s, proxied {through:,.0f} "
        f"req/s, ratio {through / straight:.2f}x; CPU per call: the proxy {proxy_cpu:.2f} ms, the upstream "
        f"{upstream_cpu:.2f} ms"
    )
    await open_streams(proxied, headers, proxy)


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-proxy-bench-")), temporary=True)
    key = asyncio.run(prepare(url))
    upstream = subprocess.Popen(
        [sys.executable, "-m", "tests.proxy.fake_upstream", str(UPSTREAM_PORT)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "warning",
        "LLM_USAGE_RATE_LIMIT": "0",
        "LLM_USAGE_PROXY_OPENAI_URL": f"http://127.0.0.1:{UPSTREAM_PORT}/v1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PROXY_PORT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models")
        wait_until_up(f"http://127.0.0.1:{PROXY_PORT}/healthz")
        asyncio.run(measure(key, psutil.Process(server.pid), psutil.Process(upstream.pid)))
    finally:
        server.terminate()
        upstream.terminate()
        server.wait(30)
        upstream.wait(30)


if __name__ == "__main__":
    main()
