"""GET /export/usage.csv and /export/usage.jsonl: the filtered events, streamed, for a READ key.

Everything that can fail with a status is checked before the first byte: the key, its rate limit, the
filter, a free export slot (service/export_slots.py), the export's size and the first read of the database
(so an unreachable database is a 503, not a cut connection). Errors are the GraphQL error shape with the
status `service/http_errors.py` gives their code. Then the rows stream under the deadlines of
service/export_response.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import Response

from modules.core.errors import LlmUsageError, NotFound
from modules.usage.export.formats import ExportFormat, csv_chunks, filter_from_query, jsonl_chunks
from service.container import ApplicationContainer
from service.context import authenticate, provide
from service.errors import POOL_RETRY_AFTER_S, database_unreachable
from service.export_response import ExportResponse
from service.export_slots import ExportSlots
from service.http_errors import error_response

log = logging.getLogger(__name__)


def moment_label(moment: datetime | None, default: str) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if moment else default


async def started(chunks: AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
    """`chunks` with its first chunk already read (the first database read happens here, before any byte);
    closing the result closes `chunks`."""
    first = await anext(chunks, None)

    async def rest() -> AsyncGenerator[str, None]:
        async with aclosing(chunks):
            if first is not None:
                yield first
            async for chunk in chunks:
                yield chunk

    return rest()


def export_endpoint(container: ApplicationContainer) -> Callable[[Request], Awaitable[Response]]:
    limits = container.settings().export_limits
    slots = ExportSlots(limits)

    async def export_response(request: Request) -> ExportResponse:
        try:
            export_format = ExportFormat(request.path_params["format"].upper())
        except ValueError:
            raise NotFound("exports are usage.csv and usage.jsonl") from None
        access = await provide(container.access.service())
        principal = await authenticate(access, request.headers.get("authorization"))
        principal.require_authenticated()  # unknown key, unreachable database or over its rate limit
        params = request.query_params
        given = filter_from_query(dict(params), {key: params.getlist(key) for key in params})
        analytics = await provide(container.usage.analytics())
        spec = await analytics.export_spec(principal, given)
        free_slot = slots.claim(principal.key_id or principal.name)
        try:
            deadline = asyncio.get_running_loop().time() + limits.deadline_s
            write = csv_chunks if export_format is ExportFormat.CSV else jsonl_chunks
            body = await started(write(analytics.export(spec, max_rows=limits.max_rows)))
        except BaseException:
            free_slot()
            raise
        name = "-".join(
            ["usage", given.workspace_id, moment_label(given.start, "start"), moment_label(given.end, "now")]
        )
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:200] + "." + export_format.extension
        return ExportResponse(
            body,
            deadline=deadline,
            stall_s=limits.stall_s,
            on_close=free_slot,
            media_type=export_format.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def export_usage(request: Request) -> Response:
        try:
            return await export_response(request)
        except LlmUsageError as error:
            return error_response(error.message, error.extensions["code"], **without_code(error.extensions))
        except PoolTimeout:
            return error_response(
                "The server is busy (no database connection was free). Retry shortly.",
                "UNAVAILABLE",
                retryable=True,
                retryAfter=POOL_RETRY_AFTER_S,
            )
        except Exception as error:
            if database_unreachable(error):
                return error_response("The database is unreachable. Retry later.", "UNAVAILABLE", retryable=True)
            error_id = uuid.uuid4().hex[:12]
            log.error("unexpected error %s in an export", error_id, exc_info=error)
            return error_response(
                f"Unexpected error (id {error_id}); it has been logged.", "INTERNAL", errorId=error_id
            )

    return export_usage


def without_code(extensions: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in extensions.items() if key != "code"}
