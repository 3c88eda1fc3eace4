"""Ray's own output, tamed for the console's output modes (:data:`OUTPUT_MODES`).

In ``normal``, ``show_output`` and ``quiet`` mode Ray's own output gives way:

- Tune's progress reporter: the legacy engine at verbosity 0 prints nothing (the new engine at
  verbosity 0 still prints its configuration and error boxes), so :func:`configure` sets
  ``RAY_AIR_NEW_OUTPUT=0`` and :func:`ray_verbosity` gives 0;
- driver loggers: the token-authentication warning of a local Ray instance, and what repeats
  the console's lines: a failed trial's traceback (it stays in the trial's error file), the
  list of errored trials, Ctrl-C's notices (with Ray's ``Tuner.restore`` hint), complaints
  about trials that never reported;
- worker output: Ray forwards every line a worker prints, prefixed by the worker's process id,
  which says nothing once actors are reused across trials. When a trial starts, the console
  has its actor write Ray's own name marker into its output (:func:`name_output`), and a
  printer in place of Ray's (:class:`WorkerOutput`, put there by :func:`route_worker_output`)
  prints the lines so named with the trial id, without Ray's message for every saved
  checkpoint; output of other processes still goes through Ray's printer. The private Ray API
  this takes (where Ray's printer sits, the log monitor's ``:actor_name:`` marker) comes from
  :mod:`raytune_hpo.ray_compat`.

In ``verbose`` mode Ray prints as it always does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any, Literal

from raytune_hpo.console.screen import Screen
from raytune_hpo.output_lines import is_trial_warning
from raytune_hpo.ray_compat import connecting, output

OutputMode = Literal["normal", "quiet", "verbose", "show_output"]
OUTPUT_MODES: tuple[OutputMode, ...] = ("normal", "quiet", "verbose", "show_output")
RAY_WORKER_NOISE = re.compile(
    r"^(Checkpoint successfully created at: |Restored on \S+ from checkpoint: "
    r"|wandb: WARNING Using a boolean value for 'reinit' is deprecated)"
)
"""Lines Ray's own code prints in workers: one per saved or restored checkpoint in a trial's,
and wandb's complaint about the arguments Ray's W&B logging actors pass it."""
NEW_OUTPUT_SWITCH = "RAY_AIR_NEW_OUTPUT"
_USER_NEW_OUTPUT = os.environ.get(NEW_OUTPUT_SWITCH)
_QUIET_LOGGERS = ("ray.tune", "ray.train", "ray.air")
_TRIAL_NAME = "raytune-hpo trial "
_RAY_PRINTER = "ray_print_logs"
_OUR_PRINTER = "raytune_hpo_console"
_ray_printer: Callable[[dict[str, Any]], None] | None = None
"""Ray's printer of worker output, kept while ours stands in its place."""


class _DropMessages(logging.Filter):
    """Drops the records of one logger whose message starts with one of ``prefixes``."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


_DRIVER_REPEATS = {
    # A failure's traceback: the trial line names the exception and the error file.
    "ray.tune.execution.tune_controller": _DropMessages("Trial task failed for trial"),
    "ray.tune.tune": _DropMessages(
        "Trials did not complete",  # the trials in ERROR, after their own lines
        # Ctrl-C: raytune-hpo says that it stops and how to resume (not `Tuner.restore`).
        "Stop signal received",
        "Experiment has been interrupted",
    ),
    # No trial reported (each one that never started has an empty ``result.json``, see
    # result_json_logger): the summary says so.
    "ray.tune.analysis.experiment_analysis": _DropMessages("Could not find best trial"),
    # A trial's failure after Ray Tune stopped caring for it (the experiment stopped): the
    # traceback of an error nobody asked for.
    output.UNHANDLED_ERROR_LOGGER: _DropMessages("Unhandled error"),
    # Tune's loop timing its own steps (W&B's first run of an experiment takes seconds).
    "ray.tune.utils.util": _DropMessages("The `", "Processing trial results took"),
}


def configure(mode: OutputMode) -> None:
    """Set up Ray's own output for ``mode``, before Ray starts and before every run.

    Idempotent, and undoes an earlier call with another mode (``verbose`` restores Ray's
    defaults). ``RAY_AIR_NEW_OUTPUT=0`` holds only until the experiment's console starts: Ray
    Tune reads it once, at the start of ``fit``, and other tuners of the process keep the
    user's setting.

    Raises:
        ValueError: ``mode`` is not one of ``OUTPUT_MODES``.
    """
    if mode not in OUTPUT_MODES:
        raise ValueError(f"output mode must be one of {', '.join(OUTPUT_MODES)}, got {mode!r}")
    verbose = mode == "verbose"
    auth = logging.getLogger(connecting.AUTH_SETUP_LOGGER)
    auth.setLevel(logging.NOTSET if verbose else logging.ERROR)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if mode == "quiet" else logging.NOTSET)
    for name, repeats in _DRIVER_REPEATS.items():
        logging.getLogger(name).removeFilter(repeats)
        if not verbose:
            logging.getLogger(name).addFilter(repeats)
    if verbose:
        restore_new_output()
        route_worker_output(None)
        output.drop_error_messages(None)
    else:
        os.environ[NEW_OUTPUT_SWITCH] = "0"
        output.drop_error_messages(lambda line: WORKER_DIED_NOTE.search(line) is not None)


def restore_new_output() -> None:
    """``RAY_AIR_NEW_OUTPUT`` as the user had it."""
    if _USER_NEW_OUTPUT is None:
        os.environ.pop(NEW_OUTPUT_SWITCH, None)
    else:
        os.environ[NEW_OUTPUT_SWITCH] = _USER_NEW_OUTPUT


def ray_verbosity(mode: OutputMode) -> int:
    """``RunConfig.verbose`` for ``mode``: Ray's default for ``verbose``, else silent."""
    return 1 if mode == "verbose" else 0


def route_worker_output(printer: Callable[[dict[str, Any]], None] | None) -> None:
    """Send the output Ray forwards from workers to ``printer``; None: back to Ray's own."""
    global _ray_printer
    dispatcher = output.worker_output_dispatcher()
    handlers = dict(dispatcher.handlers)
    _ray_printer = handlers.get(_RAY_PRINTER, _ray_printer)
    if _ray_printer is None:  # Ray prints no worker output here (log_to_driver=False)
        return
    dispatcher.remove_handler(_RAY_PRINTER)
    dispatcher.remove_handler(_OUR_PRINTER)
    if printer is None:
        dispatcher.add_handler(_RAY_PRINTER, _ray_printer)
    else:
        dispatcher.add_handler(_OUR_PRINTER, printer)


WORKER_DIED_NOTE = re.compile(r"A worker died or was killed while executing a task")
"""The raylet's paragraph on a worker process that died, which the trial's end line says in
one line (cause and worker log) where the console shows trial events."""


def is_ray_noise(line: str) -> bool:
    """Whether a line a trial's worker printed comes from Ray itself, not the trial's code."""
    return RAY_WORKER_NOISE.match(line) is not None


def name_output(actor: Any, trial_id: str) -> None:
    """In a trial's worker: mark what the process prints from now on as ``trial_id``'s.

    Ray's log monitor reads a worker's output files line by line and takes a line
    ``:actor_name:NAME`` (which it does not forward) as the name of the lines after it; Ray
    writes one when an actor starts. Written straight to the files (file descriptors 1 and 2),
    behind everything printed before, so lines are named by the trial that printed them even
    when the actor passes from trial to trial faster than the lines reach the driver.

    Args:
        actor: The trial's actor (``__ray_call__`` passes it).
        trial_id: The trial that runs on it now.
    """
    mark = output.output_name_line(f"{_TRIAL_NAME}{trial_id}")
    for descriptor in (1, 2):
        os.write(descriptor, mark)


class WorkerOutput:
    """Ray's printer of worker output, with trial ids as prefixes and Ray's noise dropped.

    Args:
        screen: Where the lines go.
        quiet: Print nothing of the trials' own output but their warning lines
            (:func:`~raytune_hpo.output_lines.warn_from_trial`).
    """

    def __init__(self, screen: Screen, *, quiet: bool) -> None:
        self.screen = screen
        self.quiet = quiet

    def __call__(self, data: dict[str, Any]) -> None:
        lines = [line for line in data.get("lines", []) if not is_ray_noise(line)]
        name = str(data.get("actor_name") or "")
        if not name.startswith(_TRIAL_NAME):
            # Another process, or a trial's actor before its trial started: as Ray prints it.
            printer = _ray_printer
            if printer is not None and (lines or not data.get("lines")):
                self.screen.foreign(lambda: printer({**data, "lines": lines}))
            return
        trial_id = name.removeprefix(_TRIAL_NAME)
        for line in lines:
            if self.quiet and not is_trial_warning(line):
                continue
            if not line.strip():
                continue  # a blank line says nothing once prefixed by its trial
            self.screen.line(f"(trial {trial_id}) {line}", err=bool(data.get("is_err")))
