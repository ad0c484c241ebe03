"""The dashboard: a static web app at / (index.html) with its modules and vendored libraries under
/dashboard/. It is a client of the public GraphQL API only; nothing here reads the database."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

DASHBOARD_DIR = Path(__file__).parent / "static" / "dashboard"

# The page and its modules change with each release: revalidate (ETag) rather than trust a cached copy.
NO_STALE_COPIES = {"Cache-Control": "no-cache"}


class DashboardFiles(StaticFiles):
    """The dashboard's files, revalidated on every load (a 304 when unchanged)."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(NO_STALE_COPIES)
        return response


async def dashboard_page(_: Request) -> Response:
    return FileResponse(DASHBOARD_DIR / "index.html", media_type="text/html", headers=NO_STALE_COPIES)


async def favicon(_: Request) -> Response:
    """Browsers ask /favicon.ico of every page (GraphiQL's too): the dashboard's icon, not a 404."""
    return FileResponse(DASHBOARD_DIR / "favicon.svg", media_type="image/svg+xml")


def dashboard_routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard_page),
        Route("/favicon.ico", favicon),
        # uPlot is 145 KB as shipped, 41 KB gzipped: the app's files go compressed to browsers that take it.
        Mount("/dashboard", GZipMiddleware(DashboardFiles(directory=DASHBOARD_DIR)), name="dashboard"),
    ]
