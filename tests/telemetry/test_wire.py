"""Any body at all: decoded into an export request or refused as not OTLP (400), and any span read into a
draft, ignored, or refused naming its attribute; nothing else is ever raised (which would be a 500)."""

from __future__ import annotations

import contextlib
import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modules.core.errors import BadUserInput
from modules.telemetry import BodyTooLarge, Encoding, decode, decompressed
from modules.telemetry.spans import UnreadableSpan, attributes_of, read_span
from tests.telemetry.payloads import CHAT_ATTRIBUTES, as_json, export_request, span

NAMES = st.sampled_from(
    ["gen_ai.provider.name", "gen_ai.system", "gen_ai.request.model", "gen_ai.usage.input_tokens",
     "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens", "gen_ai.response.time_to_first_chunk",
     "gen_ai.request.stream", "error.type", "user.id", "llm_usage.tag.x", "gen_ai.operation.name", "other"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
ANY_VALUE = st.one_of(
    st.builds(lambda v: {"stringValue": v}, st.text(max_size=8)),
    st.builds(lambda v: {"intValue": v}, st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=3))),
    st.builds(lambda v: {"doubleValue": v}, st.one_of(st.floats(), st.text(max_size=3))),
    st.builds(lambda v: {"boolValue": v}, SCALARS),
    st.builds(lambda v: {"arrayValue": {"values": [{"intValue": v}]}}, st.integers(0, 9)),
    st.builds(lambda v: {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": v}}]}}, st.text(max_size=3)),
    SCALARS,
)
SPAN = st.fixed_dictionaries(
    {"traceId": st.one_of(st.just("0" * 31 + "1"), st.text(max_size=4), SCALARS),
     "spanId": st.one_of(st.just("0" * 15 + "2"), SCALARS),
     "startTimeUnixNano": st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=3)),
     "endTimeUnixNano": st.one_of(st.integers(0, 2**64 - 1), SCALARS),
     "status": st.one_of(st.just({"code": 2, "message": "boom"}), SCALARS),
     "attributes": st.lists(st.fixed_dictionaries({"key": NAMES, "value": ANY_VALUE}), max_size=8)}
)  # fmt: skip
DOCUMENT = st.builds(lambda spans: {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}, st.lists(SPAN, max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT)
def test_any_json_body_is_decoded_or_refused_and_any_span_read_or_refused(document):
    try:
        decoded = decode(json.dumps(document).encode(), Encoding.JSON)
    except BadUserInput as error:
        assert error.problems[0].field == "body"
        return
    for resource_spans in decoded.request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for found in scope_spans.spans:
                with contextlib.suppress(UnreadableSpan):  # refused, naming its attribute: a partial success
                    read_span(found, attributes_of(resource_spans.resource.attributes), "acme")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_protobuf_body_is_decoded_or_refused(body):
    try:
        decode(body, Encoding.PROTOBUF)
    except BadUserInput as error:
        assert error.problems[0].field == "body"


def test_json_ids_are_hex_as_the_otlp_spec_says():
    request = export_request(span(7, CHAT_ATTRIBUTES, trace=0xABC))
    decoded = decode(json.dumps(as_json(request)).encode(), Encoding.JSON).request
    assert decoded == request


def test_gzip_is_decompressed_up_to_the_limit():
    assert decompressed(gzip.compress(b"x" * 100), "gzip", 100) == b"x" * 100
    with pytest.raises(BodyTooLarge):
        decompressed(gzip.compress(b"x" * 101), "gzip", 100)
    with pytest.raises(BadUserInput, match="ends before its gzip data does"):
        decompressed(gzip.compress(b"x" * 100)[:-12], "gzip", 1000)
