"""JSON and JSON-lines files read while another process writes them.

A running experiment appends to ``result.json`` and rewrites its state files; a reader may see
a last line cut in half or a file replaced midway. A line that does not parse is skipped (the
next read sees it whole), and each file's parsed content is kept until its size or modification
time changes, so that a page polled every few seconds reads only the files that grew.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

_cache: dict[Path, tuple[tuple[int, int], Any]] = {}
_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _cached(path: Path, parse: Any) -> Any:
    stamp = _stamp(path)
    if stamp is None:
        return None
    with _lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        value = parse(path.read_bytes())
    except OSError:
        return None
    with _lock:
        _cache[path] = (stamp, value)
    return value


def _parse_lines(data: bytes) -> list[dict[str, Any]]:
    rows = []
    for line in data.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # empty, or a line still being written
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _parse_document(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None  # a file caught while it is rewritten


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The whole JSON objects of a JSON-lines file, one per line; ``[]`` if it is missing."""
    return _cached(path, _parse_lines) or []


def json_document(path: Path) -> Any:
    """The parsed JSON of ``path``; None when it is missing or caught half written."""
    return _cached(path, _parse_document)


def clear() -> None:
    """Forget every file read: the next read of each parses it again."""
    with _lock:
        _cache.clear()
