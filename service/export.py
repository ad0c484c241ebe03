"""GET /export/usage.csv and /export/usage.jsonl: the filtered events, streamed, for a READ key."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from modules.core.errors import LlmUsageError, NotFound
from modules.usage.export import ExportFormat, csv_chunks, filter_from_query, jsonl_chunks
from service.container import ApplicationContainer
from service.context import provide

HTTP_STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}


def moment_label(moment: datetime | None, default: str) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if moment else default


def export_endpoint(container: ApplicationContainer) -> Callable[[Request], Awaitable[Response]]:
    async def export_usage(request: Request) -> Response:
        try:
            try:
                export_format = ExportFormat(request.path_params["format"].upper())
            except ValueError:
                raise NotFound("exports are usage.csv and usage.jsonl") from None
            access = await provide(container.access.service())
            principal = await access.authenticate(request.headers.get("authorization"))
            params = request.query_params
            given = filter_from_query(dict(params), {key: params.getlist(key) for key in params})
            analytics = await provide(container.usage.analytics())
            spec = await analytics.export_spec(principal, given)
        except LlmUsageError as error:
            body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
            return JSONResponse(body, status_code=HTTP_STATUS.get(error.extensions["code"], 500))
        write = csv_chunks if export_format is ExportFormat.CSV else jsonl_chunks
        name = "-".join(
            ["usage", given.workspace_id, moment_label(given.start, "start"), moment_label(given.end, "now")]
        )
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", name) + "." + export_format.extension
        return StreamingResponse(
            write(analytics.export(spec)),
            media_type=export_format.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return export_usage
