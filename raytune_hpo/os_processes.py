"""This machine's processes as ``/proc`` lists them: command lines, children, descendants;
and ending them.

Linux only; where ``/proc`` cannot list processes every function finds none.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

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


def program(pid: int) -> str:
    """The program process ``pid`` runs (the first word of its command line); ``""`` if gone."""
    return command_line(pid).split(" ", 1)[0]


def processes_naming(marker: str) -> list[int]:
    """Ids of the live processes whose command line (:func:`command_line`) holds ``marker``."""
    return [
        int(entry.name) for entry in PROC.glob("[0-9]*") if marker in command_line(int(entry.name))
    ]


class ProcessStat(NamedTuple):
    """A process as ``/proc/PID/stat`` shows it."""

    pid: int
    state: str
    """``R`` running, ``S`` sleeping, ``T`` stopped, ``Z`` a zombie, ``X`` dead, ..."""
    parent: int
    group: int


def process_table() -> list[ProcessStat]:
    """Every process of this machine, from ``/proc/*/stat``."""
    table = []
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        # The command name, in parentheses, may hold spaces; state, parent and group follow.
        state, parent, group = text[text.rindex(")") + 2 :].split()[:3]
        table.append(ProcessStat(int(stat.parent.name), state, int(parent), int(group)))
    return table


def child_processes() -> dict[int, list[int]]:
    """Parent process id -> ids of its children."""
    children: dict[int, list[int]] = {}
    for process in process_table():
        children.setdefault(process.parent, []).append(process.pid)
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


def end(pids: list[int], grace_s: float) -> None:
    """SIGTERM ``pids``, then SIGKILL those still alive after ``grace_s`` seconds."""
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while (alive := [pid for pid in pids if command_line(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal(alive, signal.SIGKILL)


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, sig)
