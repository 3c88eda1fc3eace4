"""A training command run as a Ray Tune function trainable ("command trials").

The trial's hyperparameters go in as arguments (:mod:`~raytune_hpo.adapters.command.args`),
every report the command makes is one ``tune.report`` (a stdout line that holds the metric, or
a new value of it in a TensorBoard event file, as its metrics format says:
:mod:`~raytune_hpo.adapters.command.formats`,
:mod:`~raytune_hpo.adapters.command.reporting`), and the folder named by
``$RAYTUNE_HPO_CHECKPOINT_DIR`` is the trial's state: taken as the report's checkpoint while
the command is held still, when it changed and no file in it was written after the report was
read (:mod:`~raytune_hpo.adapters.command.state`), and filled from the trial's checkpoint
before a restart (retry, resume, PBT exploit), after which a command that starts over is
warned about. The command runs in ``work/`` inside the trial's folder, where the entries of
its code folder (``workdir``) are linked while it runs
(:mod:`~raytune_hpo.adapters.command.workdir`): what it writes is its own. Its output is kept
in ``stdout.log`` and ``stderr.log`` in the trial's folder of the experiment (with storage at a
URI: in Ray's trial working directory on the node). How the command and every process it
starts end with the trial: :mod:`~raytune_hpo.adapters.command.process_group`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from ray import tune

from raytune_hpo.adapters.command.args import expand_command, plain
from raytune_hpo.adapters.command.formats import metric_format, missing_metric_message
from raytune_hpo.adapters.command.line_reports import LineReports
from raytune_hpo.adapters.command.process_group import GUARDIAN, CommandError, CommandProcess
from raytune_hpo.adapters.command.program import trial_path
from raytune_hpo.adapters.command.reporting import (
    STDOUT_LOG,
    Drain,
    Reporter,
    report_files,
    report_lines,
)
from raytune_hpo.adapters.command.rerun import rerun_script, write_rerun_script
from raytune_hpo.adapters.command.spec import CHECKPOINT_DIR_ENV, CommandSpec
from raytune_hpo.adapters.command.workdir import (
    WORK_FOLDER,
    code_folder,
    link_code_folder,
    unlink,
)
from raytune_hpo.layout import COMMAND_FILE, STDERR_LOG
from raytune_hpo.output_lines import meaningful_lines
from raytune_hpo.ray_compat import trial_storage

TRIAL_ID_ENV = "RAYTUNE_HPO_TRIAL_ID"
"""Names the Ray Tune trial id in the command's environment."""
TRIAL_NAME_ENV = "RAYTUNE_HPO_TRIAL_NAME"
"""Names the Ray Tune trial name in the command's environment."""
CODE_DIR_ENV = "RAYTUNE_HPO_CODE_DIR"
"""Names the code folder (``workdir``) in the command's environment; the command runs in a
working directory of its own inside its trial folder."""
TAIL_LINES = 20
"""Meaningful lines of stdout or stderr quoted in an error."""
CAUSE_CHARS = 300
"""The longest stderr line an error's first line quotes, as its cause."""


def train_command(
    config: dict[str, Any], *, spec: CommandSpec, metric: str, max_epochs: int | None = None
) -> None:
    """Run ``spec``'s command as one trial: a Ray Tune function trainable.

    Use it as ``tune.with_parameters(train_command, spec=spec, metric=metric)``. Each report of
    ``metric`` (a stdout line or a TensorBoard scalar, as ``spec.metrics`` says) is one
    ``tune.report``; it carries a checkpoint when the folder ``$RAYTUNE_HPO_CHECKPOINT_DIR``
    changed since the last one. The command runs in ``work/`` of its trial folder, with its code
    folder's entries linked in (:func:`~raytune_hpo.adapters.command.workdir.link_code_folder`).
    The command should write its state there (best by writing a file and renaming it) before it
    prints the metric line (``spec.state_saved: after_report``: before its next line), and read
    it back when it starts: a restarted trial finds its checkpoint (or a PBT donor's) there.
    Also in the environment: ``RAYTUNE_HPO_TRIAL_ID``, ``RAYTUNE_HPO_TRIAL_NAME``,
    ``RAYTUNE_HPO_CODE_DIR`` (the code folder), ``PYTHONUNBUFFERED=1`` (unless set): other
    programs must flush
    stdout after each metric line. ``PATH`` starts with the folder of the trial's Python, so
    ``python`` runs in the toolkit's environment. Each start writes ``command.sh`` into the
    trial's folder: the command, its folder and those variables, runnable by hand
    (:mod:`~raytune_hpo.adapters.command.rerun`).

    Args:
        config: The trial's hyperparameters.
        spec: The command, its code folder (``workdir``; None: Ray Tune's original working
            directory) and how it reports metrics.
        metric: The experiment's metric; the command must report it.
        max_epochs: The last report the trial may make, after which Ray Tune stops it: the
            command is first given ``stop_grace_s`` to end by itself (to save its model),
            unless it reports again; None: it is stopped at once.

    Raises:
        CommandError: The command could not start, exited with a non-zero code (the
            message's first line carries its last line of stderr, the lines after it the end
            of its stderr), or exited without ever reporting ``metric`` (the message's first
            line names what it did report, and the fix).
        ValueError: The command holds an unknown macro.
    """
    trial_storage.artifact_sync_checks_clock_first()
    context = tune.get_context()
    trial_id = context.get_trial_id()
    folder = _trial_folder()
    restored = tune.get_checkpoint()
    with _scratch_folder(trial_id) as scratch:
        checkpoint_dir = _restore_state(scratch, restored)
        json_file = _write_config(scratch, config)
        argv = expand_command(spec, config, json_file)
        code_dir = code_folder(spec)
        variables = {
            "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED", "1"),
            CODE_DIR_ENV: str(code_dir),
            TRIAL_ID_ENV: trial_id,
            TRIAL_NAME_ENV: context.get_trial_name(),
        }
        rerun = rerun_script(
            argv,
            code_dir,
            variables,
            trial=trial_id,
            path_prefix=str(Path(sys.executable).parent),
            json_file=json_file,
            inherited=os.environ,
        )
        write_rerun_script(folder, COMMAND_FILE, rerun)
        with _code_linked(folder / WORK_FOLDER, code_dir) as work:
            run = _Run(spec, metric, folder, work, checkpoint_dir, restored, max_epochs)
            outcome = run.command(argv, _environment(variables, checkpoint_dir))
    _check_exit_code(outcome, spec, folder)
    if outcome.reports == 0 and restored is None:  # a restarted trial has reported before
        raise CommandError(
            f"{missing_metric_message(metric, spec.metrics, outcome.seen)}\n"
            f"command: {spec.label}\n"
            f"last lines of stdout ({folder / STDOUT_LOG}):\n" + _lines(outcome.stdout_tail)
        )


def _trial_folder() -> Path:
    """The trial's folder for its logs and ``command.sh``: in the experiment, or with storage
    at a URI in Ray's trial working directory on the node; made if need be."""
    storage = tune.get_context().get_storage()
    local = storage.storage_filesystem.type_name == "local"
    folder = Path(storage.trial_fs_path if local else storage.trial_working_directory)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _scratch_folder(trial_id: str) -> Iterator[Path]:
    """A folder of the trial's own for its state and config file, removed at its end (by the
    guardian too, should the worker die). Not in Ray's trial working directory, whose files
    Ray may copy into the experiment."""
    scratch = Path(tempfile.mkdtemp(prefix=f"raytune_hpo_{trial_id}_"))
    GUARDIAN.remove_folder(scratch)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        GUARDIAN.drop(scratch)


def _restore_state(scratch: Path, restored: tune.Checkpoint | None) -> Path:
    """The command's state folder in ``scratch``: the restored checkpoint's files, or empty."""
    checkpoint_dir = scratch / "checkpoint"
    if restored is None:
        checkpoint_dir.mkdir()
    else:
        restored.to_directory(str(checkpoint_dir))
    return checkpoint_dir


def _write_config(scratch: Path, config: dict[str, Any]) -> Path:
    """The file of ``${args_json_file}``: the hyperparameters as JSON."""
    json_file = scratch / "config.json"
    json_file.write_text(json.dumps(plain(config), indent=2, sort_keys=True, default=str))
    return json_file


def _environment(variables: dict[str, str], checkpoint_dir: Path) -> dict[str, str]:
    """The command's environment: the worker's, the trial's ``variables``, the state folder,
    and ``PATH`` starting with the folder of the trial's Python (``python`` runs the Python
    that runs the trial, as in an activated environment)."""
    return {
        **os.environ,
        **variables,
        "PATH": trial_path(),
        CHECKPOINT_DIR_ENV: str(checkpoint_dir),
    }


@contextlib.contextmanager
def _code_linked(work: Path, code_dir: Path) -> Iterator[Path]:
    """``work`` with the entries of ``code_dir`` linked in while the command runs."""
    links = link_code_folder(work, code_dir)
    for link in links:
        GUARDIAN.remove_folder(link)
    try:
        yield work
    finally:
        unlink(links)
        for link in links:
            GUARDIAN.drop(link)


class _Outcome(NamedTuple):
    """How a command ended: its exit code, how many reports it made, the last lines of its
    output and the names it wrote that held numbers (for the message when it made none)."""

    code: int
    reports: int
    stdout_tail: Sequence[str]
    stderr_tail: Sequence[str]
    seen: list[str]


@dataclass(frozen=True)
class _Run:
    """One start of a trial's command and what its reports need."""

    spec: CommandSpec
    metric: str
    folder: Path
    work: Path
    checkpoint_dir: Path
    restored: tune.Checkpoint | None
    max_epochs: int | None

    def command(self, argv: list[str], env: dict[str, str]) -> _Outcome:
        """Run the command in ``work``, reporting until it ends; ended with its group."""
        process = CommandProcess(argv, self.work, env, self.spec.stop_grace_s)
        try:
            stderr = Drain(
                cast(IO[str], process.popen.stderr), self.folder / STDERR_LOG, sys.stderr
            )
            reporter = Reporter(
                process,
                self.checkpoint_dir,
                restored=self.restored.get_metadata() if self.restored is not None else None,
                step=self.spec.metrics.step,
                last=self.max_epochs,
                grace_s=self.spec.stop_grace_s,
            )
            stdout_tail, seen = self.report(reporter)
            code = process.popen.wait()
            stderr.join()
        finally:
            process.end()
        return _Outcome(code, reporter.reports, stdout_tail, stderr.tail, seen)

    def report(self, reporter: Reporter) -> tuple[Sequence[str], list[str]]:
        """Report what the command writes, read in its metrics format (its stdout lines or
        the files it writes below ``work``), until it ends.

        Returns:
            The last lines of its stdout, and the names it wrote that held numbers.
        """
        fmt = self.spec.metrics
        after = self.spec.state_saved == "after_report"
        read_files = metric_format(fmt.format).read_files
        if read_files is not None:
            files = read_files(self.work, self.metric, fmt.step)
            return report_files(reporter, self.folder, files, after=after), files.tags_seen
        lines = LineReports(self.metric, fmt)
        return report_lines(reporter, self.folder, lines, after=after), lines.keys_seen


def _check_exit_code(outcome: _Outcome, spec: CommandSpec, folder: Path) -> None:
    """Raise the error of a command that failed: how it ended, its last stderr lines, and how
    to run it again by hand.

    Raises:
        CommandError: Its exit code is not 0.
    """
    code = outcome.code
    if code == 0:
        return
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    raise CommandError(
        f"command {how}{_cause(outcome.stderr_tail)} (command: {spec.label})\n"
        f"last lines of stderr ({folder / STDERR_LOG}):\n"
        + _lines(outcome.stderr_tail)
        + f"\nrun it again by hand: sh {folder / COMMAND_FILE}"
    )


def _lines(tail: Iterable[str]) -> str:
    return "\n".join(meaningful_lines(tail, TAIL_LINES)) or "(none)"


def _cause(tail: Iterable[str]) -> str:
    """``: <the last meaningful line of stderr>`` for the error's first line, shortened."""
    last = meaningful_lines(tail, 1)
    if not last:
        return ", writing nothing to stderr"
    text = last[0].strip()
    return f": {text if len(text) <= CAUSE_CHARS else text[: CAUSE_CHARS - 3] + '...'}"
