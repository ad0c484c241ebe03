"""An OTLP trace export into usage events: its GenAI call spans through the same ingest path as
`trackUsageBatch` (validated, priced, stored idempotently by trace and span id); the other spans ignored and
counted. A span ingest refuses is left out and reported with ingest's own reason; the rest are stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modules.core.errors import BadUserInput, Problem
from modules.core.principal import Principal
from modules.telemetry.spans import ReadSpan, UnreadableSpan, attributes_of, read_span, span_label
from modules.telemetry.wire import DecodedExport
from modules.usage import MAX_BATCH_SIZE, UsageService

MAX_LISTED_REASONS = 20  # in partial_success.error_message; the count is always whole
MAX_MESSAGE_LENGTH = 4000


@dataclass(frozen=True)
class ExportOutcome:
    """What an export became: events stored now, spans stored before (a re-sent export), spans refused with
    their reasons, spans that are not GenAI calls."""

    stored: int
    duplicates: int
    rejected: tuple[str, ...]
    ignored: int

    @property
    def message(self) -> str:
        """partial_success.error_message: why spans were refused (empty when none was)."""
        if not self.rejected:
            return ""
        listed = "; ".join(self.rejected[:MAX_LISTED_REASONS])
        more = len(self.rejected) - MAX_LISTED_REASONS
        text = f"{len(self.rejected)} span(s) rejected: {listed}" + (f" (and {more} more)" if more > 0 else "")
        return text[:MAX_MESSAGE_LENGTH]


class TraceIngest:
    def __init__(self, usage: UsageService) -> None:
        self.usage = usage

    async def ingest(self, principal: Principal, export: DecodedExport, workspace: str) -> ExportOutcome:
        """Store the GenAI calls of `export` in `workspace` (the key's own, or one it names)."""
        rejected = list(export.unreadable)
        calls: list[ReadSpan] = []
        ignored = 0
        for resource_spans in export.request.resource_spans:
            resource = attributes_of(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    try:
                        read = read_span(span, resource, workspace)
                    except UnreadableSpan as error:
                        rejected.append(f"span {span_label(span)}: {error}")
                        continue
                    if read is None:
                        ignored += 1
                    else:
                        calls.append(read)
        stored = duplicates = 0
        for start in range(0, len(calls), MAX_BATCH_SIZE):
            now, again = await self._store(principal, calls[start : start + MAX_BATCH_SIZE], rejected)
            stored, duplicates = stored + now, duplicates + again
        return ExportOutcome(stored=stored, duplicates=duplicates, rejected=tuple(rejected), ignored=ignored)

    async def _store(self, principal: Principal, calls: Sequence[ReadSpan], rejected: list[str]) -> tuple[int, int]:
        """One batch, whole; the spans ingest refuses are taken out (their reasons kept) and the rest sent
        again. Any other refusal (the key, the workspace) is the whole export's."""
        pending = list(calls)
        while pending:
            try:
                results = await self.usage.track_batch(principal, [call.draft for call in pending])
            except BadUserInput as error:
                refused = {problem.index for problem in error.problems if problem.index is not None}
                if not refused:
                    raise
                for index in sorted(refused):
                    reasons = [described(p, pending[index]) for p in error.problems if p.index == index]
                    rejected.append(f"span {label(pending[index])}: {'; '.join(reasons)}")
                pending = [call for index, call in enumerate(pending) if index not in refused]
                continue
            duplicates = sum(result.duplicate for result in results)
            return len(results) - duplicates, duplicates
        return 0, 0


def label(call: ReadSpan) -> str:
    return (call.draft.request_id or "").removeprefix("otel:").replace(":", "/")


def described(problem: Problem, call: ReadSpan) -> str:
    """Ingest's reason, naming the attribute the field was read from."""
    attribute = call.sources.get(problem.field)
    if attribute is None:
        return f"{problem.field} {problem.reason}"
    return f"attribute {attribute} ({problem.field}) {problem.reason}"
