"""App figures (headless ``run_test``): open to first paint, toggles, cursor, live, and
the same for a plain ``textual.widgets.Tree`` as a reference."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Tree

from benchmarks.common import Result
from crux_tui.app.main import make_app
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.widgets.timeline_view import TimelineView
from crux_tui.backend.process import BackendProcess
from crux_tui.contract.models import RunDetail, items
from crux_tui.contract.vocabulary import SCHEMA_VERSION
from crux_tui.demo import scaled_run_records
from crux_tui.loading import load_records

SIZE = (120, 40)
#: the names of the two figures the open/Tree ratio divides
READY_FIRST = "open, projection ready -> first paint"
COLD_FIRST = "open, projected on request -> first paint"
RESTART_FIRST = "open after a backend restart (kept body) -> first paint"
RESTART_RATIO = "open after a backend restart / Tree fill + first paint"
COLD_RATIO = "open, projected on request / Tree fill + first paint"
TREE_FILL = "Tree: fill + first paint"
TREE_FIRST_LINE = "Tree: fill -> first line painted"
RATIO = "open (ready) first paint / Tree fill + paint"
RATIO_FIRST_LINE = "open (ready) first paint / Tree first line"


def _load(url: str, records: list[dict[str, Any]]) -> None:
    """POST ``records`` (setup, before any app runs; ``load_records`` runs its own loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        problems = pool.submit(load_records, url, records).result()
    assert not problems, problems[:3]


async def _until(
    predicate: Callable[[], Any],
    timeout: float = 120,
    what: str | Callable[[], str] = "the app did not get there",
) -> None:
    """Until ``predicate()`` holds; ``TimeoutError`` saying ``what`` after ``timeout`` s."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            said = what if isinstance(what, str) else what()
            raise TimeoutError(f"benchmark: {said} (after {timeout:.0f} s)")
        await asyncio.sleep(0.002)


def _open(app: Any, run_id: str) -> None:
    """Open the run screen from inside the app (as Enter on the runs list does)."""
    app.call_later(app.push_screen, RunScreen(run_id))


class _Paints:
    """Records the first moment a timeline renders a line while each named predicate holds.

    ``_Paints(first=lambda view: True)`` records the first painted row of a laid-out run.
    """

    def __init__(self, **ready: Callable[[Any], bool]) -> None:
        self.ready = ready
        self.at: dict[str, float] = {}
        self._original = TimelineView.render_line

    def __enter__(self) -> _Paints:
        original, probe = self._original, self

        def spy(view: Any, y: int) -> Any:
            strip = original(view, y)
            if view.rows is not None and len(view.rows):
                for name, ready in probe.ready.items():
                    if name not in probe.at and ready(view):
                        probe.at[name] = time.perf_counter()
            return strip

        TimelineView.render_line = spy  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        TimelineView.render_line = self._original  # type: ignore[method-assign]

    async def wait(self, name: str) -> float:
        """Until the paint ``name`` happened; its moment."""
        await _until(lambda: name in self.at, what=f"no {name!r} paint")
        return self.at[name]


def _whole(view: Any) -> bool:
    """The run screen shows the whole RunDetail, not the preview painted from its rows."""
    return not getattr(view.screen, "partial", True)


async def _open_by_key(app: Any, run_id: str) -> tuple[float, float]:
    """Enter on the run in the runs list, as a user presses it -> (first painted row, first
    paint of the whole run) in ms. Big runs paint their rows before the rest arrives."""
    from crux_tui.app.screens.runs import RunsScreen

    await _until(
        lambda: isinstance(app.screen, RunsScreen) and app.screen.selected_run_id() == run_id,
        what=lambda: f"the runs list did not select the run (screen {app.screen!r})",
    )
    await _idle(app)
    with _Paints(first=lambda view: True, whole=_whole) as probe:
        start = time.perf_counter()
        app.post_message(events.Key("enter", "\r"))
        painted = await probe.wait("first")
        whole = await probe.wait("whole")
    return (painted - start) * 1000, (whole - start) * 1000


async def _idle(app: Any) -> None:
    """Until the app has no work in flight (the runs list read, its symptom pass, the last
    screen's workers), then a moment more: an open is timed from an idle runs list."""

    def running() -> str:
        return ", ".join(sorted(w.name or w.group for w in app.workers if w.is_running))

    await _until(lambda: not running(), what=lambda: f"workers still running: {running()}")
    await asyncio.sleep(0.2)
    await _until(lambda: not running(), what=lambda: f"workers still running: {running()}")


def _loaded(app: Any) -> bool:
    """The run screen is up and its timeline has laid out the whole run."""
    screen = app.screen
    if not isinstance(screen, RunScreen):
        return False
    views = screen.query(TimelineView)  # empty until the screen has composed
    rows = bool(views) and views.first().rows is not None and len(views.first().rows) > 0
    return rows and not screen.partial


def _ui_work(view: Any, action: Callable[[], None], lines: int | None = None) -> float:
    """Milliseconds of UI-thread work: the action plus rendering the visible lines."""
    start = time.perf_counter()
    action()
    for y in range(lines if lines is not None else view.size.height):
        view.render_line(y)
    return (time.perf_counter() - start) * 1000


async def _open_and_toggle_once(
    app: Any,
    run_id: str,
    opens: dict[str, list[float]],
    toggles: dict[str, list[float]] | None,
    ready_opens: int = 1,
) -> None:
    """Open cold, go back, open again (projection ready) ``ready_opens`` times; then time
    the toggles."""
    async with app.run_test(size=SIZE) as pilot:
        first, whole = await _open_by_key(app, run_id)
        opens["cold first"].append(first)
        opens["cold whole"].append(whole)
        # Back, and open it again: the projection is ready (as when the backend projected
        # the run in the background when it ended).
        for _ in range(ready_opens):
            app.pop_screen()
            first, whole = await _open_by_key(app, run_id)
            opens["ready first"].append(first)
            opens["ready whole"].append(whole)
        if toggles is None:
            return
        view = app.screen.timeline
        await pilot.pause(0.5)  # let the worker warm the other toggle layouts
        for _ in range(3):
            for action in (view.action_toggle_infrastructure, view.action_toggle_infrastructure):
                toggles["infrastructure"].append(_ui_work(view, action))
            for action in (view.action_toggle_canonical, view.action_toggle_canonical):
                toggles["canonical parents"].append(_ui_work(view, action))
            toggles["expand all"].append(_ui_work(view, view.action_expand_all))
            toggles["expand all"].append(_ui_work(view, view.action_collapse_all))
            for _ in range(5):
                toggles["cursor move"].append(_ui_work(view, view.action_cursor_down, 2))
            await pilot.pause()


@contextlib.contextmanager
def stored_run(size: int) -> Iterator[tuple[str, str]]:
    """``(db path, run id)``: a SQLite file holding a run of ``size`` spans, loaded through
    ``POST /records`` into the embedded backend (a child process, as ``open`` runs it)."""
    records = scaled_run_records(size)
    with tempfile.TemporaryDirectory(prefix="crux-bench-") as tmp:
        db = str(Path(tmp) / "runs.db")
        with BackendProcess(db=db) as loader:
            _load(loader.url, records)
        yield db, records[0]["runId"]


def _drop_kept_bodies(db: str) -> None:
    """Forget the RunDetail bodies a backend kept in ``db`` (its next start must project)."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DELETE FROM stored_bodies")


async def _open_restarted(app: Any, run_id: str, opens: dict[str, list[float]]) -> None:
    async with app.run_test(size=SIZE):
        first, whole = await _open_by_key(app, run_id)
        opens["restart first"].append(first)
        opens["restart whole"].append(whole)


def served_body(size: int) -> bytes:
    """The RunDetail body the embedded backend serves for a stored run of ``size`` spans."""
    with stored_run(size) as (db, run_id), BackendProcess(db=db) as backend:
        answer = httpx.get(f"{backend.url}/api/observability/runs/{run_id}", timeout=600)
        return answer.raise_for_status().content


async def open_and_toggle(
    size: int, repeat: int, *, interact: bool, bodies: list[bytes] | None = None
) -> list[Result]:
    """Open figures (cold, then projection ready: three opens a process up to 10k spans),
    toggles when ``interact``; ``bodies`` gets the RunDetail body the backend served."""
    opens: dict[str, list[float]] = {
        "cold first": [],
        "cold whole": [],
        "ready first": [],
        "ready whole": [],
        "restart first": [],
        "restart whole": [],
    }
    toggles: dict[str, list[float]] = {
        "infrastructure": [],
        "canonical parents": [],
        "expand all": [],
        "cursor move": [],
    }
    with stored_run(size) as (db, run_id):
        for rep in range(repeat):
            # Cold: a backend process just started on the stored run has nothing projected,
            # decoded or kept yet.
            _drop_kept_bodies(db)
            with BackendProcess(db=db) as backend:
                app = make_app(backend.url, start_feed=False)
                measure_toggles = toggles if interact and not rep else None
                ready_opens = 3 if size <= 10_000 else 1
                await _open_and_toggle_once(app, run_id, opens, measure_toggles, ready_opens)
                if bodies is not None and not bodies:
                    answer = httpx.get(
                        f"{backend.url}/api/observability/runs/{run_id}", timeout=600
                    )
                    bodies.append(answer.raise_for_status().content)
            # Restarted: that process kept the projected body with the records as it stopped.
            with BackendProcess(db=db) as backend:
                await _open_restarted(make_app(backend.url, start_feed=False), run_id, opens)
    target = {50_000: 1000, 100_000: 2000}.get(size)
    names = {
        "cold first": COLD_FIRST,
        "cold whole": "open, projected on request -> whole run shown",
        "ready first": READY_FIRST,
        "ready whole": "open, projection ready -> whole run shown",
        "restart first": RESTART_FIRST,
        "restart whole": "open after a backend restart (kept body) -> whole run shown",
    }
    results = []
    for key, name in names.items():
        value = statistics.median(opens[key])
        goal = target if key.endswith("first") else None
        results.append(
            Result(
                "app",
                name,
                size,
                value,
                "ms",
                f"< {goal:,} ms" if goal else "",
                (value < goal) if goal else None,
                opens[key],
            )
        )
    for name, samples in toggles.items():
        if samples:
            value = statistics.median(samples)
            results.append(
                Result(
                    "app",
                    f"{name} (UI-thread work)",
                    size,
                    value,
                    "ms",
                    "< 50 ms",
                    value < 50,
                    samples,
                )
            )
    return results


def _live_run(size: int) -> list[dict[str, Any]]:
    """A run of ``size`` spans whose last record is now: a run that goes on (not one the
    lifecycle ticker finds quiet for an hour, or one that ends in the future)."""
    from datetime import UTC, datetime

    def last(records: list[dict[str, Any]]) -> datetime:
        return datetime.fromisoformat(records[-1]["endedAt"].replace("Z", "+00:00"))

    now = datetime.now(UTC)
    draft = scaled_run_records(size, now=now)
    return scaled_run_records(size, now=now + (now - last(draft)))


def _probe_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's records with one more span (``live probe``) under the agent, posted
    while the run goes on; it takes the segment position of the agent's ``span:end``, which
    (with ``run:end``) moves one place on."""
    import copy

    agent_end, run_end = records[-2:]
    seq = agent_end["segmentSeq"]
    probe = {
        key: records[1][key]
        for key in ("schemaVersion", "runId", "operationId", "segmentId", "traceId")
    }
    probe.update(
        recordId="rec_live_probe",
        type="span",
        segmentSeq=seq,
        spanId="live0probe0span0",
        parentSpanId=agent_end["spanId"],
        family="tool",
        primitive="tool.call",
        name="live probe",
        toolName="liveProbe",
        startedAt=agent_end["endedAt"],
        endedAt=agent_end["endedAt"],
        durationMs=1,
        status="ok",
    )
    ending = [copy.deepcopy(agent_end), copy.deepcopy(run_end)]
    ending[0]["segmentSeq"], ending[1]["segmentSeq"] = seq + 1, seq + 2
    return [*records[:-2], probe, *ending]


async def live(size: int, repeat: int) -> list[Result]:
    """Ingest that changes the open run -> the repainted view: a span arriving in the
    running run (it stays running), then the records that end it."""
    records = _probe_records(_live_run(size))
    run_id = records[0]["runId"]
    # the open run; the probe span it receives; the agent's span:end and run:end
    opening, probe, ending = records[:-3], records[-3:-2], records[-2:]
    samples: dict[str, list[float]] = {"span": [], "end": []}
    for _ in range(repeat):
        with BackendProcess() as backend:  # as `demo` and `open` run it
            _load(backend.url, opening)
            app = make_app(backend.url)
            async with (
                app.run_test(size=SIZE) as pilot,
                httpx.AsyncClient(base_url=backend.url) as client,
            ):
                _open(app, run_id)
                await _until(lambda app=app: _loaded(app) and app.feed_state == "live")
                await pilot.pause(0.3)
                screen = app.screen
                for key, batch, ready in (
                    ("span", probe, _shows_span(probe[0]["spanId"])),
                    ("end", ending, _shows_status(screen, "ok")),
                ):
                    # from a quiet view: no refetch in flight (the one the stream's
                    # first event asks for while the run opens is a whole projection)
                    await _until(lambda screen=screen: not screen.loader.busy)
                    await pilot.pause(0.2)
                    with _Paints(done=ready) as painted:
                        start = time.perf_counter()
                        await client.post(
                            "/api/observability/records",
                            json={"schemaVersion": SCHEMA_VERSION, "records": batch},
                        )
                        samples[key].append((await painted.wait("done") - start) * 1000)
                    await pilot.pause(0.3)
    target = {1000: 150, 10_000: 300}.get(size)
    names = {
        "span": "running run receives a span -> repainted run view (loopback)",
        "end": "ingest -> repainted run view (loopback)",
    }
    return [
        Result(
            "live",
            name,
            size,
            statistics.median(samples[key]),
            "ms",
            f"< {target} ms" if target else "",
            (statistics.median(samples[key]) < target) if target else None,
            samples[key],
        )
        for key, name in names.items()
    ]


def _shows_span(span_id: str) -> Callable[[Any], bool]:
    """The timeline's model holds ``span_id``."""

    def ready(view: Any) -> bool:
        model = view._model
        return model is not None and span_id in model.by_span_id

    return ready


def _shows_status(screen: Any, status: str) -> Callable[[Any], bool]:
    """The run screen shows the run with ``status``."""
    return lambda view: screen.detail is not None and screen.detail.run.status == status


class _TreeHost(App[None]):
    def __init__(self, detail: RunDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        yield Tree("run")


def _fill_tree(tree: Tree, detail: RunDetail) -> None:
    stack = [(tree.root, detail.root)]
    while stack:
        parent, node = stack.pop()
        for child in items(node.children):
            added = parent.add(child.display.label or child.spanId, expand=False)
            stack.append((added, child))
    tree.root.expand()


async def _tree_fill_and_paint(detail: RunDetail) -> tuple[float, float, list[Result]]:
    """One fresh app with a plain ``Tree``: fill it with the run's rows -> (ms until it is
    painted and idle, as ``Pilot.pause`` paints it; ms until its first line is painted);
    then expand all and cursor moves."""
    app = _TreeHost(detail)
    painted: list[float] = []
    original = Tree.render_line
    filling = False

    def spy(tree: Any, y: int) -> Any:
        if not painted and filling:
            painted.append(time.perf_counter())
        return original(tree, y)

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        tree = app.query_one(Tree)
        Tree.render_line = spy  # type: ignore[method-assign,assignment]
        try:
            start = time.perf_counter()
            filling = True
            _fill_tree(tree, detail)
            await pilot.pause()
            done = time.perf_counter()
            await _until(lambda: bool(painted))
        finally:
            Tree.render_line = original  # type: ignore[method-assign]
        fill, first_line = (done - start) * 1000, (painted[0] - start) * 1000
        rows = len(items(detail.rows))
        results = []
        start = time.perf_counter()
        tree.root.expand_all()
        await pilot.pause()
        expand = (time.perf_counter() - start) * 1000
        results.append(Result("tree", "Tree: expand all", rows, expand, "ms"))
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            tree.action_cursor_down()
            await pilot.pause()
            samples.append((time.perf_counter() - start) * 1000)
        move = statistics.median(samples)
        results.append(Result("tree", "Tree: cursor move", rows, move, "ms"))
    return fill, first_line, results


async def tree_reference(size: int, body: bytes, repeat: int = 1) -> list[Result]:
    """The same rows in a plain ``textual.widgets.Tree``: fill + first paint (the median of
    ``repeat`` fresh apps; also until its first line is painted), expand all and cursor
    moves (the last app)."""
    import msgspec

    detail = msgspec.json.decode(body, type=RunDetail)
    fills: list[float] = []
    first_lines: list[float] = []
    others: list[Result] = []
    for _ in range(repeat):
        fill, first_line, others = await _tree_fill_and_paint(detail)
        fills.append(fill)
        first_lines.append(first_line)
    return [
        Result("tree", TREE_FILL, size, statistics.median(fills), "ms", samples=fills),
        Result(
            "tree",
            TREE_FIRST_LINE,
            size,
            statistics.median(first_lines),
            "ms",
            samples=first_lines,
        ),
        *(replace(r, size=size) for r in others),
    ]


def open_to_tree_ratios(results: list[Result], size: int) -> list[Result]:
    """Open (projection ready) -> first paint over the Tree's fill + first paint (medians
    of the same run; the target: no slower than the Tree, <= 1), and over the Tree's fill
    until its first line is painted (the stricter reading: both to their first line)."""
    figures = {r.name: r for r in results if r.size == size}
    opened = figures.get(READY_FIRST)
    ratios = []
    for name, tree_name, target in (
        (RATIO, TREE_FILL, "<= 1"),
        (RATIO_FIRST_LINE, TREE_FIRST_LINE, ""),
    ):
        tree = figures.get(tree_name)
        if opened is None or tree is None or tree.value <= 0:
            continue
        ratio = opened.value / tree.value
        met = (ratio <= 1) if target else None
        ratios.append(Result("app", name, size, ratio, "x", target, met))
    return ratios


def cold_to_tree_ratios(results: list[Result], size: int) -> list[Result]:
    """Open on a backend just started on the stored run -> first paint, over the Tree's fill
    + first paint: served from the body the last process kept (target <= 3 at 10k and
    50k), and when the backend must project first."""
    figures = {r.name: r for r in results if r.size == size}
    tree = figures.get(TREE_FILL)
    ratios = []
    for name, opened_name, target in (
        (RESTART_RATIO, RESTART_FIRST, "<= 3" if size in (10_000, 50_000) else ""),
        (COLD_RATIO, COLD_FIRST, ""),
    ):
        opened = figures.get(opened_name)
        if opened is None or tree is None or tree.value <= 0:
            continue
        ratio = opened.value / tree.value
        ratios.append(
            Result("app", name, size, ratio, "x", target, (ratio <= 3) if target else None)
        )
    return ratios


_LOAD = """
import sys
from crux_tui.loading import load_records
from crux_tui.demo import scaled_run_records
problems = load_records(sys.argv[1], scaled_run_records(int(sys.argv[2])))
assert not problems, problems[:3]
"""


async def rss_open(size: int) -> tuple[float, float]:
    """Peak RSS (MB) of the viewer with a run of ``size`` spans open, and of the embedded
    backend serving it, each in its own process as ``demo`` and ``open`` run them.

    The records are generated and posted by a third process: the viewer's figure holds
    only what viewing costs.
    """
    import subprocess
    import sys
    from pathlib import Path

    from benchmarks.common import peak_rss_mb
    from crux_tui.backend.process import BackendProcess

    root = Path(__file__).resolve().parent.parent
    with BackendProcess() as backend:
        subprocess.run([sys.executable, "-c", _LOAD, backend.url, str(size)], check=True, cwd=root)
        app = make_app(backend.url, start_feed=False)
        async with app.run_test(size=SIZE) as pilot:
            _open(app, f"run_scale_{size}")
            await _until(lambda app=app: _loaded(app), timeout=900)
            await pilot.pause(1.0)
            assert backend.pid is not None
            return peak_rss_mb(), peak_rss_mb(backend.pid)
