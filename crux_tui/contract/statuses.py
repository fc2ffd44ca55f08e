"""The status vocabulary: names, the sets and ranks rules use, severities, glyphs and words.

One place for every rule about a run's or span's ``status`` string (and the live
connection's state), shared by the embedded backend (projection, list rows, events), the
symptoms, the pure timeline and the app. Styles and colours are not here:
``crux_tui/app/theme.py`` gives each status and severity its look.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- names

RUNNING = "running"
OK = "ok"
#: A synonym of ``ok`` some producers write.
SUCCESS = "success"
ERROR = "error"
BLOCKED = "blocked"
CANCELLED = "cancelled"
SUSPENDED = "suspended"
SKIPPED = "skipped"
#: Reconciled: a deadline expired before the span or run ended (presentation.md R4, R5).
INCOMPLETE = "incomplete"
#: Reconciled: no activity or an expired lease (R2, R7).
STALE = "stale"
#: An operation whose member runs disagree about their topology (crux-v5.md B.4).
CONFLICTED = "conflicted"
#: A child run's effective status in the operation counts (crux-v5.md C.2).
FAILED = "failed"

# --------------------------------------------------------------------------- sets

#: A boundary's terminal ack may name one of these; anything else reads as ``ok`` (R1).
ACK_STATUSES = frozenset({OK, ERROR, CANCELLED, SUSPENDED, SKIPPED})
#: Statuses after which a run or span will not change by itself (not ``stale``: records
#: may still arrive).
TERMINAL_STATUSES = frozenset(
    {OK, SUCCESS, ERROR, CANCELLED, SUSPENDED, INCOMPLETE, SKIPPED, BLOCKED}
)
#: Statuses after which a run is not polled every second: it ended, or the backend
#: reconciled it (no terminal record will come by itself), or its topology conflicts.
SETTLED_STATUSES = TERMINAL_STATUSES | {STALE, CONFLICTED}
#: "No terminal record arrived; the backend reconciled it": never shown as running.
RECONCILED_STATUSES = frozenset({INCOMPLETE, STALE})
#: A span or run with one of these and no end has no end record of its own (§6
#: ``missing-span-end``).
NO_END_STATUSES = frozenset({RUNNING, STALE})
#: Count as errors (navigation, colouring, waterfall bars).
ERROR_STATUSES = frozenset({ERROR, BLOCKED, CANCELLED})
#: Statuses a node only shows for itself (nothing to trace back to a descendant).
OWN_STATUSES = frozenset({"", OK, SUCCESS, SKIPPED, RUNNING})
#: A quiet governance span (a passed guardrail) folds when it ended with one of these (§3.3).
QUIET_STATUSES = frozenset({OK, SKIPPED})
#: A run that ended with one of these is presented with what its tree rolled up ...
ENDED_STATUSES = frozenset({OK, SUCCESS, SKIPPED, ERROR, BLOCKED, CANCELLED, SUSPENDED})
#: ... when it is one of these (a span failed, or a flow waits, inside the run).
ROLLED_UP_RUN_STATUSES = frozenset({ERROR, BLOCKED, CANCELLED, SUSPENDED})
#: Effective statuses that count a child run as failed (crux-v5.md B.2, C.2).
FAILED_CHILD_STATUSES = frozenset({ERROR, BLOCKED, CANCELLED, CONFLICTED, INCOMPLETE, FAILED})
#: Operation row statuses that keep its delivery health open (not settled).
OPEN_OPERATION_STATUSES = frozenset({"", RUNNING, INCOMPLETE, CONFLICTED})
#: A lifecycle event about a run reconciled to one of these is an error, else a warning (§7).
LIFECYCLE_ERROR_STATUSES = frozenset({ERROR, CANCELLED})


def is_settled(status: str | None) -> bool:
    """See :data:`SETTLED_STATUSES`."""
    return (status or "").lower() in SETTLED_STATUSES


def is_terminal_status(status: str | None) -> bool:
    """See :data:`TERMINAL_STATUSES`."""
    return (status or "").lower() in TERMINAL_STATUSES


# --------------------------------------------------------------------------- ranks

#: §4 status roll-up precedence, lowest wins: error > blocked > suspended > cancelled >
#: stale > incomplete > running > ok/success/skipped > anything else (:data:`OTHER_RANK`).
ROLL_UP_RANK: dict[str, int] = {
    ERROR: 0,
    BLOCKED: 1,
    SUSPENDED: 2,
    CANCELLED: 3,
    STALE: 4,
    INCOMPLETE: 5,
    RUNNING: 6,
    OK: 7,
    SUCCESS: 7,
    SKIPPED: 7,
}
OTHER_RANK = 8

#: R6 aggregate of terminal children, highest wins (``blocked`` ranks like ``ok`` here,
#: above ``suspended`` in :data:`ROLL_UP_RANK`; presentation.md §9).
TERMINAL_CHILDREN_RANK: dict[str, int] = {
    OK: 0,
    SKIPPED: 1,
    CANCELLED: 2,
    SUSPENDED: 3,
    INCOMPLETE: 4,
    STALE: 5,
    ERROR: 6,
}

# --------------------------------------------------------------------------- severities

SEVERITY_OK = "ok"
SEVERITY_ERROR = "error"
SEVERITY_WARN = "warn"
SEVERITY_INFO = "info"

#: status -> ``display.severity`` (presentation.md §4; crux-api.md 5.2); else ``info``.
SEVERITY_BY_STATUS: dict[str, str] = {
    OK: SEVERITY_OK,
    SUCCESS: SEVERITY_OK,
    SKIPPED: SEVERITY_OK,
    ERROR: SEVERITY_ERROR,
    CANCELLED: SEVERITY_ERROR,
    BLOCKED: SEVERITY_ERROR,
    "warn": SEVERITY_WARN,
    "warning": SEVERITY_WARN,
    STALE: SEVERITY_WARN,
    INCOMPLETE: SEVERITY_WARN,
    SUSPENDED: SEVERITY_WARN,
}


def severity_of(status: str) -> str:
    """The ``display.severity`` of a status (see :data:`SEVERITY_BY_STATUS`)."""
    return SEVERITY_BY_STATUS.get(status, SEVERITY_INFO)


# --------------------------------------------------------------------------- glyphs

#: status -> glyph. Glyphs differ per status so NO_COLOR still tells them apart.
STATUS_GLYPHS: dict[str, str] = {
    RUNNING: "◐",
    OK: "✓",
    SUCCESS: "✓",
    ERROR: "✗",
    BLOCKED: "■",
    CANCELLED: "⊘",
    SUSPENDED: "‖",
    INCOMPLETE: "◌",
    STALE: "◇",
    SKIPPED: "»",
}
#: The glyph of a status not in :data:`STATUS_GLYPHS`.
UNKNOWN_GLYPH = "·"

#: severity -> glyph (a diagnostic's, a note's).
SEVERITY_GLYPHS: dict[str, str] = {
    SEVERITY_ERROR: "✗",
    SEVERITY_WARN: "▲",
    "warning": "▲",
    SEVERITY_INFO: "i",
}

# --------------------------------------------------------------------------- topology health

#: ``topologyHealth`` of an operation (crux-v5.md B.4): healthy, :data:`INCOMPLETE` (a
#: member or its parent is missing) or :data:`CONFLICTED`.
HEALTHY = "healthy"
#: Worse health ranks higher (an operation takes its worst finding).
TOPOLOGY_RANK: dict[str, int] = {HEALTHY: 0, INCOMPLETE: 1, CONFLICTED: 2}
#: health -> (glyph, word). The glyphs differ from every status glyph, so the health
#: reads without colour.
TOPOLOGY_HEALTH: dict[str, tuple[str, str]] = {
    HEALTHY: ("⊕", "healthy"),
    INCOMPLETE: ("⊖", "incomplete"),
    CONFLICTED: ("⊗", "conflicted"),
}
#: An operation whose root run has not arrived ("Incomplete operation", B.5).
ROOT_MISSING = ("⊖", "no root")

# --------------------------------------------------------------------------- waterfall bars

#: What a span's bar on the time axis shows, by status.
BAR_DONE = "done"
BAR_RUNNING = "running"
BAR_INCOMPLETE = "incomplete"
BAR_STALE = "stale"
BAR_ERROR = "error"
BAR_UNKNOWN = "unknown"

#: bar kind -> the glyph its cells are drawn with (they differ without colour too).
BAR_GLYPHS: dict[str, str] = {
    BAR_DONE: "━",
    BAR_RUNNING: "╍",
    BAR_INCOMPLETE: "┅",
    BAR_STALE: "┄",
    BAR_ERROR: "━",
}


def bar_kind(status: str, open_ended: bool) -> str:
    """The bar a span with ``status`` gets (``open_ended``: running, no end yet)."""
    if status == STALE:
        return BAR_STALE
    if status == INCOMPLETE:
        return BAR_INCOMPLETE
    if status in ERROR_STATUSES:
        return BAR_ERROR
    if open_ended or status == RUNNING:
        return BAR_RUNNING
    return BAR_DONE


# --------------------------------------------------------------------------- connection

#: The live feed's connection states (``crux_tui.live.feed``) ...
CONNECTING = "connecting"
LIVE = "live"
RECONNECTING = "reconnecting"
POLLING = "polling"
OFFLINE = "offline"
#: ... -> (glyph, word); the glyphs differ so NO_COLOR still tells them apart.
CONNECTION_STATES: dict[str, tuple[str, str]] = {
    CONNECTING: ("…", "connecting"),
    LIVE: ("●", "live"),
    RECONNECTING: ("↻", "reconnecting"),
    POLLING: ("⟳", "polling"),
    OFFLINE: ("○", "offline"),
}
