"""Python's cyclic garbage collector paused while an experiment's files are read: a dashboard
request building its page's JSON, ``summary`` loading the reports.

Reading a big experiment makes millions of objects (1,000 trials x 100 reports: about
2.3 million dicts, lists and floats parsed from ``result.json``), none of them in a reference
cycle. Meanwhile the collector, triggered by the count of allocations, walks the growing heap
again and again: 40% of the dashboard's first request for that page. While a read is under way
the collector waits; reference counting still frees every object a read drops, and the
collector resumes, if it ran before, as the last read under way ends (the dashboard's requests
run in threads, several at once).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


class _Pauses:
    """How many reads hold the collector paused, and whether it ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.resume = False


_pauses = _Pauses()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """While open (in any thread), the cyclic collector does not run; usable as a decorator."""
    with _pauses.lock:
        if _pauses.holders == 0:
            _pauses.resume = gc.isenabled()
            gc.disable()
        _pauses.holders += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.holders -= 1
            if _pauses.holders == 0 and _pauses.resume:
                gc.enable()
