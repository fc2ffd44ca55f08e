"""Pure validation of ingest batches and records (contract section 2.2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records import RunBuilder, batch

from crux_tui.backend.ingest import (
    BatchError,
    batch_version_dispositions,
    check_batch,
    validate_record,
)


def code_of(record: Any) -> str:
    return validate_record(0, record)[0].code


@pytest.mark.parametrize(
    ("field", "code", "message"),
    [
        ("recordId", "invalid_record", "recordId is required"),
        ("runId", "invalid_record", "runId is required"),
        ("segmentId", "missing_segment_identity", "missing v2 segment identity"),
        ("type", "invalid_record", "type is required"),
    ],
)
def test_a_record_missing_an_envelope_field_is_rejected_naming_it(
    field: str, code: str, message: str
) -> None:
    """Each envelope field is required (absent or empty alike), and the rejection says which."""
    start = RunBuilder("run_e").run_start()
    absent = {key: value for key, value in start.items() if key != field}
    for record in (absent, {**start, field: ""}):
        disposition, wire = validate_record(3, record)
        assert (disposition.index, disposition.outcome, disposition.code) == (3, "rejected", code)
        assert disposition.message == message and wire is None


@pytest.mark.parametrize("record", [[], "run:start", 5, None])
def test_a_record_that_is_not_an_object_is_rejected_without_an_id(record: Any) -> None:
    """A record that is not a JSON object has no id to name: the rejection names none."""
    disposition, wire = validate_record(2, record)
    assert (disposition.index, disposition.recordId, disposition.outcome) == (2, "", "rejected")
    assert disposition.code == "invalid_record" and wire is None
    assert disposition.message == "record must be a JSON object"


def test_a_record_of_another_version_is_rejected_saying_which_it_must_be() -> None:
    """In a batch, a record must carry the batch's version; loaded alone, any supported one.
    The rejection keeps the record's id and says which version it must be."""
    record = RunBuilder("run_v", schema_version=4).run_start()
    in_batch, _ = validate_record(0, record, 3)
    assert (in_batch.code, in_batch.recordId) == ("unsupported_schema_version", record["recordId"])
    assert in_batch.message == "record schemaVersion must be 3"
    alone, _ = validate_record(0, {**record, "schemaVersion": 9})
    assert alone.message == "record schemaVersion must be one of 2, 3, 4, 5"


def test_a_run_start_link_that_is_not_a_string_is_named() -> None:
    child = RunBuilder("child", schema_version=5, operation_id="op")
    for name in ("parentRunId", "triggeredBySpanId"):
        record = child.run_start(parentRunId="op", triggeredBySpanId="s")
        disposition, _ = validate_record(0, {**record, name: 5}, 5)
        assert disposition.code == "invalid_record"
        assert disposition.message == f"run:start: {name} must be a string"


def test_valid_records_of_every_type_are_accepted() -> None:
    run = RunBuilder("run_v")
    records = [
        run.run_start(),
        run.span_start("a", "agent.run"),
        run.span("t", "tool.call", parent="a"),
        run.event("a", "usage.observed", attributes={"inputTokens": 1}),
        run.artifact("a", "custom.thing"),
        run.edge("a", "t", "custom.link"),
        run.span_end("a"),
        run.run_end(),
    ]
    for i, record in enumerate(records):
        disposition, wire = validate_record(i, record)
        assert (disposition.outcome, disposition.code, disposition.index) == (
            "accepted",
            "accepted",
            i,
        )
        assert disposition.recordId == record["recordId"]
        assert wire is not None and wire.type == record["type"]


@pytest.mark.parametrize(
    ("mutate", "code", "message"),
    [
        (lambda r: r.update(schemaVersion=1), "unsupported_schema_version", "schemaVersion"),
        (lambda r: r.pop("schemaVersion"), "unsupported_schema_version", "schemaVersion"),
        (lambda r: r.update(recordId=""), "invalid_record", "recordId"),
        (lambda r: r.update(runId=7), "invalid_record", "runId"),
        (lambda r: r.pop("segmentId"), "missing_segment_identity", "missing v2 segment identity"),
        (lambda r: r.update(segmentSeq=0), "missing_segment_identity", "segment identity"),
        (lambda r: r.update(segmentSeq="1"), "missing_segment_identity", "segment identity"),
        (lambda r: r.update(segmentSeq=2**64), "missing_segment_identity", "segment identity"),
        # the largest is 2**63 - 1 (a signed 64-bit integer, as Crux's Go backend stores it)
        (lambda r: r.update(segmentSeq=2**63), "missing_segment_identity", "segment identity"),
        (lambda r: r.update(segmentSeq=2), "invalid_record", "segmentSeq 1"),
        (lambda r: r.update(rootPrimitive="nope.run"), "unknown_primitive", "nope.run"),
        (lambda r: r.update(name=12), "invalid_record", "$.name"),
        (lambda r: r.pop("type"), "invalid_record", "type"),
    ],
)
def test_run_start_rejections(mutate: Any, code: str, message: str) -> None:
    record = RunBuilder("r").run_start()
    mutate(record)
    disposition, wire = validate_record(3, record)
    assert disposition.outcome == "rejected"
    assert disposition.code == code
    assert message in (disposition.message or "")
    assert disposition.retryable is False and disposition.index == 3
    assert wire is None


def test_span_primitive_and_family_rules() -> None:
    run = RunBuilder("r")
    assert (
        code_of({**run.span_start("s", "tool.call"), "primitive": "tool.bogus"})
        == "unknown_primitive"
    )
    assert code_of({**run.span_start("s", "tool.call"), "family": "agent"}) == "family_mismatch"
    complete = run.span("s", "tool.call")
    del complete["family"]
    assert code_of(complete) == "family_mismatch"
    assert code_of({**run.span_start("s", "tool.call"), "spanId": ""}) == "invalid_record"


def test_artifact_kind_and_edge_type_rules() -> None:
    run = RunBuilder("r")
    assert code_of(run.artifact("s", "output")) == "accepted"
    assert code_of(run.artifact("s", "custom.x")) == "accepted"
    assert code_of(run.artifact("s", "custom.")) == "invalid_artifact_kind"
    assert code_of(run.artifact("s", "pictures")) == "invalid_artifact_kind"
    assert code_of(run.edge("a", "b", "caused")) == "accepted"
    assert code_of(run.edge("a", "b", "likes")) == "invalid_edge_type"


def test_wrong_json_types_give_precise_messages() -> None:
    run = RunBuilder("r")
    disposition, _ = validate_record(0, {**run.span_end("s"), "durationMs": "slow"})
    assert disposition.code == "invalid_record"
    assert "$.durationMs" in (disposition.message or "")
    disposition, _ = validate_record(0, {**run.edge("a", "b"), "from": "span:a"})
    assert "$.from" in (disposition.message or "")
    assert code_of("not an object") == "invalid_record"
    assert code_of(None) == "invalid_record"


def test_unknown_record_types_are_accepted_but_not_typed() -> None:
    record = RunBuilder("r")._record("run:teleport", anything={"x": 1}, name=5)
    disposition, wire = validate_record(0, record)
    assert disposition.outcome == "accepted" and wire is None


def test_check_batch() -> None:
    records, version, health = check_batch(batch([{"a": 1}], source_health={"sourceId": "s"}))
    assert records == [{"a": 1}] and version == 2 and health == {"sourceId": "s"}
    assert [check_batch({"schemaVersion": v, "records": []})[1] for v in (2, 3, 4, 5)] == [
        2,
        3,
        4,
        5,
    ]
    assert check_batch({"records": []})[1] is None
    for unsupported in (1, 6, True, "5", 5.0):
        assert check_batch({"schemaVersion": unsupported, "records": []})[1] is None
    for bad in ([], "x", {"records": {}}, {"schemaVersion": 2}):
        with pytest.raises(BatchError):
            check_batch(bad)


def test_batch_version_dispositions() -> None:
    out = batch_version_dispositions([{"recordId": "a"}, 5])
    assert [(d.index, d.recordId, d.code) for d in out] == [
        (0, "a", "unsupported_schema_version"),
        (1, "", "unsupported_schema_version"),
    ]
    assert all(d.message == "unsupported observability batch schema version" for d in out)
    # sending the same batch again cannot succeed: not retryable (false, not unknown)
    assert all(d.outcome == "rejected" and d.retryable is False for d in out)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(
        ["run:start", "span:start", "span", "span:end", "span:event", "edge", "artifact"]
    ),
    overrides=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "spanId",
                "primitive",
                "family",
                "from",
                "kind",
                "edgeType",
                "metrics",
                "durationMs",
                "segmentSeq",
                "recordId",
                "type",
                "attributes",
                "sizeBytes",
            ]
        ),
        json_values,
        max_size=4,
    ),
)
def test_validation_never_raises(base: str, overrides: dict[str, Any]) -> None:
    run = RunBuilder("r")
    record = {
        "run:start": run.run_start,
        "span:start": lambda: run.span_start("s"),
        "span": lambda: run.span("s"),
        "span:end": lambda: run.span_end("s"),
        "span:event": lambda: run.event("s"),
        "edge": lambda: run.edge("a", "b"),
        "artifact": lambda: run.artifact("s"),
    }[base]()
    record.update(overrides)
    disposition, wire = validate_record(0, record)
    assert disposition.outcome in ("accepted", "rejected")
    assert (wire is None) or disposition.outcome == "accepted"


def test_a_span_without_a_primitive_is_rejected_saying_the_primitive_is_required() -> None:
    """crux-v5.md: every span names a known primitive; absent or empty, the rejection
    (``unknown_primitive``) says it is required rather than naming an unknown one."""
    start = RunBuilder("r").span_start("s", "tool.call")
    absent = {key: value for key, value in start.items() if key != "primitive"}
    for record in (absent, {**start, "primitive": ""}):
        disposition, wire = validate_record(0, record)
        assert (disposition.code, disposition.message) == (
            "unknown_primitive",
            "primitive is required",
        )
        assert wire is None
