"""JSON and JSON-lines files read while another process writes them.

A running experiment appends to ``result.json`` and rewrites its state files; a reader may see
a last line cut in half or a file replaced midway. A line that does not parse is skipped (the
next read sees it whole), and each file's parsed content is kept until its stamp (size or
modification time, :class:`~raytune_hpo.storage.stamped.Store`) changes, so that a page polled
every few seconds reads only the files that grew, in a folder or in a bucket.
"""

from __future__ import annotations

import threading
from typing import Any

from raytune_hpo.storage import json_text, ray_state
from raytune_hpo.storage.stamped import Stamp, Store

_cache: dict[tuple[str, str], tuple[Stamp, Any]] = {}
_lock = threading.Lock()


def _cached(store: Store, path: str, parse: Any, stamp: Stamp | None = None) -> Any:
    stamp = stamp or store.stamp(path)
    if stamp is None:
        return None
    key = (str(store.root), path)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        value = parse(store.read(path))
    except OSError:
        return None
    with _lock:
        _cache[key] = (stamp, value)
    return value


def _parse_document(data: bytes) -> Any:
    try:
        return json_text.loads(data)
    except ValueError:
        return None  # a file caught while it is rewritten


def json_lines(store: Store, path: str, stamp: Stamp | None = None) -> list[dict[str, Any]]:
    """The whole JSON objects of a JSON-lines file, one per line; ``[]`` if it is missing.

    Args:
        stamp: The file's stamp when the caller has it already (from
            :meth:`~raytune_hpo.storage.stamped.Store.glob`): not asked for again.
    """
    return _cached(store, path, json_text.object_lines, stamp) or []


def json_document(store: Store, path: str) -> Any:
    """The parsed JSON of ``path``; None when it is missing or caught half written."""
    return _cached(store, path, _parse_document)


def _parse_state(data: bytes) -> list[ray_state.TrialState]:
    try:
        return ray_state.parse_state(data)
    except ValueError:
        return []  # a file caught while it is rewritten


def trial_states(store: Store, path: str) -> list[ray_state.TrialState]:
    """The trials of Ray's state file ``path`` (:func:`raytune_hpo.storage.ray_state.
    parse_state`); ``[]`` when it is missing or caught half written."""
    return _cached(store, path, _parse_state) or []


def text(store: Store, path: str) -> str | None:
    """The text of ``path`` (undecodable bytes replaced); None when it is missing."""
    return _cached(store, path, lambda data: data.decode(errors="replace"))


def clear() -> None:
    """Forget every file read: the next read of each parses it again."""
    with _lock:
        _cache.clear()
