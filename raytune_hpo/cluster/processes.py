"""This machine's processes as ``/proc`` lists them: command lines, children, descendants.

Linux only; where ``/proc`` cannot list processes every function finds none.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def command_line(pid: int) -> str:
    """The command line of process ``pid``, arguments joined by spaces; ``""`` when it is gone.

    A Ray worker names itself there by what it runs (``ray::IDLE`` while it waits for work).
    """
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def processes_naming(marker: str) -> list[int]:
    """Ids of the live processes whose command line (:func:`command_line`) holds ``marker``."""
    return [
        int(entry.name) for entry in PROC.glob("[0-9]*") if marker in command_line(int(entry.name))
    ]


def child_processes() -> dict[int, list[int]]:
    """Parent process id -> ids of its children, from ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        # The command name, in parentheses, may hold spaces; the parent id follows the state.
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(stat.parent.name))
    return children


def with_descendants(pids: Iterable[int]) -> list[int]:
    """``pids`` and every process below them, children before their parents."""
    children = child_processes()
    found: list[int] = []
    pending = list(pids)
    while pending:
        pid = pending.pop()
        if pid in found:
            continue
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found[::-1]
