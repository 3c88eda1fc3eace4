"""Values the pages derive from an experiment's trials (importance, fronts), computed again only
when a trial reports or ends.

A running experiment's page is fetched every few seconds; between two fetches most often nothing
changed. Each value is kept with the trials' :func:`signature` and reused while it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from raytune_hpo.dashboard.trials import Trials
from raytune_hpo.storage.stamped import Store

T = TypeVar("T")

_kept: dict[tuple[str, str, str], tuple[Hashable, Any]] = {}
_lock = threading.Lock()


def signature(trials: Trials) -> Hashable:
    """What changes when a trial reports, ends or starts: each trial's reports and status."""
    return tuple(
        (trial_id, len(trials.reports.get(trial_id, ())), row["status"])
        for trial_id, row in trials.rows.items()
    )


def derived(kind: str, store: Store, folder: str, trials: Trials, compute: Callable[[], T]) -> T:
    """``compute()``, or the value it gave for the same ``kind``, folder and trials' signature."""
    key, mark = (kind, str(store.root), folder), signature(trials)
    with _lock:
        hit = _kept.get(key)
    if hit is not None and hit[0] == mark:
        return hit[1]
    value = compute()
    with _lock:
        _kept[key] = (mark, value)
    return value
