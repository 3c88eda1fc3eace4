"""A command's reports to Ray Tune, read from its stdout or TensorBoard files, each with its
state when that changed; the command held still from a report until Ray Tune asks for the next."""

from __future__ import annotations

import collections
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from ray import tune

from raytune_hpo.output_lines import warn_from_trial
from raytune_hpo.trainables.command.metrics import TensorBoardReports
from raytune_hpo.trainables.command.processes import POLL_S, CommandProcess, group_members
from raytune_hpo.trainables.command.spec import CommandSpec
from raytune_hpo.trainables.command.state import (
    ITERATION_KEY,
    StateFolder,
    checkpoint_metadata,
    late_file_warning,
    restart_warning,
)

STDOUT_LOG = "stdout.log"
_KEPT_LINES = 500
"""Raw lines kept to find the meaningful ones among progress bars."""
EVENTSPOLL_S = 0.25
"""Seconds between two reads of a command's TensorBoard event files."""


class Reporter:
    """Reports a command's metrics to Ray Tune, each with its state folder when it changed.

    The command's group is held still (stopped) from the moment a report is read until Ray Tune
    asks for the next result, as a Python function trial would be; its state is taken
    meanwhile (:class:`~raytune_hpo.trainables.command.state.StateFolder`). Before the trial's
    last report (``last``), Ray Tune's stop is known to follow: the command is let run to its own
    end first (:meth:`_let_it_end`), so that its code after training runs.

    Args:
        process: The command.
        checkpoint_dir: Its state folder.
        restored: The metadata of the checkpoint the trial restarted from, or None.
        step: The command's own step (``metrics.step``), checked after a restore.
        last: The trial's last report, or None.
        grace_s: The longest wait for the command to end by itself after its last report.
    """

    def __init__(
        self,
        process: CommandProcess,
        checkpoint_dir: Path,
        *,
        restored: dict[str, Any] | None = None,
        step: str | None = None,
        last: int | None = None,
        grace_s: float = 0.0,
    ) -> None:
        self.process = process
        self.state = StateFolder(checkpoint_dir)
        self.restored = restored
        self.reports = 0
        self._done = int((restored or {}).get(ITERATION_KEY, 0))
        self._step = step
        self._last = last
        self._grace_s = grace_s
        self._warned_late = False

    def report(
        self, metrics: dict[str, Any], read_ns: int, reported_again: Callable[[], bool]
    ) -> None:
        """One ``tune.report`` of ``metrics``, with a checkpoint if the state changed.

        Args:
            metrics: The report.
            read_ns: When its line was read (wall clock, ns): a state file written later
                belongs to a later report.
            reported_again: Whether the command has made another report since (it goes on
                training): asked while waiting for it to end after its last report.
        """
        iteration = self._done + self.reports + 1
        if self._last is not None and iteration >= self._last:
            self._let_it_end(reported_again)
            read_ns = time.time_ns()
        self.process.pause()
        if self.reports == 0 and self.restored is not None:
            warning = restart_warning(_trial_id(), self.restored, metrics)
            if warning is not None:
                warn_from_trial(warning)
        taken = self.state.take(read_ns, group_members(self.process.pgid))
        checkpoint = None
        if taken.late_file is not None and not self._warned_late:
            self._warned_late = True
            warn_from_trial(late_file_warning(_trial_id(), iteration, taken))
        elif taken.changed:
            checkpoint = tune.Checkpoint.from_directory(str(self.state.folder))
            checkpoint.set_metadata(checkpoint_metadata(iteration, metrics, self._step))
        tune.report(metrics, checkpoint=checkpoint)
        self.process.resume()
        self.reports += 1

    def _let_it_end(self, reported_again: Callable[[], bool]) -> None:
        """Let the command run until it ends, reports again or ``grace_s`` passed."""
        self.process.resume()
        deadline = time.monotonic() + self._grace_s
        while self.process.popen.poll() is None and time.monotonic() < deadline:
            if reported_again():
                return
            time.sleep(POLL_S)


def _trial_id() -> str:
    return str(tune.get_context().get_trial_id())


Found = tuple[dict[str, Any], int]
"""A report and when its line was read (``time.time_ns()``)."""


def report_lines(
    reporter: Reporter,
    folder: Path,
    feed: Callable[[str], dict[str, Any] | None],
    *,
    after: bool = False,
) -> collections.deque[str]:
    """Log, echo and report the command's stdout lines until it ends.

    A thread reads the lines and holds the command still at each one that reports, so that
    its state is the report's while Ray Tune takes it. With ``after`` (``state_saved:
    after_report``), a report is held back until the next line (or the command's end), and
    the command is held still there instead.

    Args:
        reporter: Reports to Ray Tune.
        folder: The trial folder, for ``stdout.log``.
        feed: The report a line makes, or None.
        after: Whether the command saves its state after it prints the report.

    Returns:
        Its last lines.
    """
    found: queue.SimpleQueue[Found | None] = queue.SimpleQueue()
    held: list[dict[str, Any]] = []

    def on_line(line: str) -> None:
        read_ns = time.time_ns()
        metrics = feed(line)
        if after and held:
            reporter.process.pause()
            found.put((held.pop(), read_ns))
        if metrics is not None and after:
            held.append(metrics)
        elif metrics is not None:
            reporter.process.pause()
            found.put((metrics, read_ns))

    def on_end() -> None:
        if held:
            found.put((held.pop(), time.time_ns()))
        found.put(None)

    stdout = Drain(
        cast(IO[str], reporter.process.popen.stdout),
        folder / STDOUT_LOG,
        sys.stdout,
        on_line=on_line,
        on_end=on_end,
    )
    while (item := found.get()) is not None:
        reporter.report(*item, reported_again=lambda: not found.empty())
    stdout.join()
    return stdout.tail


def report_events(
    reporter: Reporter, folder: Path, work: Path, metric: str, spec: CommandSpec
) -> tuple[collections.deque[str], list[str]]:
    """Report the scalars of the TensorBoard event files the command writes below ``work``
    until it ends (read every :data:`EVENTSPOLL_S`, and once more after its end); its stdout
    is logged and echoed meanwhile. With ``state_saved: after_report``, a report waits for a
    line of stdout after it was found, a later report, or the command's end.

    Returns:
        The last lines of its stdout, and the TensorBoard tags seen.
    """
    reader = TensorBoardReports(work, metric, spec.metrics.step)
    lines = [0]
    stdout = Drain(
        cast(IO[str], reporter.process.popen.stdout),
        folder / STDOUT_LOG,
        sys.stdout,
        on_line=lambda line: lines.__setitem__(0, lines[0] + 1),
    )
    after = spec.state_saved == "after_report"
    pending: collections.deque[tuple[dict[str, Any], int]] = collections.deque()

    def reported_again() -> bool:
        pending.extend((metrics, lines[0]) for metrics in reader.poll())
        return bool(pending)

    while True:
        ended = reporter.process.popen.poll() is not None
        pending.extend((metrics, lines[0]) for metrics in reader.poll(final=ended))
        while pending and (not after or ended or len(pending) > 1 or lines[0] > pending[0][1]):
            reporter.report(pending.popleft()[0], time.time_ns(), reported_again)
        if ended:
            break
        time.sleep(EVENTSPOLL_S)
    stdout.join()
    return stdout.tail, reader.tags_seen


class Drain:
    """Copies a pipe's lines to a log file and a stream in a thread; keeps the last lines.

    Args:
        pipe: The command's stdout or stderr.
        log: The file the lines are added to.
        echo: The stream they are written to (the worker's, which Ray forwards).
        on_line: Called with each line once it is logged.
        on_end: Called once the pipe is closed and every line copied.
    """

    def __init__(
        self,
        pipe: IO[str],
        log: Path,
        echo: IO[str],
        on_line: Callable[[str], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.tail: collections.deque[str] = collections.deque(maxlen=_KEPT_LINES)
        self._on_line = on_line
        self._on_end = on_end
        self._thread = threading.Thread(target=self._copy, args=(pipe, log, echo), daemon=True)
        self._thread.start()

    def _copy(self, pipe: IO[str], log: Path, echo: IO[str]) -> None:
        try:
            with open(log, "a", encoding="utf-8", buffering=1) as out:
                for line in pipe:
                    out.write(line)
                    echo.write(line)
                    echo.flush()
                    self.tail.append(line.rstrip("\n"))
                    if self._on_line is not None:
                        self._on_line(line)
        finally:
            if self._on_end is not None:
                self._on_end()

    def join(self) -> None:
        """Wait until the pipe is closed and every line copied."""
        self._thread.join()
