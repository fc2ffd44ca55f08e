"""Member runs of an operation in the timeline (pure): where each child run sits under every
toggle, navigation between them, and hostile topologies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import msgspec
from gocrux import fixtures as fx

from crux_tui.contract.models import RunDetail
from crux_tui.timeline import (
    TimelineOptions,
    build_model,
    expand_all,
    layout,
    member_targets,
    reveal,
    step_target,
)

NOW = datetime(2026, 5, 16, 18, 0, 30, tzinfo=UTC)
SUM = f"run:{fx.CHILD_SUM}"
NOTIFY = f"run:{fx.CHILD_NOTIFY}"


def decode(body: dict[str, Any]) -> RunDetail:
    return msgspec.json.decode(msgspec.json.encode(body), type=RunDetail)


def chat() -> RunDetail:
    return decode(fx.chat_operation(NOW).detail)


def tree(detail: RunDetail, options: TimelineOptions) -> list[tuple[int, str, str]]:
    """(depth, label, member run) of every row, everything expanded."""
    rows = layout(build_model(detail), expand_all(options))
    return [(row.depth, row.label, row.member_run) for row in rows]


def test_child_runs_sit_under_the_span_that_started_them() -> None:
    assert tree(chat(), TimelineOptions()) == [
        (0, "support agent", ""),
        (1, "generate reply", ""),
        (1, "scheduler.runAfter summarize", ""),
        (2, "summarize:thread", fx.CHILD_SUM),
        (3, "summarize", ""),
        (1, "notifyUser", ""),
        # mounted on the operation root by the backend (its trigger span is folded into
        # notifyUser): hoisted to the row that shows the trigger, as any folded span
        (2, "notify:send", fx.CHILD_NOTIFY),
        (3, "sendEmail", ""),
    ]


def test_infrastructure_shown_puts_the_child_under_its_boundary() -> None:
    rows = tree(chat(), TimelineOptions(show_infrastructure=True))
    assert rows[5:] == [
        (1, "notifyUser", ""),
        (2, "ctx.runAction notify:send", ""),
        (3, "notify:send", fx.CHILD_NOTIFY),
        (4, "sendEmail", ""),
    ]
    # and hidden again, it stays visible (hoisted to notifyUser)
    assert (2, "notify:send", fx.CHILD_NOTIFY) in tree(chat(), TimelineOptions())


def test_canonical_parents_across_member_runs() -> None:
    for infra, notify_parent in ((False, "notifyUser"), (True, "ctx.runAction notify:send")):
        rows = tree(chat(), TimelineOptions(canonical_parents=True, show_infrastructure=infra))
        labels = [label for _, label, _ in rows]
        depth = {label: d for d, label, _ in rows}
        # a member run sits under its trigger span; its spans under the member run, even the
        # ones with no parent span of their own (sendEmail)
        assert labels[labels.index("scheduler.runAfter summarize") + 1] == "summarize:thread"
        assert labels[labels.index(notify_parent) + 1] == "notify:send"
        assert depth["notify:send"] == depth[notify_parent] + 1
        assert depth["sendEmail"] == depth["notify:send"] + 1
        assert depth["summarize"] == depth["summarize:thread"] + 1
        assert len(rows) == 8 + infra


def test_a_row_moved_by_canonical_parents_says_where_the_backend_presented_it() -> None:
    """With canonical parents, a row that left its presentation parent names it
    (``moved_from``); under the presentation no row does, not even one hoisted past a
    hidden boundary (notify:send under notifyUser)."""

    def moved(options: TimelineOptions) -> dict[str, str]:
        rows = layout(build_model(chat()), expand_all(options))
        return {row.label: row.moved_from for row in rows if row.moved_from}

    assert moved(TimelineOptions()) == {}
    assert moved(TimelineOptions(show_infrastructure=True)) == {}
    # mounted on the operation root by the backend, under its trigger's row here
    assert moved(TimelineOptions(canonical_parents=True)) == {"notify:send": "support agent"}
    both = TimelineOptions(canonical_parents=True, show_infrastructure=True)
    assert moved(both) == {"notify:send": "support agent"}


def test_each_member_is_shown_once() -> None:
    detail = chat()
    for options in (
        TimelineOptions(),
        TimelineOptions(show_infrastructure=True),
        TimelineOptions(canonical_parents=True),
        TimelineOptions(show_details=True),
    ):
        members = [m for _, _, m in tree(detail, options) if m]
        assert members == [fx.CHILD_SUM, fx.CHILD_NOTIFY]  # never memberRuns[].root again


def test_member_navigation_and_lookup_by_run_id() -> None:
    model = build_model(chat())
    options = TimelineOptions()
    targets = member_targets(model, options)
    assert targets == ["sp_sum_action", NOTIFY]  # keys: span id, else the run:<id> node id
    assert step_target(model, options, targets, "sp_gen", True) == "sp_sum_action"
    assert step_target(model, options, targets, "sp_sum_action", True) == NOTIFY
    assert step_target(model, options, targets, NOTIFY, True) == "sp_sum_action"  # wraps
    assert step_target(model, options, targets, "sp_gen", False) == NOTIFY
    # a member run is found by its node id, collapsed ancestors opened
    found = reveal(model, TimelineOptions(collapsed=frozenset({"sp_sched"})), SUM)
    assert found is not None and found.key == "sp_sum_action"
    assert "sp_sched" not in found.options.collapsed
    assert model.members[fx.CHILD_NOTIFY].triggeredBySpanId == "sp_boundary"


def test_incomplete_operation_keeps_its_orphan_child() -> None:
    detail = decode(fx.late_operation(NOW).detail)
    assert tree(detail, TimelineOptions()) == [
        (0, "Incomplete operation", ""),
        (1, "ingest:embed", fx.LATE_CHILD),
    ]
    assert tree(detail, TimelineOptions(canonical_parents=True)) == tree(detail, TimelineOptions())


def test_a_trigger_inside_the_member_itself_does_not_lose_rows() -> None:
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    body["memberRuns"][1]["triggeredBySpanId"] = "sp_sum_gen"  # its own child: a cycle
    body["memberRuns"][2]["triggeredBySpanId"] = "sp_missing"  # nowhere
    detail = decode(body)
    for options in (TimelineOptions(), TimelineOptions(canonical_parents=True)):
        rows = tree(detail, options)
        assert sorted(label for _, label, _ in rows) == sorted(
            [
                "support agent",
                "generate reply",
                "scheduler.runAfter summarize",
                "summarize:thread",
                "summarize",
                "notifyUser",
                "notify:send",
                "sendEmail",
            ]
        )


def test_a_mounted_member_run_missing_from_member_runs_stays_where_it_is_mounted() -> None:
    """A member run root the backend mounted but ``memberRuns`` does not list has no trigger
    span to move under: it stays where it is mounted, under every parent toggle."""
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    body["memberRuns"] = [m for m in body["memberRuns"] if m["run"]["runId"] != fx.CHILD_NOTIFY]
    detail = decode(body)
    for options in (TimelineOptions(), TimelineOptions(canonical_parents=True)):
        assert tree(detail, options)[5:] == [
            (1, "notifyUser", ""),
            (1, "notify:send", fx.CHILD_NOTIFY),  # on the operation root, as mounted
            (2, "sendEmail", ""),
        ]


def test_a_trigger_span_of_another_run_than_the_parent_is_not_followed() -> None:
    """``triggeredBySpanId`` names a span of the member's parent run; a span of that id in
    another run is not its trigger: the member stays where the backend mounted it."""
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    summarize = next(m for m in body["memberRuns"] if m["run"]["runId"] == fx.CHILD_SUM)
    summarize["triggeredBySpanId"] = "sp_notify_tool"  # a span of the notify child
    rows = tree(decode(body), TimelineOptions(canonical_parents=True))
    labels = [label for _, label, _ in rows]
    assert labels[labels.index("scheduler.runAfter summarize") + 1] == "summarize:thread"
    assert labels[labels.index("sendEmail") + 1 :] == []  # nothing moved under it


def test_a_v2_run_has_no_member_runs() -> None:
    body = fx.plain_operation(NOW).detail
    model = build_model(decode(body))
    assert model.member_runs == {} and member_targets(model, TimelineOptions()) == []


def test_the_operations_own_run_is_never_one_of_its_member_runs() -> None:
    """Member runs are the operation's *child* runs (crux-v5.md C.4 mounts non-root members
    only): a ``run:<operation>`` node below the root, as a hostile tree may carry, is not
    a member run and takes no member navigation stop."""
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    again = copy.deepcopy(body["root"]["children"][0])
    again.update(id=f"run:{body['run']['operationId']}", spanId="sp_again", name="again")
    again["display"]["label"] = "again"
    body["root"]["children"][0]["children"] = [again]
    detail = decode(body)
    model = build_model(detail)
    assert sorted(model.member_runs) == sorted([fx.CHILD_SUM, fx.CHILD_NOTIFY])
    assert member_targets(model, TimelineOptions()) == ["sp_sum_action", NOTIFY]
    assert (2, "again", "") in tree(detail, TimelineOptions())
