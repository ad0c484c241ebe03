"""What the benches share: waiting for the server they started to answer, and percentiles of samples.
Imported as `harness` (a bench runs as `python bench/<name>.py`, so this folder is first on sys.path)."""

from __future__ import annotations

import asyncio
import time

import httpx

ATTEMPTS = 300  # 30 s at 0.1 s: the embedded PostgreSQL and the migrations come first


def wait_until_up(url: str) -> None:
    """Return once GET `url` answers at all; stop the bench if it never does."""
    for _ in range(ATTEMPTS):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up in {ATTEMPTS / 10:.0f} s")


async def until_healthy(http: httpx.AsyncClient) -> None:
    """wait_until_up for a client with the server's base URL: its /healthz."""
    for _ in range(ATTEMPTS):
        try:
            await http.get("/healthz")
            return
        except httpx.HTTPError:
            await asyncio.sleep(0.1)
    raise SystemExit(f"{http.base_url}healthz did not come up in {ATTEMPTS / 10:.0f} s")


def percentile(samples: list[float], share: float) -> float:
    """The sample at `share` (0.5 the median, 0.99 the p99) of the sorted samples, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
