"""What an experiment prints while it runs: a header, one line per trial event, live progress.

Four output modes:

- ``normal``: the header (experiment, folder, searcher and scheduler, trials, budget,
  resources, W&B), one line per trial event (started, stopped early, finished, failed and
  retried, errored, PBT exploit, diverged), and the progress: a bar redrawn in place on a
  terminal, a status line every ``STATUS_EVERY_S`` in a pipe or log file, and a last status
  line at the end. A trial's own output stays in its files; a failed trial's line is followed
  by the last meaningful lines of its error (for a command: of its output);
- ``show_output``: as ``normal``, with every line the trials print, prefixed by the trial id;
- ``quiet``: failed trials only (on stderr);
- ``verbose``: the header, then Ray Tune's own output as Ray prints it.

In ``normal`` and ``quiet`` mode Ray's own output gives way:

- Tune's progress reporter: the legacy engine at verbosity 0 prints nothing (the new engine at
  verbosity 0 still prints its configuration and error boxes), so :func:`configure` sets
  ``RAY_AIR_NEW_OUTPUT=0`` and :func:`ray_verbosity` gives 0;
- driver loggers: the token-authentication warning of a local Ray instance, and what repeats
  the console's lines: a failed trial's traceback (it stays in the trial's error file), the
  list of errored trials, Ctrl-C's notices (with Ray's ``Tuner.restore`` hint), complaints
  about trials that never reported;
- worker output: Ray forwards every line a worker prints, prefixed by the worker's process id,
  which says nothing once actors are reused across trials. When a trial starts,
  :class:`ConsoleCallback` has its actor write Ray's own name marker into its output
  (:func:`_name_output`), and a printer in place of Ray's prints the lines so named with the
  trial id, without Ray's message for every saved checkpoint; output of other processes still
  goes through Ray's printer. The private Ray API this takes (where Ray's printer sits, the
  log monitor's ``:actor_name:`` marker, the restored ``RunConfig`` in :func:`use_on_restored`,
  a trial's actor and start time) comes from :mod:`raytune_hpo.ray_compat.ray_internals`.

Everything a trial prints also lands in ``stdout`` and ``stderr`` in its folder (the runner sets
Ray Tune's ``log_to_file`` and has the trials' working directories synced into their folders).
"""

from __future__ import annotations

import logging
import numbers
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

import ray
from ray.tune import Callback
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from raytune_hpo.output_lines import error_details, error_headline, is_trial_warning
from raytune_hpo.ray_compat import ray_internals
from raytune_hpo.search.search_space import spec_kind

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

    from raytune_hpo.config import ExperimentConfig

OutputMode = Literal["normal", "quiet", "verbose", "show_output"]
OUTPUT_MODES: tuple[OutputMode, ...] = ("normal", "quiet", "verbose", "show_output")
PROGRESS_MODES: tuple[OutputMode, ...] = ("normal", "show_output")
"""Modes that show trial events and the progress."""
FAILURE_LINES = 5
"""Lines of a failed trial's own output (or of its error) shown under its failure line."""
STATUS_EVERY_S = 30.0
"""Seconds between status lines when the console is not a terminal (a pipe, a log file, CI)."""
BAR_REFRESH_S = 0.5
"""Seconds between redraws of the progress bar on a terminal."""
EARLY_STOPPERS = {"asha": "ASHA", "hyperband": "HyperBand", "median": "the median stopping rule"}
"""Schedulers that end trials before ``max_epochs``, as a sentence names them."""
RAY_WORKER_NOISE = re.compile(
    r"^(Checkpoint successfully created at: |Restored on \S+ from checkpoint: "
    r"|wandb: WARNING Using a boolean value for 'reinit' is deprecated)"
)
"""Lines Ray's own code prints in workers: one per saved or restored checkpoint in a trial's,
and wandb's complaint about the arguments Ray's W&B logging actors pass it."""
NEW_OUTPUT_SWITCH = "RAY_AIR_NEW_OUTPUT"
_USER_NEW_OUTPUT = os.environ.get(NEW_OUTPUT_SWITCH)
_QUIET_LOGGERS = ("ray.tune", "ray.train", "ray.air")
_ENDED = ("TERMINATED", "ERROR")
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
    ray_internals.UNHANDLED_ERROR_LOGGER: _DropMessages("Unhandled error"),
    # Tune's loop timing its own steps (W&B's first run of an experiment takes seconds).
    "ray.tune.utils.util": _DropMessages("The `", "Processing trial results took"),
}


# --- what Ray prints --------------------------------------------------------------------------


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
    auth = logging.getLogger(ray_internals.AUTH_SETUP_LOGGER)
    auth.setLevel(logging.NOTSET if verbose else logging.ERROR)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if mode == "quiet" else logging.NOTSET)
    for name, repeats in _DRIVER_REPEATS.items():
        logging.getLogger(name).removeFilter(repeats)
        if not verbose:
            logging.getLogger(name).addFilter(repeats)
    if verbose:
        _restore_new_output()
        _route_worker_output(None)
    else:
        os.environ[NEW_OUTPUT_SWITCH] = "0"


def _restore_new_output() -> None:
    """``RAY_AIR_NEW_OUTPUT`` as the user had it."""
    if _USER_NEW_OUTPUT is None:
        os.environ.pop(NEW_OUTPUT_SWITCH, None)
    else:
        os.environ[NEW_OUTPUT_SWITCH] = _USER_NEW_OUTPUT


def ray_verbosity(mode: OutputMode) -> int:
    """``RunConfig.verbose`` for ``mode``: Ray's default for ``verbose``, else silent."""
    return 1 if mode == "verbose" else 0


def use_on_restored(tuner: Any, mode: OutputMode) -> None:
    """Give a tuner from ``Tuner.restore`` this session's output ``mode``.

    Ray Tune restores the ``RunConfig`` of the original run, with its ``verbose`` and its
    callbacks; both are set for ``mode`` here (a tuner of Ray Client, which keeps its run
    config on the cluster, stays as it was).
    """
    run_config = ray_internals.tuner_run_config(tuner)
    if run_config is None:
        return
    run_config.verbose = ray_verbosity(mode)
    for callback in run_config.callbacks or []:
        if isinstance(callback, ConsoleCallback):
            callback.mode = mode


def _route_worker_output(printer: Callable[[dict[str, Any]], None] | None) -> None:
    """Send the output Ray forwards from workers to ``printer``; None: back to Ray's own."""
    global _ray_printer
    dispatcher = ray_internals.worker_output_dispatcher()
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


def is_ray_noise(line: str) -> bool:
    """Whether a line a trial's worker printed comes from Ray itself, not the trial's code."""
    return RAY_WORKER_NOISE.match(line) is not None


# --- formatting (pure) ------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A hyperparameter or metric for a line: floats to 4 significant digits."""
    if isinstance(value, numbers.Integral):  # bool too
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)


def format_params(config: Mapping[str, Any], keys: Sequence[str] = ()) -> str:
    """``key=value`` pairs of ``config``: the ``keys`` searched over, or all when none are."""
    shown = [k for k in keys if k in config] or list(config)
    return " ".join(f"{k}={format_value(config[k])}" for k in shown)


def format_duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ending(
    epochs: int,
    max_epochs: int,
    *,
    stopped: bool,
    stopper: str | None,
    out_of_time: bool,
) -> str:
    """How a trial that ended without an error ended, as a phrase.

    Args:
        epochs: Epochs (reports) the trial ran.
        max_epochs: The experiment's epochs per trial.
        stopped: Ray Tune stopped the trial after its last report (Ray marks that report
            ``done``); otherwise its code returned by itself.
        stopper: The early-stopping scheduler's name in a sentence; None for the others.
        out_of_time: The experiment's time budget had run out.
    """
    if epochs >= max_epochs or not (stopped or out_of_time):
        return f"finished after {epochs_text(epochs)}"
    if out_of_time:
        return f"stopped by the time budget at epoch {epochs} of {max_epochs}"
    if stopper is not None:
        return f"stopped early by {stopper} at epoch {epochs} of {max_epochs}"
    return f"stopped at epoch {epochs} of {max_epochs}"


def epochs_text(epochs: int) -> str:
    """``1 epoch``, ``3 epochs``."""
    return f"{epochs} epoch{'' if epochs == 1 else 's'}"


def after_failure(failures: int, max_failures: int, *, retried: bool) -> str:
    """What happens to a trial after its ``failures``-th failure, as a phrase.

    Args:
        failures: The trial's failures so far, this one included.
        max_failures: ``failure.max_failures`` (-1: retried without end).
        retried: Ray Tune retries the trial (else it ends in ERROR).
    """
    if retried:
        of = "" if max_failures < 0 else f" of {max_failures}"
        return f"retry {failures}{of} from its last checkpoint"
    if max_failures == 0:
        return "it ends in ERROR (failure.max_failures is 0: no retries)"
    return f"no retries left ({max_failures} used): it ends in ERROR"


def exploit_line(record: Mapping[str, Any]) -> str:
    """One PBT exploit (a ``pbt_history.jsonl`` record): trial <- donor, old -> new values."""
    old, new = record.get("old", {}), record.get("new", {})
    changes = ", ".join(
        f"{key} {format_value(old.get(key))} -> {format_value(value)}" for key, value in new.items()
    )
    return (
        f"trial {record['trial_id']} <- {record['donor_id']} (PBT exploit at epoch "
        f"{record.get('training_iteration')}): {changes or 'same values'}"
    )


def concurrency(
    cpu: float, gpu: float, cluster_cpu: float, cluster_gpu: float, limit: int | None
) -> int:
    """How many trials asking for ``cpu`` and ``gpu`` fit on the cluster at once."""
    fits = [int(cluster_cpu // cpu + 1e-9)]
    if gpu > 0:
        fits.append(int(cluster_gpu // gpu + 1e-9))
    if limit is not None:
        fits.append(limit)
    return max(0, min(fits))


def pick_best(
    candidates: Iterable[tuple[str, float]], mode: Literal["min", "max"]
) -> tuple[str, float] | None:
    """The ``(trial id, value)`` with the lowest (``min``) or highest (``max``) value."""
    best: tuple[str, float] | None = None
    for trial_id, value in candidates:
        if best is None or (value < best[1] if mode == "min" else value > best[1]):
            best = (trial_id, value)
    return best


@dataclass(frozen=True)
class Progress:
    """Where an experiment stands.

    Attributes:
        done: Trials that ended (finished, stopped or errored).
        total: Trials the experiment runs; None when unknown.
        running: Trials running now.
        errored: Trials that ended in an error.
        best: ``(trial id, value)`` of the best value of the metric so far.
        elapsed_s: Seconds since the experiment started.
        budget_s: The experiment's time budget, if any.
        cut_short: At the end: trials Ray stopped while they ran (the time budget ended).
        not_started: At the end: trials the experiment ended before they ran.
        interrupted: At the end: trials that had started and not finished when Ctrl-C
            stopped the experiment (they go on from their checkpoints on ``resume``).
    """

    done: int
    total: int | None
    running: int
    errored: int
    best: tuple[str, float] | None
    elapsed_s: float
    budget_s: float | None = None
    cut_short: int = 0
    not_started: int = 0
    interrupted: int = 0

    def remaining_s(self) -> float | None:
        """Seconds left: the rest of the budget, else elapsed time per finished trial."""
        if self.budget_s is not None:
            return max(0.0, self.budget_s - self.elapsed_s)
        if self.total is None or self.done == 0:
            return None
        return self.elapsed_s * (self.total - self.done) / self.done

    def best_text(self, metric: str) -> str:
        """``best METRIC VALUE (trial ID)``, or that nothing was reported yet."""
        if self.best is None:
            return f"no {metric} yet"
        return f"best {metric} {format_value(self.best[1])} (trial {self.best[0]})"

    def postfix(self, metric: str) -> str:
        """What the progress bar shows after the count and times (the best first)."""
        parts = [self.best_text(metric), f"{self.running} running"]
        if self.errored:
            parts.append(f"{self.errored} errored")
        parts.extend(self._cut_off())
        if self.budget_s is not None:
            parts.insert(0, f"{self.done}/{self.total or '?'} trials done")
        return ", ".join(parts)

    def status_line(self, metric: str, *, final: bool = False) -> str:
        """The plain status line printed in a pipe or log file (``final``: without estimate)."""
        of = f"/{self.total}" if self.total is not None else ""
        text = f"[{format_duration(self.elapsed_s)}] {self.done}{of} trials done"
        if self.errored:
            text += f" ({self.errored} errored)"
        text += "".join(f", {part}" for part in self._cut_off())
        if not final:
            text += f", {self.running} running"
        text += f", {self.best_text(metric)}"
        left = self.remaining_s()
        if not final and left is not None:
            text += f", about {format_duration(left)} left"
        return text

    def _cut_off(self) -> list[str]:
        """The trials the end of the experiment stopped or never ran, as phrases."""
        by = " by the time budget" if self.budget_s is not None else ""
        parts = [f"{self.cut_short} stopped{by}"] if self.cut_short else []
        if self.interrupted:
            parts.append(f"{self.interrupted} interrupted (state saved)")
        return parts + ([f"{self.not_started} never started"] if self.not_started else [])


class StatusSchedule:
    """When a status line is due: every ``every_s`` seconds after ``start``.

    Args:
        every_s: Seconds between two status lines.
        start: When the experiment started (``time.monotonic()``).
    """

    def __init__(self, every_s: float, start: float) -> None:
        self.every_s = every_s
        self.last = start

    def due(self, now: float) -> bool:
        """Whether a line is due at ``now``; if so, the next one is due ``every_s`` later."""
        if now - self.last < self.every_s:
            return False
        self.last = now
        return True


# --- the experiment as the header shows it ----------------------------------------------------


@dataclass(frozen=True)
class ExperimentInfo:
    """What the console says about an experiment, taken from its config.

    Attributes:
        name: The experiment's name.
        folder: Its experiment folder (a local path or a URI).
        trainable: The trainable in one line.
        searcher: Searcher name.
        scheduler: Scheduler name.
        metric: The metric.
        mode: ``min`` or ``max``.
        max_epochs: Epochs per trial.
        num_samples: Trials (grid: repetitions of the grid).
        time_budget_s: The time budget, if any.
        cpu: CPUs per trial.
        gpu: GPUs per trial.
        max_concurrent_trials: Cap on trials at once, if any.
        max_failures: Retries of a failing trial (-1: without end).
        params: The searched (not constant) hyperparameters, in config order.
        wandb: W&B logging is on.
        wandb_project: The W&B project.
        wandb_group: The W&B group of the runs.
    """

    name: str
    folder: str
    trainable: str
    searcher: str
    scheduler: str
    metric: str
    mode: Literal["min", "max"]
    max_epochs: int
    num_samples: int
    time_budget_s: float | None
    cpu: float
    gpu: float
    max_concurrent_trials: int | None
    max_failures: int
    params: tuple[str, ...]
    wandb: bool = False
    wandb_project: str = ""
    wandb_group: str = ""

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, folder: str | Path) -> ExperimentInfo:
        """The info of a validated config whose experiment folder is ``folder``."""
        return cls(
            name=cfg.name,
            folder=str(folder),
            trainable=cfg.trainable_label,
            searcher=cfg.searcher.name,
            scheduler=cfg.scheduler.name,
            metric=cfg.metric,
            mode=cfg.mode,
            max_epochs=cfg.max_epochs,
            num_samples=cfg.num_samples,
            time_budget_s=cfg.time_budget_s,
            cpu=cfg.resources_per_trial.cpu,
            gpu=cfg.resources_per_trial.gpu,
            max_concurrent_trials=cfg.max_concurrent_trials,
            max_failures=cfg.failure.max_failures,
            params=tuple(k for k, spec in cfg.search_space.items() if spec_kind(k, spec)),
            wandb=cfg.wandb.enabled,
            wandb_project=cfg.wandb.project,
            wandb_group=cfg.wandb.group or cfg.name,
        )

    def header(
        self,
        total: int | None,
        cluster: Mapping[str, float],
        env: Mapping[str, str],
    ) -> list[str]:
        """The lines printed when the experiment starts.

        Args:
            total: Trials the experiment runs (a grid multiplies ``num_samples``).
            cluster: The cluster's resources (``ray.cluster_resources()``).
            env: The environment, for where W&B writes (``WANDB_MODE``, ``WANDB_DIR``).
        """
        trials = f"{total} trials" if total is not None else f"{self.num_samples} samples"
        goal = "minimising" if self.mode == "min" else "maximising"
        cpus, gpus = float(cluster.get("CPU", 0)), float(cluster.get("GPU", 0))
        at_once = concurrency(self.cpu, self.gpu, cpus, gpus, self.max_concurrent_trials)
        budget = (
            f"{format_duration(self.time_budget_s)}, then every trial stops"
            if self.time_budget_s is not None
            else "none: runs until every trial has ended"
        )
        return [
            f"Experiment {self.name}: {trials} of {self.trainable}, up to {self.max_epochs} "
            f"epochs each, {goal} {self.metric}",
            f"  search     {self.searcher} searcher, {self.scheduler} scheduler",
            f"  folder     {self.folder}",
            f"  resources  {format_value(self.cpu)} CPU, {format_value(self.gpu)} GPU per "
            f"trial; {at_once} at once on {format_value(cpus)} CPUs, {format_value(gpus)} GPUs",
            f"  budget     {budget}",
            f"  W&B        {self.wandb_text(env)}",
        ]

    def wandb_text(self, env: Mapping[str, str]) -> str:
        """Where W&B logs go: ``off``, or :func:`wandb_where`."""
        return wandb_where(env, self.wandb_project, self.wandb_group) if self.wandb else "off"


def wandb_where(env: Mapping[str, str], project: str, group: str) -> str:
    """Where W&B logs go, from ``WANDB_MODE`` and ``WANDB_DIR`` as the W&B set-up left them.

    Args:
        env: The environment (``os.environ``) after :func:`tracking.build_wandb_callbacks`.
        project: The W&B project.
        group: The group of the experiment's runs.
    """
    if env.get("WANDB_MODE") == "offline":
        runs = Path(env.get("WANDB_DIR", ".")) / "wandb"
        return f"offline, runs in {runs}; `wandb sync {runs}` uploads them"
    return f"online, project {project}, group {group}"


# --- the console ------------------------------------------------------------------------------


class _Screen:
    """Writes lines to the console, above the progress bar when there is one.

    Args:
        stream: Where lines and the bar go (``sys.stdout``).
        bar: A tqdm bar drawn on ``stream``, or None.
    """

    def __init__(self, stream: TextIO, bar: tqdm | None = None) -> None:
        self.stream = stream
        self.bar = bar
        self._lock = threading.Lock()

    def line(self, text: str, *, err: bool = False) -> None:
        """Print ``text`` on stdout (``err``: stderr) without breaking the bar."""
        target = sys.stderr if err else self.stream
        with self._lock:
            if self.bar is not None:
                tqdm.write(text, file=target)
            else:
                print(text, file=target, flush=True)

    def foreign(self, write: Callable[[], None]) -> None:
        """Let ``write`` print by itself, with the bar cleared meanwhile."""
        with self._lock:
            if self.bar is None:
                write()
                return
            with tqdm.external_write_mode(file=self.stream):
                write()


def _name_output(actor: Any, trial_id: str) -> None:
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
    mark = ray_internals.output_name_line(f"{_TRIAL_NAME}{trial_id}")
    for descriptor in (1, 2):
        os.write(descriptor, mark)


class _WorkerOutput:
    """Ray's printer of worker output, with trial ids as prefixes and Ray's noise dropped.

    Args:
        screen: Where the lines go.
        quiet: Print nothing of the trials' own output but their warning lines
            (:func:`~raytune_hpo.output_lines.warn_from_trial`).
    """

    def __init__(self, screen: _Screen, *, quiet: bool) -> None:
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


class ConsoleCallback(Callback):
    """Ray Tune callback that prints the header, trial events and progress of an experiment.

    It is pickled with the experiment (Ray Tune saves its ``RunConfig``); what it builds while
    the experiment runs is not.

    Args:
        info: The experiment, as the header shows it.
        mode: ``normal``, ``quiet`` or ``verbose`` (see the module docstring).
        stream: Where lines go; None: ``sys.stdout`` at the start of the experiment.
    """

    def __init__(
        self, info: ExperimentInfo, mode: OutputMode = "normal", stream: TextIO | None = None
    ) -> None:
        self.info = info
        self.mode = mode
        self.stream = stream
        self._reset()

    def _reset(self) -> None:
        self._screen: _Screen | None = None
        self._output: _WorkerOutput | None = None
        self._exit = ExitStack()
        self._start = time.monotonic()
        self._schedule = StatusSchedule(STATUS_EVERY_S, self._start)
        self._last_draw = 0.0
        self._total: int | None = None
        self._seen: set[str] = set()
        self._stopped: set[str] = set()
        self._diverged: set[str] = set()
        self._ended: set[str] = set()
        self._unfinished: set[str] = set()  # at the end of Ray Tune's last step
        self._looked = False
        self._trials: list[Trial] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"info": self.info, "mode": self.mode, "stream": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    # --- Ray Tune's hooks ----------------------------------------------------------------------

    def setup(
        self,
        stop: Any = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        """Print the header, take over the workers' output and start the progress display."""
        self._reset()
        _restore_new_output()  # Ray Tune has chosen its output engine (see configure)
        stream = self.stream or sys.stdout
        if total_num_samples is not None and total_num_samples < sys.maxsize:
            self._total = total_num_samples
        if self.mode != "quiet":
            header = self.info.header(self._total, _cluster_resources(), os.environ)
            print("\n".join(header), file=stream, flush=True)
        if self.mode == "verbose":
            return
        bar = None
        if self.mode in PROGRESS_MODES and stream.isatty():
            bar = self._exit.enter_context(self._bar(stream))
            self._exit.enter_context(logging_redirect_tqdm([logging.getLogger("ray")]))
        self._screen = _Screen(stream, bar)
        self._output = _WorkerOutput(self._screen, quiet=self.mode != "show_output")
        _route_worker_output(self._output)

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Name the trial's output; say that it started (or resumed)."""
        self._look(trials)
        self._name_output(trial)
        if trial.trial_id in self._seen:
            return  # a retry, a PBT exploit or a paused trial going on: said already
        self._seen.add(trial.trial_id)
        params = format_params(trial.config, self.info.params)
        epochs = (trial.last_result or {}).get("training_iteration")
        if epochs:
            self._event(f"trial {trial.trial_id} resumed ({epochs_text(epochs)} before): {params}")
        else:
            self._event(f"trial {trial.trial_id} started: {params}")

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        """Say when the trial's training diverged."""
        self._look(trials)
        if result.get("done"):  # Ray Tune decided to stop the trial at this report
            self._stopped.add(trial.trial_id)
        if result.get("diverged") and trial.trial_id not in self._diverged:
            self._diverged.add(trial.trial_id)
            self._event(
                f"trial {trial.trial_id} diverged at epoch {result.get('training_iteration')} "
                f"({self._metric_text(result.get(self.info.metric))}) and stops"
            )
        self._draw(force=False)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Say how the trial ended: finished, stopped early (by which scheduler) or stopped."""
        self._look(trials)
        self._ended.add(trial.trial_id)
        if trial.trial_id not in self._diverged:
            result = trial.last_result or {}
            budget = self.info.time_budget_s
            how = ending(
                int(result.get("training_iteration") or 0),
                self.info.max_epochs,
                stopped=trial.trial_id in self._stopped,
                stopper=EARLY_STOPPERS.get(self.info.scheduler),
                out_of_time=budget is not None and self._elapsed() >= budget,
            )
            self._event(f"trial {trial.trial_id} {how}: {self._trial_metric(trial)}")
        self._draw(force=True)

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Say that the trial failed and is retried from its last checkpoint."""
        self._look(trials)
        self._failure(trial, retried=True)

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Say that the trial failed for good."""
        self._look(trials)
        self._ended.add(trial.trial_id)
        self._failure(trial, retried=False)
        self._draw(force=True)

    def on_step_end(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        """Redraw the bar, or print a status line when one is due."""
        self._look(trials)
        self._unfinished = {t.trial_id for t in trials if t.status not in _ENDED}
        self._draw(force=False)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Leave the final progress on the console."""
        self._look(trials)
        if self._screen is None or self.mode not in PROGRESS_MODES:
            return
        progress = self._progress(final=True)
        if self._screen.bar is not None:
            self._update_bar(self._screen.bar, progress)
        else:
            self._screen.line(progress.status_line(self.info.metric, final=True))
        self._screen.bar = None
        self._exit.close()

    # --- PBT ----------------------------------------------------------------------------------

    def exploit(self, record: Mapping[str, Any]) -> None:
        """Say that PBT replaced a trial's state and hyperparameters by a donor's."""
        self._event(exploit_line(record))

    # --- helpers ------------------------------------------------------------------------------

    def _look(self, trials: list[Trial]) -> None:
        """Keep Ray Tune's list of trials; the first time, count those that ended before."""
        self._trials = trials
        if not self._looked and trials:
            self._looked = True  # a resumed experiment's finished trials
            self._ended.update(t.trial_id for t in trials if t.status in _ENDED)

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    def _event(self, text: str, *, error: bool = False) -> None:
        """A trial event: printed in ``normal`` mode, errors also in ``quiet`` mode."""
        if self._screen is None or (self.mode == "quiet" and not error):
            return
        self._screen.line(f"[{format_duration(self._elapsed())}] {text}", err=error)

    def _failure_detail(self, text: str) -> None:
        """A line of a failure's error, indented under the failure's line (on stderr)."""
        if self._screen is not None:
            self._screen.line(f"    {text}", err=True)

    def _failure(self, trial: Trial, *, retried: bool) -> None:
        """The failure line: the exception, what happens next and the error file."""
        epochs = (trial.last_result or {}).get("training_iteration") or 0
        error_file = trial.error_file  # the driver's copy, synced into the trial folder
        summary, details = "no error file", []
        if error_file and Path(error_file).is_file():
            text = Path(error_file).read_text(errors="replace")
            summary, details = error_headline(text), error_details(text, FAILURE_LINES)
        what = after_failure(trial.num_failures, self.info.max_failures, retried=retried)
        where = f"{trial.path}/{Path(error_file).name}" if error_file and trial.path else None
        self._event(
            f"trial {trial.trial_id} failed after epoch {epochs} ({summary}); {what}"
            + (f"; log: {where}" if where else ""),
            error=True,
        )
        for line in details:
            self._failure_detail(line)

    def _metric_text(self, value: Any) -> str:
        return f"{self.info.metric} {format_value(value)}"

    def _trial_metric(self, trial: Trial) -> str:
        stats = trial.metric_analysis.get(self.info.metric)
        if not stats:
            return f"no {self.info.metric} reported"
        last, best = stats["last"], stats[self.info.mode]
        text = self._metric_text(last)
        return text if best == last else f"{text} (its best {format_value(best)})"

    def _name_output(self, trial: Trial) -> None:
        """Have the trial's worker mark its output as the trial's (before the trial runs)."""
        actor = ray_internals.trial_actor(trial)
        if self._output is None or actor is None:
            return
        try:
            ray.get(actor.__ray_call__.remote(_name_output, trial.trial_id), timeout=10)
        except Exception:  # the actor died or does not answer: its lines keep Ray's prefix
            return

    def _progress(self, *, final: bool = False) -> Progress:
        """Counted from trial events: trials Ray stops at the end of a run count as not done.

        ``final``: also count those, and the trials that never started (the time budget or
        Ctrl-C ended the experiment first), created by Ray Tune or not. Ray Tune's own end of
        an experiment (the time budget) stops every unfinished trial inside its last step;
        Ctrl-C leaves the loop after a step and stops them then: those not finished at the end
        of the last step were interrupted.
        """
        statuses = [t.status for t in self._trials]
        cut_short = not_started = interrupted = 0
        if final:
            for t in self._trials:
                started = ray_internals.trial_started(t)
                if not started and t.status != "ERROR":  # one that failed to start failed
                    not_started += 1
                elif started and t.trial_id not in self._ended:
                    if t.trial_id in self._unfinished:
                        interrupted += 1
                    elif t.status == "TERMINATED":
                        cut_short += 1
            not_started += max(0, (self._total or 0) - len(self._trials))  # never created
        errored = [t for t in self._trials if t.trial_id in self._ended and t.status == "ERROR"]
        candidates = (
            (t.trial_id, float(t.metric_analysis[self.info.metric][self.info.mode]))
            for t in self._trials
            if isinstance(
                t.metric_analysis.get(self.info.metric, {}).get(self.info.mode), numbers.Real
            )
        )
        return Progress(
            done=len(self._ended),
            total=self._total,
            running=statuses.count("RUNNING"),
            errored=len(errored),
            best=pick_best(candidates, self.info.mode),
            elapsed_s=self._elapsed(),
            budget_s=self.info.time_budget_s,
            cut_short=cut_short,
            not_started=not_started,
            interrupted=interrupted,
        )

    def _draw(self, *, force: bool) -> None:
        """Redraw the bar (at most every ``BAR_REFRESH_S``) or print a status line when due."""
        if self._screen is None or self.mode not in PROGRESS_MODES:
            return
        now = time.monotonic()
        bar = self._screen.bar
        if bar is not None:
            if force or now - self._last_draw >= BAR_REFRESH_S:
                self._last_draw = now
                self._update_bar(bar, self._progress())
        elif self._schedule.due(now):
            self._screen.line(self._progress().status_line(self.info.metric))

    def _update_bar(self, bar: tqdm, progress: Progress) -> None:
        bar.n = int(min(progress.elapsed_s, bar.total)) if progress.budget_s else progress.done
        bar.set_postfix_str(progress.postfix(self.info.metric), refresh=False)
        bar.refresh()

    def _bar(self, stream: TextIO) -> tqdm:
        if self.info.time_budget_s is not None:
            total: float | None = self.info.time_budget_s
            counts = "{n:.0f}/{total:.0f} s of the time budget"
        else:
            total = self._total
            counts = "{n_fmt}/{total_fmt} trials"
        return tqdm(
            total=total,
            file=stream,
            bar_format=counts + " |{bar}| {elapsed}<{remaining}{postfix}",
            dynamic_ncols=True,
            leave=True,
        )


def _cluster_resources() -> dict[str, float]:
    try:
        return dict(ray.cluster_resources())
    except Exception:  # Ray Client without the call, or a cluster that does not answer
        return {}
