"""The viewer's book of symptoms: local symptoms per operation and revision, cross-run facts
from RunDetails or list rows, and when an operation needs reading again."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from crux_tui.demo import symptoms as sym
from crux_tui.symptoms import SymptomBook, analyse
from tests.symptoms.projected import project, records_of

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_cross_run_symptoms_appear_when_the_other_run_is_known() -> None:
    details = project(records_of(sym._weekly_report(random.Random(1), NOW)), NOW)
    parent, child = details["run_weekly_report"], details["run_weekly_summarize"]
    book = SymptomBook()
    assert book.symptoms("run_weekly_report") is None  # never analysed
    local, facts = analyse(parent)
    book.note("run_weekly_report", 3, local, facts, at=0.0, settled=True)
    assert book.symptoms("run_weekly_report") == []
    version = book.version
    book.note_rows([child.run])  # the child's list row is enough for the caller's side
    assert book.version > version
    assert [s.code for s in book.symptoms("run_weekly_report")] == ["child-action-separate-run"]
    assert book.symptoms("run_weekly_summarize") is None  # its side needs its RunDetail
    local, facts = analyse(child)
    book.note("run_weekly_summarize", 1, local, facts, at=0.0, settled=True)
    assert book.count("run_weekly_summarize") == 1


def test_when_an_operation_is_read_again() -> None:
    details = project(records_of(sym.unnamed_tool(random.Random(1), NOW)), NOW)
    local, facts = analyse(details["run_unnamed_tool"])
    book = SymptomBook()
    assert not book.is_current("run_unnamed_tool", 1, 0.0, every=10)
    book.note("run_unnamed_tool", 1, local, facts, at=100.0, settled=False)
    assert book.is_current("run_unnamed_tool", 1, 500.0, every=10)  # same revision
    assert book.is_current("run_unnamed_tool", 2, 105.0, every=10)  # running, read 5 s ago
    assert not book.is_current("run_unnamed_tool", 2, 111.0, every=10)
    book.note("run_unnamed_tool", 2, local, facts, at=111.0, settled=True)
    assert not book.is_current("run_unnamed_tool", 3, 112.0, every=10)  # settled, then moved
