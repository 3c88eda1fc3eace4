"""A command trial's state folder (``$RAYTUNE_HPO_CHECKPOINT_DIR``), taken at its reports.

Pure file work, no Ray: :mod:`raytune_hpo.adapters.command.reporting` holds the command still
(its process group stopped) while :meth:`StateFolder.take` looks at the folder, then hands it to Ray
Tune as the report's checkpoint.

The contract: the state paired with a report is the state the command had written when the
report's line was read. The command writes it *before* it prints the line (or, with
``state_saved: after_report``, before its next line). A file written after that moment belongs
to a later report, and may be half written: such a report goes without a checkpoint (the
trial's previous one stays its latest), never with a later or partial state. A script that
writes its state atomically (a temporary file, then ``os.replace``) can never leave a partial
file; one that rewrites it in place can, if the toolkit stops it mid-write.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ITERATION_KEY = "training_iteration"
"""Checkpoint metadata: the report (1-based, over the whole trial) the state was taken at."""
STEP_KEY = "reported_step"
"""Checkpoint metadata: ``[name, value]`` of the command's own step on that report."""
FOLDER_NAME = "$RAYTUNE_HPO_CHECKPOINT_DIR"
"""How warnings name the state folder."""
STEP_FALLBACK = "epoch"
"""The step read from a report when ``metrics.step`` names none."""

Stamps = dict[str, tuple[int, int, int]]
"""Relative path -> (size, modification time, inode) of every file below a folder."""


def _file_stats(folder: Path) -> Iterator[tuple[str, os.stat_result | None]]:
    """Each file below ``folder`` (relative path) and its ``stat``; None: removed meanwhile."""
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                stat: os.stat_result | None = os.stat(path)
            except FileNotFoundError:
                stat = None
            yield os.path.relpath(path, folder), stat


def stamps(folder: Path) -> Stamps:
    """Size, modification time and inode of every file below ``folder``."""
    return {
        path: (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        for path, stat in _file_stats(folder)
        if stat is not None
    }


def written_after(folder: Path, moment_ns: int) -> str | None:
    """A file below ``folder`` written or renamed into place after ``moment_ns`` (wall clock),
    or None.

    File times come from the kernel's coarse clock, which never runs ahead of
    ``time.time_ns()``: a file written before the moment never counts. A file removed while
    the folder is read counts (it is being rewritten).
    """
    for path, stat in _file_stats(folder):
        if stat is None or max(stat.st_mtime_ns, stat.st_ctime_ns) > moment_ns:
            return path
    return None


def open_for_writing(pids: Iterable[int], folder: Path) -> str | None:
    """A file below ``folder`` that one of ``pids`` holds open for writing (a write in
    progress: the file may be partial), or None. Reads ``/proc``; finds nothing without it."""
    root = os.path.realpath(folder) + os.sep
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if not target.startswith(root) or target.endswith(" (deleted)"):
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as info:
                    flags = next(line for line in info if line.startswith("flags:"))
            except (OSError, StopIteration):
                continue
            if int(flags.split()[1], 8) & (os.O_WRONLY | os.O_RDWR):
                return os.path.relpath(target, root)
    return None


RAN_AHEAD = "the command had printed its next report before it was held still"
"""Why a report goes without a checkpoint when its command runs ahead of the reading."""


@dataclass(frozen=True)
class Taken:
    """What :meth:`StateFolder.take` found.

    Attributes:
        changed: The folder holds a state not taken before: the report carries it.
        skipped: Why the folder may hold a later report's state, maybe half written (a file
            being written, or written after the report's line was read), or None: the report
            carries no checkpoint.
    """

    changed: bool
    skipped: str | None = None


class StateFolder:
    """The folder a command writes its state into, and the last state taken from it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._taken = stamps(folder)

    def take(self, read_ns: int, writers: Iterable[int] = (), *, ran_ahead: bool = False) -> Taken:
        """Look at the folder for the report whose line was read at ``read_ns`` (wall clock),
        the command's processes ``writers`` being held still; a state found whole and new
        counts as taken.

        A folder that holds no state new since the last one taken (a command that never writes
        it) has nothing to pair with the report, nor to warn about: the report goes without a
        checkpoint, and without a reason. ``ran_ahead`` (the command had printed its next report
        by the time it was held still) skips a new state: it may be the later report's.
        """
        if not self.changed():
            return Taken(changed=False)
        if ran_ahead:
            return Taken(changed=False, skipped=RAN_AHEAD)
        partial = open_for_writing(writers, self.folder)
        if partial is not None:
            return Taken(changed=False, skipped=f"{partial} in {FOLDER_NAME} was being written")
        late = written_after(self.folder, read_ns)
        if late is not None:
            return Taken(
                changed=False,
                skipped=f"{late} in {FOLDER_NAME} was written after the report's line was read",
            )
        current = stamps(self.folder)
        if not current or current == self._taken:
            return Taken(changed=False)
        self._taken = current
        return Taken(changed=True)

    def changed(self) -> bool:
        """Whether the folder holds files, changed since the last state taken (or restored)."""
        current = stamps(self.folder)
        return bool(current) and current != self._taken

    def has_new_state(self, writers: Iterable[int] = ()) -> bool:
        """Whether the folder changed since the last state taken, and ``writers`` hold none of
        its files open for writing (a state written whole since)."""
        current = stamps(self.folder)
        return (
            bool(current) and current != self._taken and not open_for_writing(writers, self.folder)
        )


def step_of(metrics: dict[str, Any], step: str | None) -> list[Any] | None:
    """``[name, value]`` of the command's own step on a report (``step``, else ``epoch``), or
    None when the report holds no such number."""
    name = step or STEP_FALLBACK
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return [name, value]


def checkpoint_metadata(iteration: int, metrics: dict[str, Any], step: str | None) -> dict:
    """The metadata a command trial's checkpoint carries: its report and the command's step."""
    metadata: dict[str, Any] = {ITERATION_KEY: iteration}
    if (reported := step_of(metrics, step)) is not None:
        metadata[STEP_KEY] = reported
    return metadata


def restart_warning(trial_id: str, metadata: dict[str, Any], metrics: dict[str, Any]) -> str | None:
    """The warning for a restored trial whose command started over, or None.

    Args:
        trial_id: The trial.
        metadata: The restored checkpoint's (:func:`checkpoint_metadata`).
        metrics: The command's first report since the restore.
    """
    saved = metadata.get(STEP_KEY)
    if not saved:
        return None
    name, value = saved
    now = step_of(metrics, name)
    if now is None or now[1] > value:
        return None
    return (
        f"trial {trial_id} was restored from its checkpoint of report "
        f"{metadata.get(ITERATION_KEY, '?')} ({name} {value:g}) but its command reported "
        f"{name} {now[1]:g} next: it started over. Load the state from "
        "$RAYTUNE_HPO_CHECKPOINT_DIR when the script starts"
    )


def skipped_warning(trial_id: str, iteration: int, skipped: str) -> str:
    """The warning for a report that went without a checkpoint, and why (:attr:`Taken.skipped`)."""
    return (
        f"trial {trial_id}: report {iteration} has no checkpoint: {skipped} (this warning is "
        "shown once; the trial's checkpoints stay those of the reports it was caught at). Save "
        "the state before printing the metric line, atomically (a temporary file, then "
        "os.replace); a script that prints before it saves (Hugging Face's Trainer) needs "
        "trainable.state_saved: after_report"
    )
