"""OTLP/HTTP on the wire: a request body (protobuf or JSON, gzip or not) into the official
`ExportTraceServiceRequest`, and answers (`ExportTraceServiceResponse`, `google.rpc.Status`) in the request's
own encoding, as the OTLP specification asks.

Two things the protobuf library does not do for OTLP/JSON are done here, before it parses: trace and span ids
are hex in OTLP/JSON (protobuf's JSON mapping reads bytes as base64), and a span holding a lone surrogate
(`"\\ud800"`, valid JSON, not Unicode text) is taken out and reported alone instead of failing the whole body.
In protobuf a string must be UTF-8, so invalid bytes make the body not OTLP (400).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from modules.core.errors import BadUserInput

HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")  # how JSON writes a surrogate: \ud800 to \udfff
ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
SPAN_COLLECTIONS = (("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans",))
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 429: 8, 500: 13, 503: 14}  # google.rpc.Code


class Encoding(StrEnum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


class BodyTooLarge(Exception):
    """The body, once decompressed, is over the limit: 413 (a compressed body is capped by BodySizeLimit)."""


@dataclass(frozen=True)
class DecodedExport:
    request: ExportTraceServiceRequest
    unreadable: tuple[str, ...] = ()  # one reason per span taken out before parsing (JSON only)


def encoding_of(content_type: str | None) -> Encoding:
    media_type = (content_type or "").split(";")[0].strip().lower()
    for encoding in Encoding:
        if media_type == encoding.value:
            return encoding
    raise BadUserInput.of(
        "Content-Type", f"must be application/x-protobuf or application/json (OTLP/HTTP), not {media_type!r}"
    )


def decompressed(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body without its gzip (or deflate) coding, at most `limit` bytes of it."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding not in ("gzip", "deflate"):
        raise BadUserInput.of("Content-Encoding", f"must be gzip, deflate or none, not {coding!r}")
    inflater = zlib.decompressobj(wbits=31 if coding == "gzip" else 15)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise BadUserInput.of("body", f"is not valid {coding} data ({error})") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(f"the request body is larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise BadUserInput.of("body", f"ends before its {coding} data does")
    return plain


def decode(body: bytes, encoding: Encoding) -> DecodedExport:
    """The export request of an OTLP body; BadUserInput naming `body` when it is not one."""
    if encoding is Encoding.PROTOBUF:
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise BadUserInput.of("body", f"is not an OTLP ExportTraceServiceRequest in protobuf ({error})") from None
        return DecodedExport(request)
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadUserInput.of("body", f"is not JSON ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise BadUserInput.of("body", "is not an OTLP ExportTraceServiceRequest in JSON (not an object)")
    unreadable = take_out_unreadable_spans(document, surrogates=SURROGATE_ESCAPE.search(body) is not None)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True, max_recursion_depth=64)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        message = str(error).splitlines()[0][:300]
        raise BadUserInput.of("body", f"is not an OTLP ExportTraceServiceRequest in JSON ({message})") from None
    return DecodedExport(request, tuple(unreadable))


def take_out_unreadable_spans(document: dict[str, Any], *, surrogates: bool = True) -> list[str]:
    """Hex ids turned into protobuf's base64; spans with a lone surrogate anywhere (or under a resource or
    scope that has one) removed, each with its reason. `surrogates` False: the body escapes none (the strings
    of UTF-8 text have none), so nothing is searched."""
    reasons: list[str] = []
    for resource in list_of(document, SPAN_COLLECTIONS[0]):
        scopes = list_of(resource, SPAN_COLLECTIONS[1])
        resource_bad = surrogates and has_lone_surrogate(
            {k: v for k, v in resource.items() if k not in SPAN_COLLECTIONS[1]}
        )
        for scope in scopes:
            spans = list_of(scope, SPAN_COLLECTIONS[2])
            outer_bad = resource_bad or (
                surrogates and has_lone_surrogate({k: v for k, v in scope.items() if k not in SPAN_COLLECTIONS[2]})
            )
            kept = []
            for span in spans:
                if isinstance(span, dict):
                    hex_ids_as_base64(span)
                if outer_bad or (surrogates and has_lone_surrogate(span)):
                    where = "its resource or scope" if outer_bad else "one of its strings"
                    reasons.append(f"span {span_label(span)}: {where} holds a lone surrogate (not Unicode text)")
                else:
                    kept.append(span)
            spans[:] = kept
            if outer_bad:
                scope.clear()
        if resource_bad:
            resource.clear()
    return reasons


def list_of(parent: Any, keys: tuple[str, ...]) -> list[Any]:
    if not isinstance(parent, dict):
        return []
    for key in keys:
        value = parent.get(key)
        if isinstance(value, list):
            return value
    return []


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def hex_ids_as_base64(span: dict[str, Any]) -> None:
    for key in ID_FIELDS:
        value = span.get(key)
        if isinstance(value, str) and HEX_ID.fullmatch(value):
            span[key] = base64.b64encode(bytes.fromhex(value)).decode()
    for link in span.get("links") or []:
        if isinstance(link, dict):
            for key in ID_FIELDS:
                value = link.get(key)
                if isinstance(value, str) and HEX_ID.fullmatch(value):
                    link[key] = base64.b64encode(bytes.fromhex(value)).decode()


def span_label(span: Any) -> str:
    """A span's trace/span ids as hex, for a reason the sender can find it by."""
    if not isinstance(span, dict):
        return "(not an object)"
    ids = []
    for key in ("traceId", "spanId"):
        value = span.get(key, span.get(key.replace("Id", "_id")))
        try:
            ids.append(base64.b64decode(value, validate=True).hex() if isinstance(value, str) else "?")
        except ValueError:
            ids.append("?")
    return "/".join(ids)


def encoded(message: Message, encoding: Encoding) -> bytes:
    if encoding is Encoding.PROTOBUF:
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode()


def success(rejected: int, message: str, encoding: Encoding) -> bytes:
    """An ExportTraceServiceResponse: `partial_success` only when spans were rejected."""
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(ExportTracePartialSuccess(rejected_spans=rejected, error_message=message))
    return encoded(response, encoding)


def failure(status: int, message: str, encoding: Encoding) -> bytes:
    """The google.rpc.Status body OTLP/HTTP gives every 4xx and 5xx answer."""
    return encoded(Status(code=GRPC_CODES.get(status, 2), message=message), encoding)
