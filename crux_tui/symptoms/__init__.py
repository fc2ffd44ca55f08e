"""Symptoms: the instrumentation mistakes of the Convex observability guide's "Common
Symptoms" table, recognised in a RunDetail, each with the spans that show it, the evidence
and the fix. Pure (no Textual, no I/O): :func:`diagnose` is a function of a RunDetail, the
runs around it and, optionally, the clock."""

from __future__ import annotations

from .book import SymptomBook, analyse
from .catalog import KIND_BY_CODE, KINDS, Kind, Symptom
from .child_action import RunFacts, facts_of, facts_of_row, separate_child_runs
from .diagnose import diagnose, facts, local_symptoms, ordered

__all__ = [
    "KINDS",
    "KIND_BY_CODE",
    "Kind",
    "RunFacts",
    "Symptom",
    "SymptomBook",
    "analyse",
    "diagnose",
    "facts",
    "facts_of",
    "facts_of_row",
    "local_symptoms",
    "ordered",
    "separate_child_runs",
]
