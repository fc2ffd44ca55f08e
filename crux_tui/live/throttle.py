"""``token.chunk`` bursts (one event per span every 80 ms while a model streams) thinned to
"this run changed" at most once per interval. Pure: the caller passes the clock."""

from __future__ import annotations

from crux_tui.contract.models import ObservabilityEvent

#: How often a streaming run is reported changed.
TOKEN_INTERVAL = 1.0
#: Runs remembered without a held event are forgotten past this many.
_MAX_REMEMBERED = 1024


def _run_of(event: ObservabilityEvent) -> str:
    payload = event.payload or {}
    run_id = payload.get("runId")
    return event.refId or (run_id if isinstance(run_id, str) else "")


class TokenThrottle:
    """Per run: the first ``token.chunk`` of a burst passes at once; the ones after it,
    within ``interval``, are held, and the latest held one passes when the interval ends
    (so the last text of a burst is never lost)."""

    def __init__(self, interval: float = TOKEN_INTERVAL) -> None:
        self.interval = interval
        self._passed: dict[str, float] = {}
        self._held: dict[str, ObservabilityEvent] = {}

    def offer(self, event: ObservabilityEvent, now: float) -> ObservabilityEvent | None:
        """``event`` if it may pass now, else ``None`` (held for :meth:`due`)."""
        run = _run_of(event)
        last = self._passed.get(run)
        if last is None or now - last >= self.interval:
            self._forget_idle(now)
            self._passed[run] = now
            self._held.pop(run, None)
            return event
        self._held[run] = event
        return None

    def next_due(self) -> float | None:
        """When the earliest held event may pass (``None``: nothing held)."""
        if not self._held:
            return None
        return min(self._passed[run] for run in self._held) + self.interval

    def due(self, now: float) -> list[ObservabilityEvent]:
        """The held events whose interval has ended (they count as passed now)."""
        ready = [run for run in self._held if now - self._passed[run] >= self.interval]
        out = []
        for run in ready:
            out.append(self._held.pop(run))
            self._passed[run] = now
        return out

    def _forget_idle(self, now: float) -> None:
        if len(self._passed) < _MAX_REMEMBERED:
            return
        for run, last in list(self._passed.items()):
            if run not in self._held and now - last >= self.interval:
                del self._passed[run]
