"""Pausing the cyclic garbage collector around bulk allocation.

Decoding, assembling and projecting a big run allocate hundreds of thousands of acyclic
objects; the collector's generation passes over them cost more than the work itself.
:func:`no_gc` pauses it, counting nested and concurrent users (the collector is
process-wide), and re-enables it when the last one leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_users = 0
_was_enabled = True


@contextmanager
def no_gc() -> Iterator[None]:
    """Run the block with the cyclic GC paused (reference counting still frees memory)."""
    global _users, _was_enabled
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _was_enabled:
                gc.enable()
