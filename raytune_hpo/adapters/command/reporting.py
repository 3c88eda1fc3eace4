"""A command's reports to Ray Tune, read from its stdout or the files it writes (TensorBoard's),
each with its state when that changed; the command held still from a report until Ray Tune asks
for the next."""

from __future__ import annotations

import codecs
import collections
import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from ray import tune

from raytune_hpo.adapters.command.formats import FileReports
from raytune_hpo.adapters.command.line_reports import LineReports
from raytune_hpo.adapters.command.process_group import POLL_S, CommandProcess, group_members
from raytune_hpo.adapters.command.state import (
    ITERATION_KEY,
    StateFolder,
    checkpoint_metadata,
    restart_warning,
    skipped_warning,
)
from raytune_hpo.layout import STDOUT_LOG
from raytune_hpo.output_lines import warn_from_trial

_KEPT_LINES = 500
"""Raw lines kept to find the meaningful ones among progress bars."""
_CHUNK = 65536
"""Bytes read from a pipe at once."""
FILES_POLL_S = 0.25
"""Seconds between two reads of the files a command writes its metrics to."""


class Reporter:
    """Reports a command's metrics to Ray Tune, each with its state folder when it changed.

    The command's group is held still (stopped) from the moment a report is read until Ray Tune
    asks for the next result, as a Python function trial would be; its state is taken
    meanwhile (:class:`~raytune_hpo.adapters.command.state.StateFolder`). Before the trial's
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
        self._warned_skip = False

    def report(
        self,
        metrics: dict[str, Any],
        read_ns: int,
        reported_again: Callable[[], bool],
        *,
        ran_ahead: bool = False,
        behind: bool = False,
    ) -> None:
        """One ``tune.report`` of ``metrics``, with a checkpoint if the state changed.

        Args:
            metrics: The report.
            read_ns: When its line was read (wall clock, ns): a state file written later
                belongs to a later report.
            reported_again: Whether the command has made another report since (it goes on
                training): asked while waiting for it to end after its last report.
            ran_ahead: The command had printed its next report by the time it was held
                still: its state may be a later report's.
            behind: As ``ran_ahead``, found by a read that fell behind the command (several
                reports at once), which the command cannot change: no warning.
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
        writers = group_members(self.process.pgid)
        taken = self.state.take(read_ns, writers, ran_ahead=ran_ahead or behind)
        checkpoint = None
        if taken.skipped is not None and not behind and not self._warned_skip:
            self._warned_skip = True
            warn_from_trial(skipped_warning(_trial_id(), iteration, taken.skipped))
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


Found = tuple[dict[str, Any], int, bool]
"""A report, when its line was read (``time.time_ns()``), and whether the command had printed
its next report by the time it was held still."""


def report_lines(
    reporter: Reporter, folder: Path, reader: LineReports, *, after: bool = False
) -> collections.deque[str]:
    """Log, echo and report the command's stdout lines until it ends.

    A thread reads the lines and holds the command still at each one that reports, so that
    its state is the report's while Ray Tune takes it. With ``after`` (``state_saved:
    after_report``), a report is held back until the next line (or the command's end), and
    the command is held still there instead. When the command had printed its next report
    already by the time it was held still (it runs ahead of the reading: a loop of a few
    milliseconds), its state may be that later report's: the report goes without a checkpoint.
    A report without the metric (a key close to it, :class:`LineReports`) goes the same way,
    at the command's end too.

    Args:
        reporter: Reports to Ray Tune.
        folder: The trial folder, for ``stdout.log``.
        reader: Turns lines into reports.
        after: Whether the command saves its state after it prints the report.

    Returns:
        Its last lines.
    """
    found: queue.SimpleQueue[Found | None] = queue.SimpleQueue()
    held: list[dict[str, Any]] = []

    def on_line(line: str, lines_ahead: LinesAhead) -> None:
        read_ns = time.time_ns()
        metrics = reader.feed(line)
        reports: list[dict[str, Any]] = []
        if after and held:
            reports.append(held.pop())
        if metrics is not None and after:
            held.append(metrics)
        elif metrics is not None:
            reports.append(metrics)
        for report in reports:
            reporter.process.pause()
            ran_ahead = any(map(reader.reports, lines_ahead()))
            found.put((report, read_ns, ran_ahead))

    def on_end() -> None:
        if held:
            found.put((held.pop(), time.time_ns(), False))
        misnamed = reader.finish()  # a key close to a metric never seen: "did you mean"
        if misnamed is not None:
            found.put((misnamed, time.time_ns(), False))
        found.put(None)

    stdout = Drain(
        cast(IO[str], reporter.process.popen.stdout),
        folder / STDOUT_LOG,
        sys.stdout,
        on_line=on_line,
        on_end=on_end,
    )
    while (item := found.get()) is not None:
        metrics, read_ns, ran_ahead = item
        reporter.report(
            metrics, read_ns, reported_again=lambda: not found.empty(), ran_ahead=ran_ahead
        )
    stdout.join()
    return stdout.tail


def report_files(
    reporter: Reporter, folder: Path, reader: FileReports, *, after: bool = False
) -> collections.deque[str]:
    """Report what the command writes to the files ``reader`` reads (TensorBoard's event files)
    until it ends (read every :data:`FILES_POLL_S`, and once more after its end); its stdout is
    logged and echoed meanwhile.

    Reports found by one read but its last had their state overwritten already (the command
    runs faster than the reads): they go without a checkpoint, and without a warning (the
    command cannot change how often the files are read). With ``after`` (``state_saved:
    after_report``: Lightning writes the epoch's event, then its ``ModelCheckpoint``), a report
    waits until the command wrote a new state (the state folder changed, no file of it open
    for writing), printed a line, reported again, or ended.

    Args:
        reporter: Reports to Ray Tune.
        folder: The trial folder, for ``stdout.log``.
        reader: Turns what the command writes into reports.
        after: Whether the command saves its state after it writes the report.

    Returns:
        The last lines of its stdout.
    """
    lines = [0]
    stdout = Drain(
        cast(IO[str], reporter.process.popen.stdout),
        folder / STDOUT_LOG,
        sys.stdout,
        on_line=lambda line, lines_ahead: lines.__setitem__(0, lines[0] + 1),
    )
    pending: collections.deque[tuple[dict[str, Any], int]] = collections.deque()

    def read(final: bool = False) -> bool:
        pending.extend((metrics, lines[0]) for metrics in reader.poll(final=final))
        return bool(pending)

    def due(ended: bool) -> bool:
        if not pending:
            return False
        if not after or ended or len(pending) > 1 or lines[0] > pending[0][1]:
            return True
        return reporter.state.has_new_state(group_members(reporter.process.pgid))

    next_read = 0.0
    while True:
        ended = reporter.process.popen.poll() is not None
        if ended or time.monotonic() >= next_read:
            read(final=ended)
            next_read = time.monotonic() + FILES_POLL_S
        while due(ended):
            metrics, _ = pending.popleft()
            reporter.report(metrics, time.time_ns(), read, behind=bool(pending))
        if ended:
            break
        time.sleep(POLL_S if after and pending else max(0.0, next_read - time.monotonic()))
    stdout.join()
    return stdout.tail


LinesAhead = Callable[[], list[str]]
"""The lines a command printed after the one at hand: those read already, those waiting in
the pipe now (read without waiting) and the start of one it is printing."""


class Drain:
    """Copies a pipe's lines to a log file and a stream in a thread; keeps the last lines.

    Reads the pipe's bytes itself (no buffer of the pipe object's), so that a line's handler
    may look at the lines printed after it (:data:`LinesAhead`).

    Args:
        pipe: The command's stdout or stderr.
        log: The file the lines are added to.
        echo: The stream they are written to (the worker's, which Ray forwards).
        on_line: Called with each line once it is logged, and the look ahead.
        on_end: Called once the pipe is closed and every line copied.
    """

    def __init__(
        self,
        pipe: IO[str],
        log: Path,
        echo: IO[str],
        on_line: Callable[[str, LinesAhead], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.tail: collections.deque[str] = collections.deque(maxlen=_KEPT_LINES)
        self._fd = pipe.fileno()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._lines: collections.deque[str] = collections.deque()
        self._on_line = on_line
        self._on_end = on_end
        self._thread = threading.Thread(target=self._copy, args=(log, echo), daemon=True)
        self._thread.start()

    def _read(self, wait: bool) -> bool:
        """Read what the pipe holds (``wait``: at least one byte) into whole lines, ``\\r``,
        ``\\n`` and ``\\r\\n`` ending a line as in a text stream; False at its end."""
        if not wait and not select.select([self._fd], [], [], 0)[0]:
            return True
        chunk = os.read(self._fd, _CHUNK)
        text = self._partial + self._decoder.decode(chunk, final=not chunk)
        # A last "\r" may be the first half of "\r\n": it waits for the next chunk.
        cut = len(text) - 1 if chunk and text.endswith("\r") else len(text)
        *whole, last = text[:cut].replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._lines.extend(line + "\n" for line in whole)
        if not chunk:
            if last:
                self._lines.append(last)
            self._partial = ""
            return False
        self._partial = last + text[cut:]
        return True

    def _lines_ahead(self) -> list[str]:
        while self._read(wait=False) and select.select([self._fd], [], [], 0)[0]:
            pass
        # A line the command is printing still counts: its state may be that line's already.
        return list(self._lines) + ([self._partial] if self._partial else [])

    def _copy(self, log: Path, echo: IO[str]) -> None:
        try:
            with open(log, "a", encoding="utf-8", buffering=1) as out:
                more = True
                while more or self._lines:
                    if not self._lines:
                        more = self._read(wait=True)
                        continue
                    line = self._lines.popleft()
                    # A command ended mid-print (stopped while held still) leaves its last line
                    # unended: end it, so that the next start's first line is one of its own.
                    logged = line if line.endswith("\n") else line + "\n"
                    out.write(logged)
                    echo.write(logged)
                    echo.flush()
                    self.tail.append(line.rstrip("\n"))
                    if self._on_line is not None:
                        self._on_line(line, self._lines_ahead)
        finally:
            if self._on_end is not None:
                self._on_end()

    def join(self) -> None:
        """Wait until the pipe is closed and every line copied."""
        self._thread.join()
