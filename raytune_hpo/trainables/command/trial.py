"""A training command run as a Ray Tune function trainable ("command trials").

The trial's hyperparameters go in as arguments (:mod:`raytune_hpo.trainables.command.args`), every report
the command makes is one ``tune.report`` (a stdout line that holds the metric, or a new value of
it in a TensorBoard event file: :mod:`raytune_hpo.trainables.command.metrics`), and the folder named by
``$RAYTUNE_HPO_CHECKPOINT_DIR`` is the trial's state: taken as the report's checkpoint while
the command is held still, when it changed and no file in it was written after the report was
read (:mod:`raytune_hpo.trainables.command.state`), and filled from the trial's checkpoint before a restart
(retry, resume, PBT exploit), after which a command that starts over is warned about.
The command runs in ``work/`` inside the trial's folder, where the entries of its code folder
(``workdir``) are linked while it runs (:func:`link_code_folder`): what it writes is its own.
Its output is kept in ``stdout.log`` and ``stderr.log`` in the trial's folder of the
experiment (with storage at a URI: in Ray's trial working directory on the node).

How the command ends with its trial. The command runs in a session and process group of its
own, and every end below signals the whole group: SIGTERM (and SIGCONT, should it be paused),
then SIGKILL after ``stop_grace_s``. Ray 2.60 ends a function trainable's thread in these ways:

- A scheduler's or the stop criterion's STOP, a PBT exploit, Ctrl-C, the end of the experiment:
  the trial's thread waits inside ``tune.report`` for the next call of ``train``, and Ray's
  ``session.finish`` (from ``Trainable.stop``, or from ``reset_config`` when the worker is reused)
  wakes it with ``SystemExit``: the ``finally`` of :func:`train_command` ends the group. As
  ``reset_config`` fails the next trial if the thread outlives 2 s
  (``TUNE_FUNCTION_THREAD_TIMEOUT_S``), the thread waits for the group only half of that; a
  reaper thread finishes the rest.
- Ray caches a stopped trial's worker for reuse without telling the thread, which then waits in
  ``tune.report`` until the worker is reused or removed. The command is paused (SIGSTOP of its
  group) while the thread waits in ``tune.report``, as a Python function trainable would be, so
  it neither runs ahead of the scheduler's decision nor burns CPU meanwhile.
- Ray kills the worker process (``ray.kill`` of a trial that did not answer ``stop`` within
  10 s, ``ray.shutdown``, a crash): no Python code runs in it any more. Each worker therefore
  starts one guardian process, outside Ray's reach (its own session, not a child of the
  worker), that reads the groups to watch from a pipe; when the pipe closes because the worker
  is gone, it ends every group still watched (and removes the runs' scratch folders).
- The command exits by itself: processes it left behind in its group are ended too, so that
  none outlives the trial (and stdout, which they may hold open, reaches its end).

A command that starts its own session (``setsid``) leaves the group and cannot be followed.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, cast

from ray import tune

from raytune_hpo.output_lines import meaningful_lines, warn_from_trial
from raytune_hpo.trainables.command.args import expand_command, plain
from raytune_hpo.trainables.command.metrics import (
    LineReports,
    TensorBoardReports,
    missing_metric_message,
)
from raytune_hpo.trainables.command.spec import CHECKPOINT_DIR_ENV, CommandSpec
from raytune_hpo.trainables.command.state import (
    ITERATION_KEY,
    StateFolder,
    checkpoint_metadata,
    late_file_warning,
    restart_warning,
)

TRIAL_ID_ENV = "RAYTUNE_HPO_TRIAL_ID"
"""Names the Ray Tune trial id in the command's environment."""
TRIAL_NAME_ENV = "RAYTUNE_HPO_TRIAL_NAME"
"""Names the Ray Tune trial name in the command's environment."""
CODE_DIR_ENV = "RAYTUNE_HPO_CODE_DIR"
"""Names the code folder (``workdir``) in the command's environment; the command runs in a
working directory of its own inside its trial folder."""
STDOUT_LOG = "stdout.log"
STDERR_LOG = "stderr.log"
WORK_FOLDER = "work"
"""The command's working directory, inside its trial folder."""
NOT_LINKED = frozenset(
    {"lightning_logs", "runs", "wandb", "mlruns", "outputs", "multirun", "__pycache__"}
)
"""Folders of the code folder not linked into a trial's working directory: what frameworks
write there by default (Lightning, TensorBoard's ``SummaryWriter``, W&B, MLflow, Hydra) belongs
to each trial, not to a folder the trials share."""
TAIL_LINES = 20
"""Meaningful lines of stdout or stderr quoted in an error."""
_KEPT_LINES = 500
"""Raw lines kept to find the meaningful ones among progress bars."""
_POLL_S = 0.02
EVENTS_POLL_S = 0.25
"""Seconds between two reads of a command's TensorBoard event files."""


class CommandError(RuntimeError):
    """A command trial's command failed, or ended without reporting its metric."""


# --- process groups ---------------------------------------------------------------------------


def group_members(pgid: int) -> list[int]:
    """The running processes of group ``pgid`` (zombies do not count: where PID 1 reaps no
    orphans, as in many containers, they stay forever); empty without ``/proc``."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return not os.path.isdir("/proc") or bool(group_members(pgid))


_GUARDIAN_SOURCE = """
import json, os, shutil, signal, sys, time
if os.fork():
    os._exit(0)
groups, folders = {}, set()
for line in sys.stdin:
    verb, key, *grace = json.loads(line)
    if verb == "end":
        groups[key] = grace[0]
    elif verb == "remove":
        folders.add(key)
    else:
        groups.pop(key, None)
        folders.discard(key)
def send(signum):
    for pgid in list(groups):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            groups.pop(pgid)
send(signal.SIGTERM)
send(signal.SIGCONT)
deadline = time.monotonic() + max(groups.values(), default=0.0)
while groups and time.monotonic() < deadline:
    time.sleep(0.05)
    send(0)
send(signal.SIGKILL)
for folder in folders:
    if os.path.islink(folder):
        try:
            os.unlink(folder)
        except OSError:
            pass
    else:
        shutil.rmtree(folder, ignore_errors=True)
"""


class _Guardian:
    """Cleans up after this worker process once it is gone, however it ended.

    The guardian is a tiny Python process in a session of its own and, forked once more, no
    child of the worker: Ray kills a worker's children and process group, but not it. It reads
    JSON lines from a pipe that only this process holds: ``["end", PGID, GRACE_S]``,
    ``["remove", FOLDER]``, ``["drop", PGID or FOLDER]``. When the pipe closes, it ends the
    process groups still listed (SIGTERM, then SIGKILL after the longest grace), then removes
    the folders.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipe: IO[str] | None = None
        self._listed: dict[int | str, list[Any]] = {}

    def end_group(self, pgid: int, grace_s: float) -> None:
        """End process group ``pgid`` should this process die."""
        self._send(pgid, ["end", pgid, grace_s])

    def remove_folder(self, folder: Path) -> None:
        """Remove ``folder`` (a symbolic link: the link) should this process die."""
        self._send(str(folder), ["remove", str(folder)])

    def drop(self, key: int | Path) -> None:
        """Leave a group or folder alone: it is taken care of."""
        self._send(key if isinstance(key, int) else str(key), None)

    def _send(self, key: int | str, entry: list[Any] | None) -> None:
        with self._lock:
            if entry is None:
                if self._listed.pop(key, None) is None:
                    return
                entry = ["drop", key]
            else:
                self._listed[key] = entry
            if self._pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    self._pipe.write(json.dumps(entry) + "\n")
                    self._pipe.flush()
                    return
            # First use, or the guardian died: start one that knows everything still listed.
            starter = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _GUARDIAN_SOURCE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
            starter.wait()
            self._pipe = cast(IO[str], starter.stdin)
            self._pipe.writelines(json.dumps(listed) + "\n" for listed in self._listed.values())
            self._pipe.flush()


_GUARDIAN = _Guardian()


class CommandProcess:
    """A command started in a session and process group of its own, ended as a whole.

    Attributes:
        popen: The command's process, the group's leader; stdout and stderr are pipes of text.
        pgid: The process group (the leader's pid).
    """

    def __init__(self, argv: list[str], cwd: Path, env: Mapping[str, str], grace_s: float):
        """Start ``argv`` in ``cwd``; the group is ended when the leader exits.

        Raises:
            CommandError: The program cannot be started.
        """
        try:
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except OSError as err:
            raise CommandError(f"cannot start {argv[0]!r} in {cwd}: {err.strerror}") from None
        self.pgid = self.popen.pid
        self._grace_s = grace_s
        self._lock = threading.Lock()
        self._ended = False
        try:
            _GUARDIAN.end_group(self.pgid, grace_s)
        except BaseException:
            os.killpg(self.pgid, signal.SIGKILL)
            raise
        threading.Thread(target=self._end_after_leader, daemon=True).start()

    def pause(self) -> None:
        """Stop every process of the group (SIGSTOP) until :meth:`resume`."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Continue the group after :meth:`pause`."""
        self._signal(signal.SIGCONT)

    def end(self) -> None:
        """End the group: SIGTERM, then SIGKILL ``grace_s`` later if any process is left.

        Returns once the group is gone, or at the latest after half of the time that Ray gives a
        reused worker's trial thread to end (``TUNE_FUNCTION_THREAD_TIMEOUT_S``, 2 s); a daemon
        thread then sends the SIGKILL in time. Idempotent; a second call waits for the first.
        """
        wait_s = float(os.environ.get("TUNE_FUNCTION_THREAD_TIMEOUT_S", "2")) / 2
        with self._lock:
            if self._ended:
                return
            self._ended = True
            deadline = time.monotonic() + self._grace_s
            try:
                os.killpg(self.pgid, signal.SIGTERM)
                os.killpg(self.pgid, signal.SIGCONT)  # a paused group handles its SIGTERM now
            except ProcessLookupError:
                self._gone()
                return
            if not self._wait_gone(min(deadline, time.monotonic() + wait_s)):
                threading.Thread(target=self._kill_at, args=(deadline,), daemon=True).start()

    def _signal(self, signum: int) -> None:
        with self._lock, contextlib.suppress(ProcessLookupError):
            if not self._ended:
                os.killpg(self.pgid, signum)

    def _wait_gone(self, until: float) -> bool:
        while True:
            self.popen.poll()  # reap the leader, so that only running processes count
            if not group_alive(self.pgid):
                self.popen.poll()  # the leader may have ended since the poll above
                self._gone()
                return True
            if time.monotonic() >= until:
                return False
            time.sleep(_POLL_S)

    def _kill_at(self, deadline: float) -> None:
        if not self._wait_gone(deadline):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            self.popen.wait()
            self._gone()

    def _gone(self) -> None:
        _GUARDIAN.drop(self.pgid)

    def _end_after_leader(self) -> None:
        self.popen.wait()
        self.end()


# --- the trainable ----------------------------------------------------------------------------


def train_command(
    config: dict[str, Any], *, spec: CommandSpec, metric: str, max_epochs: int | None = None
) -> None:
    """Run ``spec``'s command as one trial: a Ray Tune function trainable.

    Use it as ``tune.with_parameters(train_command, spec=spec, metric=metric)``. Each report of
    ``metric`` (a stdout line or a TensorBoard scalar, as ``spec.metrics`` says) is one
    ``tune.report``; it carries a checkpoint when the folder ``$RAYTUNE_HPO_CHECKPOINT_DIR``
    changed since the last one. The command runs in ``work/`` of its trial folder, with its code
    folder's entries linked in (:func:`link_code_folder`). The
    command should write its state there (best by writing a file and renaming it) before it
    prints the metric line (``spec.state_saved: after_report``: before its next line), and read
    it back when it starts: a restarted trial finds its checkpoint (or a PBT donor's) there.
    Also in the environment: ``RAYTUNE_HPO_TRIAL_ID``, ``RAYTUNE_HPO_TRIAL_NAME``,
    ``RAYTUNE_HPO_CODE_DIR`` (the code folder), ``PYTHONUNBUFFERED=1`` (unless set): other
    programs must flush
    stdout after each metric line. ``PATH`` starts with the folder of the trial's Python, so
    ``python`` runs in the toolkit's environment.

    Args:
        config: The trial's hyperparameters.
        spec: The command, its code folder (``workdir``; None: Ray Tune's original working
            directory) and how it reports metrics.
        metric: The experiment's metric; the command must report it.
        max_epochs: The last report the trial may make, after which Ray Tune stops it: the
            command is first given ``stop_grace_s`` to end by itself (to save its model),
            unless it reports again; None: it is stopped at once.

    Raises:
        CommandError: The command could not start, exited with a non-zero code (the message
            quotes the end of its stderr), or exited without ever reporting ``metric`` (the
            message's first line names what it did report, and the fix).
        ValueError: The command holds an unknown macro.
    """
    context = tune.get_context()
    storage = context.get_storage()
    local = storage.storage_filesystem.type_name == "local"
    folder = Path(storage.trial_fs_path if local else storage.trial_working_directory)
    folder.mkdir(parents=True, exist_ok=True)
    # Not in Ray's trial working directory, whose files Ray may copy into the experiment.
    scratch = Path(tempfile.mkdtemp(prefix=f"raytune_hpo_{context.get_trial_id()}_"))
    _GUARDIAN.remove_folder(scratch)
    try:
        checkpoint_dir = scratch / "checkpoint"
        restored = tune.get_checkpoint()
        if restored is None:
            checkpoint_dir.mkdir()
        else:
            restored.to_directory(str(checkpoint_dir))
        json_file = scratch / "config.json"
        json_file.write_text(json.dumps(plain(config), indent=2, sort_keys=True, default=str))
        argv = expand_command(spec, config, json_file)
        code_folder = _code_folder(spec)
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED", "1"),
            # ``python`` is the Python that runs the trial, as in an activated environment.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            CHECKPOINT_DIR_ENV: str(checkpoint_dir),
            CODE_DIR_ENV: str(code_folder),
            TRIAL_ID_ENV: context.get_trial_id(),
            TRIAL_NAME_ENV: context.get_trial_name(),
        }
        work = folder / WORK_FOLDER
        links = link_code_folder(work, code_folder)
        for link in links:
            _GUARDIAN.remove_folder(link)
        try:
            process = CommandProcess(argv, work, env, spec.stop_grace_s)
            try:
                stderr = _Drain(
                    cast(IO[str], process.popen.stderr), folder / STDERR_LOG, sys.stderr
                )
                reporter = _Reporter(
                    process,
                    checkpoint_dir,
                    restored=restored.get_metadata() if restored is not None else None,
                    step=spec.metrics.step,
                    last=max_epochs,
                    grace_s=spec.stop_grace_s,
                )
                after = spec.state_saved == "after_report"
                if spec.metrics.format == "tensorboard":
                    stdout_tail, seen = _report_events(reporter, folder, work, metric, spec)
                else:
                    reader = LineReports(metric, spec.metrics)
                    stdout_tail = _report_lines(reporter, folder, reader.feed, after=after)
                    seen = reader.keys_seen
                code = process.popen.wait()
                stderr.join()
            finally:
                process.end()
        finally:
            unlink(links)
            for link in links:
                _GUARDIAN.drop(link)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _GUARDIAN.drop(scratch)
    if code != 0:
        how = (
            f"was killed by {signal.Signals(-code).name}"
            if code < 0
            else f"exited with code {code}"
        )
        raise CommandError(
            f"command {how}: {spec.label}\n"
            f"last lines of stderr ({folder / STDERR_LOG}):\n" + _lines(stderr.tail)
        )
    if reporter.reports == 0 and restored is None:  # a restarted trial has reported before
        raise CommandError(
            f"{missing_metric_message(metric, spec.metrics, seen)}\ncommand: {spec.label}\n"
            f"last lines of stdout ({folder / STDOUT_LOG}):\n" + _lines(stdout_tail)
        )


def _lines(tail: Iterable[str]) -> str:
    return "\n".join(meaningful_lines(tail, TAIL_LINES)) or "(none)"


def _code_folder(spec: CommandSpec) -> Path:
    if spec.workdir is not None:
        folder = Path(spec.workdir)
    else:
        folder = Path(os.environ.get("TUNE_ORIG_WORKING_DIR") or os.getcwd())
    if not folder.is_dir():
        raise CommandError(f"workdir {folder} is no folder on {platform.node()}")
    return folder.resolve()


def link_code_folder(work: Path, code: Path) -> list[Path]:
    """Make ``work`` a working directory of its own that still reads ``code``'s files.

    Each entry of ``code`` gets a symbolic link of the same name in ``work``, except the
    framework output folders of :data:`NOT_LINKED`, names ``work`` already holds, and a folder
    that holds ``work`` itself (results kept inside the code folder). What the command writes
    into ``work`` stays the trial's own; a write *into* a linked folder reaches the shared one.

    Returns:
        The links made, for :func:`unlink`.
    """
    work.mkdir(parents=True, exist_ok=True)
    links = []
    for entry in sorted(code.iterdir()):
        link = work / entry.name
        if entry.name in NOT_LINKED or link.is_symlink() or link.exists():
            continue
        if work.resolve().is_relative_to(entry.resolve()):
            continue
        link.symlink_to(entry)
        links.append(link)
    return links


def remove_code_links(experiment: Path, code: Path) -> None:
    """Remove what :func:`link_code_folder` linked into the working directories of
    ``experiment``'s trials: a trial that the experiment's end overtook had no time to."""
    code = code.resolve()
    for work in experiment.glob(f"*/{WORK_FOLDER}"):
        for entry in work.iterdir():
            if entry.is_symlink() and Path(os.readlink(entry)) == code / entry.name:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()


def unlink(links: Iterable[Path]) -> None:
    """Remove the links :func:`link_code_folder` made: the trial folder keeps what the command
    wrote, not the code folder's contents."""
    for link in links:
        with contextlib.suppress(FileNotFoundError):
            link.unlink()


class _Reporter:
    """Reports a command's metrics to Ray Tune, each with its state folder when it changed.

    The command's group is held still (stopped) from the moment a report is read until Ray Tune
    asks for the next result, as a Python function trial would be; its state is taken
    meanwhile (:class:`~raytune_hpo.trainables.command.state.StateFolder`). Before the trial's last report
    (``last``), Ray Tune's stop is known to follow: the command is let run to its own end first
    (:meth:`_let_it_end`), so that its code after training runs.

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
            time.sleep(_POLL_S)


def _trial_id() -> str:
    return str(tune.get_context().get_trial_id())


Found = tuple[dict[str, Any], int]
"""A report and when its line was read (``time.time_ns()``)."""


def _report_lines(
    reporter: _Reporter,
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

    stdout = _Drain(
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


def _report_events(
    reporter: _Reporter, folder: Path, work: Path, metric: str, spec: CommandSpec
) -> tuple[collections.deque[str], list[str]]:
    """Report the scalars of the TensorBoard event files the command writes below ``work``
    until it ends (read every :data:`EVENTS_POLL_S`, and once more after its end); its stdout
    is logged and echoed meanwhile. With ``state_saved: after_report``, a report waits for a
    line of stdout after it was found, a later report, or the command's end.

    Returns:
        The last lines of its stdout, and the TensorBoard tags seen.
    """
    reader = TensorBoardReports(work, metric, spec.metrics.step)
    lines = [0]
    stdout = _Drain(
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
        time.sleep(EVENTS_POLL_S)
    stdout.join()
    return stdout.tail, reader.tags_seen


class _Drain:
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
