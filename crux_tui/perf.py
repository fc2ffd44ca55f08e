"""Pausing the cyclic garbage collector around bulk allocation.

Decoding, assembling and projecting a big run allocate hundreds of thousands of acyclic
objects; the collector's generation passes over them cost more than the work itself.
:func:`no_gc` pauses it, counting nested and concurrent users (the collector is
process-wide), and re-enables it when the last one leaves.

Pausing only defers the cost: the first young pass after the block walks everything the
block made (150 ms and more for a 50k-span RunDetail, on whichever thread allocates
next, often the UI's). A block that made that much calls :func:`mark_bulk`; while an
:class:`IdleCollector` owns full passes, the pause then ends by moving every tracked
object past the young generations (``gc.freeze``, O(1)); they go back to the oldest one
(``gc.unfreeze``) just before the next full pass, which runs when the user is idle.
Small blocks (a runs page, a small run) promote nothing: their garbage stays with the
young passes.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_users = 0
_was_enabled = True
#: Set while an IdleCollector owns full passes: bulk pauses end by promoting.
_promote = False
#: The current pause made a bulk of objects (see :func:`mark_bulk`).
_bulk = False


def mark_bulk() -> None:
    """Say that the current :func:`no_gc` pause made a bulk of long-lived objects (a big
    RunDetail, its timeline model): at its end they skip the young generations."""
    global _bulk
    _bulk = True


@contextmanager
def no_gc(*, bulk: bool = False) -> Iterator[None]:
    """Run the block with the cyclic GC paused (reference counting still frees memory).

    ``bulk``: the block is known to make a bulk of long-lived objects (as :func:`mark_bulk`).
    """
    global _users, _was_enabled, _bulk
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
        _bulk = _bulk or bulk
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                if _promote and _bulk:
                    gc.freeze()  # no young pass walks the bulk; see IdleCollector
                _bulk = False
                if _was_enabled:
                    gc.enable()


class IdleCollector:
    """Moves full (oldest-generation) GC passes to moments when the user is idle.

    A full pass over an app's heap takes 100 ms or more and CPython starts one at
    whatever allocation tips the count over, typically while a screen is opening. While
    started, automatic full passes are off (young generations still collect as usual) and
    :meth:`tick` runs one when the heap grew by ``growth`` since the last full pass (the
    analogue of CPython's own 25 % rule) and the moment is right: no input and no work in
    flight for ``idle_after`` seconds, or ``force_after`` seconds without such a pause.
    """

    def __init__(
        self, idle_after: float = 1.0, force_after: float = 30.0, growth: float = 0.25
    ) -> None:
        self.idle_after = idle_after
        self.force_after = force_after
        self.growth = growth
        self.full_passes = 0
        self._saved: tuple[int, int, int] | None = None
        self._blocks_after_full = 0
        self._last_input = 0.0
        self._last_full = 0.0

    def start(self, now: float) -> None:
        """Take over full passes (remembering the thresholds to restore)."""
        global _promote
        if self._saved is not None:
            return
        _promote = True
        self._saved = gc.get_threshold()
        young, middle, _ = self._saved
        gc.set_threshold(young, middle, 1_000_000_000)
        self._blocks_after_full = sys.getallocatedblocks()
        self._last_input = self._last_full = now

    def stop(self) -> None:
        """Give full passes back to CPython (and the objects ``no_gc`` blocks promoted)."""
        global _promote
        if self._saved is not None:
            _promote = False
            gc.unfreeze()
            gc.set_threshold(*self._saved)
            self._saved = None

    @staticmethod
    def collect() -> None:
        """A full pass, over promoted objects too."""
        with _lock:
            gc.unfreeze()  # back into the oldest generation, walked by this pass
        gc.collect()

    def note_input(self, now: float) -> None:
        """The user pressed a key or used the mouse."""
        self._last_input = now

    def due(self) -> bool:
        """Whether a full pass is wanted: the heap grew by ``growth`` since the last one.

        (CPython also counts middle-generation passes, but promoting a block resets the
        counts: growth alone decides.)
        """
        if self._saved is None:
            return False
        return sys.getallocatedblocks() > self._blocks_after_full * (1 + self.growth)

    def tick(self, now: float, busy: bool = False) -> bool:
        """Run a full pass if one is due and the moment is right; True if it ran.

        ``busy``: the app is fetching or laying out (a pass now would delay what the user
        waits for); it counts like input.
        """
        if busy:
            self._last_input = now
        # the heap shrank (a big run was closed): measure growth from there
        self._blocks_after_full = min(self._blocks_after_full, sys.getallocatedblocks())
        if not self.due():
            return False
        idle = now - self._last_input >= self.idle_after
        if not idle and now - self._last_full < self.force_after:
            return False
        self.collect()
        self.full_passes += 1
        self._last_full = now
        self._blocks_after_full = sys.getallocatedblocks()
        return True
