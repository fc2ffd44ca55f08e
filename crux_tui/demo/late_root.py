"""An operation whose root run arrives late: a nightly Convex cron schedules a digest
action, and the digest's records reach the backend before the cron's own. Until the root
arrives the runs list shows an "Incomplete operation" row; when it does, the same row
(same ``firstSeenAt``) turns into the cron's run with the digest mounted under its
schedule span. The demo posts it while you watch (:class:`LateRootFeeder`)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import httpx

from crux_tui.contract.vocabulary import SCHEMA_VERSION
from crux_tui.demo.builder import Record, RunBuilder
from crux_tui.demo.turns import MODEL, PROVIDER, schedule

LATE_OPERATION_ID = "run_nightly_digest"
LATE_CHILD_ID = "run_nightly_digest_compose"
LATE_NAME = "nightly digest (root arrived late)"
#: Seconds the demo waits before the root's records follow the child's.
ROOT_DELAY = 8.0


def late_operation_records(
    seed: int = 7, now: datetime | None = None
) -> tuple[list[Record], list[Record]]:
    """``(child records, root records)``: post the first, then, later, the second."""
    rng = random.Random(seed)
    start = (now or datetime.now(UTC)) - timedelta(seconds=20)
    root = RunBuilder(LATE_OPERATION_ID, LATE_NAME, "runtime.convex.action", start, rng)
    root.run_start({"functionRef": "crons:nightlyDigest"})
    action = root.start(
        "runtime.convex.action",
        "crons:nightlyDigest",
        1,
        None,
        attributes={"functionRef": "crons:nightlyDigest"},
    )
    trigger = schedule(root, action, 20, "digest:compose", child_ms=1800)
    root.end(action, 1, 40)
    root.run_end("ok", 45)

    child = RunBuilder(
        LATE_CHILD_ID,
        "digest:compose",
        "runtime.convex.action",
        start + timedelta(milliseconds=50),
        rng,
        operation_id=LATE_OPERATION_ID,
        trace_id=root.trace_id,
    )
    child.run_start(
        {"functionRef": "digest:compose"},
        parent_run_id=LATE_OPERATION_ID,
        triggered_by_span_id=trigger,
    )
    compose = child.start(
        "runtime.convex.action",
        "digest:compose",
        1,
        None,
        attributes={"functionRef": "digest:compose"},
    )
    gen = child.start(
        "generation.call", "summarize the day", 10, compose, model=MODEL, provider=PROVIDER
    )
    metrics = child.usage(gen, 1700, 5200, 310, 0.0141)
    child.artifact(gen, "output", 1705, "12 tickets closed, 2 refunds, 1 escalation.")
    child.end(gen, 10, 1710, metrics=metrics)
    child.end(compose, 1, 1760)
    child.run_end("ok", 1765)
    return child.records, root.records


class LateRootFeeder:
    """Posts the late operation from a daemon thread: the child's records at once, the
    root's ``delay`` seconds later (or as soon as :meth:`release` is called)."""

    def __init__(self, url: str, *, delay: float = ROOT_DELAY, seed: int = 7) -> None:
        self.url = url.rstrip("/")
        self.delay = delay
        self.seed = seed
        self.errors = 0
        self._release = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crux-demo-late-root", daemon=True)

    def start(self) -> LateRootFeeder:
        self._thread.start()
        return self

    def release(self) -> None:
        """Post the root now."""
        self._release.set()

    def stop(self) -> None:
        self._stopped.set()
        self._release.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        children, root = late_operation_records(self.seed)
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            self._post(client, children)
            self._release.wait(self.delay)
            if not self._stopped.is_set():
                self._post(client, root)

    def _post(self, client: httpx.Client, records: list[Record]) -> None:
        try:
            client.post(
                "/api/observability/records",
                json={"schemaVersion": SCHEMA_VERSION, "records": records},
            )
        except httpx.HTTPError:
            self.errors += 1  # the backend is going away; keep quiet
