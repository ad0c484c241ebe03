"""OTLP/HTTP trace ingestion: GenAI call spans (OpenTelemetry's GenAI semantic conventions, and the names the
most used instrumentations emit) become usage events through the same ingest path as trackUsageBatch."""

from modules.telemetry.attributes import PROVIDERS, READS, Read
from modules.telemetry.service import ExportOutcome, TraceIngest
from modules.telemetry.wire import (
    BodyTooLarge,
    DecodedExport,
    Encoding,
    decode,
    decompressed,
    encoding_of,
    failure,
    success,
)

__all__ = [
    "PROVIDERS",
    "READS",
    "BodyTooLarge",
    "DecodedExport",
    "Encoding",
    "ExportOutcome",
    "Read",
    "TraceIngest",
    "decode",
    "decompressed",
    "encoding_of",
    "failure",
    "success",
]
