"""The Ray Tune callback that prints what an experiment does while it runs.

Four output modes (:data:`~raytune_hpo.console.ray_output.OutputMode`):

- ``normal``: the header (experiment, folder, searcher and scheduler, trials, budget,
  resources, W&B), one line per trial event (started, stopped early, finished, failed and
  retried, errored, PBT exploit, diverged; past ``STARTS_UP_TO`` trials not the starts: one
  line per trial at any size), and the progress: a bar redrawn in place on a
  terminal, a status line every ``STATUS_EVERY_S`` in a pipe or log file, and a last status
  line at the end. A trial's own output stays in its files; a failed trial's line is followed
  by the last meaningful lines of its error (for a command: of its output);
- ``show_output``: as ``normal`` with the starts at any size, and every line the trials print,
  prefixed by the trial id;
- ``quiet``: failed trials only (on stderr);
- ``verbose``: the header, then Ray Tune's own output as Ray prints it.

How Ray's own output gives way in the other modes is :mod:`~raytune_hpo.console.ray_output`'s
job. The private Ray API the callback takes (the restored ``RunConfig`` in
:func:`use_on_restored`, a trial's actor and start time) comes from
:mod:`raytune_hpo.ray_compat`.

Everything a trial prints also lands in ``stdout`` and ``stderr`` in its folder (the runner sets
Ray Tune's ``log_to_file`` and has the trials' working directories synced into their folders).
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import ray
from ray.tune import Callback
from tqdm.contrib.logging import logging_redirect_tqdm

from raytune_hpo import storage
from raytune_hpo.console import ray_output
from raytune_hpo.console.formatting import (
    after_failure,
    epochs_text,
    exploit_line,
    format_duration,
    format_number,
    format_params,
    pick_best,
)

# Imported at run time, not only for the annotations: an experiment pickled before the console
# was split names the class ``raytune_hpo.console.callback.ExperimentInfo``.
from raytune_hpo.console.header import ExperimentInfo
from raytune_hpo.console.progress import Progress, StatusSchedule, progress_bar, update_bar
from raytune_hpo.console.ray_output import OutputMode, WorkerOutput, name_output
from raytune_hpo.console.screen import Screen
from raytune_hpo.output_lines import (
    crash_cause,
    error_details,
    error_headline,
    worker_death,
    worker_death_line,
)
from raytune_hpo.ray_compat import output, tune_loop
from raytune_hpo.search.schedulers import traits_of
from raytune_hpo.trial_ends import (
    BUDGET,
    ERRORED,
    INTERRUPTED,
    NEVER_STARTED,
    PAUSED,
    TrialEnd,
    derive_end,
    end_of_run,
)

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

PROGRESS_MODES: tuple[OutputMode, ...] = ("normal", "show_output")
"""Modes that show trial events and the progress."""
STARTS_UP_TO = 24
"""Trials in an experiment up to which ``normal`` mode says each trial's start (and resume);
past them only the ends, so that a run of any size prints about one line per trial."""
FAILURE_LINES = 5
"""Lines of a failed trial's own output (or of its error) shown under its failure line."""
STATUS_EVERY_S = 30.0
"""Seconds between status lines when the console is not a terminal (a pipe, a log file, CI)."""
BAR_REFRESH_S = 0.5
"""Seconds between redraws of the progress bar on a terminal."""
_ENDED = ("TERMINATED", "ERROR")


def use_on_restored(tuner: Any, mode: OutputMode) -> None:
    """Give a tuner from ``Tuner.restore`` this session's output ``mode``.

    Ray Tune restores the ``RunConfig`` of the original run, with its ``verbose`` and its
    callbacks; both are set for ``mode`` here (a tuner of Ray Client, which keeps its run
    config on the cluster, stays as it was).
    """
    run_config = tune_loop.tuner_run_config(tuner)
    if run_config is None:
        return
    run_config.verbose = ray_output.ray_verbosity(mode)
    for callback in run_config.callbacks or []:
        if isinstance(callback, ConsoleCallback):
            callback.mode = mode


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
        self._screen: Screen | None = None
        self._output: WorkerOutput | None = None
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
        self._paused: set[str] = set()  # paused by their scheduler when last seen
        self._looked = False
        self._trials: list[Trial] = []
        self.ends: dict[str, TrialEnd] = {}
        """How each trial ended (:mod:`raytune_hpo.trial_ends`), by trial id: filled as trials
        end, and at the experiment's end for those it stopped or never ran."""
        self.ended_here: set[str] = set()
        """The trials that ended in this session (a resumed run's others ended before)."""

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
        ray_output.restore_new_output()  # Ray Tune has chosen its output engine (see configure)
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
            bar = self._exit.enter_context(
                progress_bar(stream, self._total, self.info.time_budget_s)
            )
            self._exit.enter_context(logging_redirect_tqdm([logging.getLogger("ray")]))
        self._screen = Screen(stream, bar)
        self._output = WorkerOutput(self._screen, quiet=self.mode != "show_output")
        ray_output.route_worker_output(self._output)

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Name the trial's output; say that it started (or resumed)."""
        self._look(trials)
        self._name_output(trial)
        if trial.trial_id in self._seen:
            return  # a retry, a PBT exploit or a paused trial going on: said already
        self._seen.add(trial.trial_id)
        if not self._says_starts():
            return
        params = format_params(trial.config, self.info.params)
        epochs = (trial.last_result or {}).get("training_iteration")
        if epochs:
            self._event(f"trial {trial.trial_id} resumed ({epochs_text(epochs)} before): {params}")
        else:
            self._event(f"trial {trial.trial_id} started: {params}")

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        """Note when Ray Tune stops the trial at this report, or its training diverged."""
        self._look(trials)
        if result.get("done"):  # Ray Tune decided to stop the trial at this report
            self._stopped.add(trial.trial_id)
        value = result.get(self.info.metric)
        not_finite = isinstance(value, numbers.Real) and not math.isfinite(float(value))
        if result.get("diverged") or not_finite:
            self._diverged.add(trial.trial_id)
        self._draw(force=False)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Say how the trial ended: finished, stopped early (by which scheduler), diverged or
        stopped by the time budget."""
        self._look(trials)
        self._ended.add(trial.trial_id)
        result = trial.last_result or {}
        budget = self.info.time_budget_s
        scheduler = traits_of(self.info.scheduler)
        end = end_of_run(
            int(result.get("training_iteration") or 0),
            self.info.max_epochs,
            # A scheduler that pauses trials ends paused ones without a report of theirs.
            stopped=trial.trial_id in self._stopped or scheduler.pauses_trials,
            stopper=scheduler.early_stop_label,
            diverged=trial.trial_id in self._diverged,
            out_of_time=budget is not None and self._elapsed() >= budget,
        )
        self._end(trial, end)
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
        """Say that the trial failed for good: it errored."""
        self._look(trials)
        self._ended.add(trial.trial_id)
        self._failure(trial, retried=False)
        self._draw(force=True)

    def on_step_end(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        """Redraw the bar, or print a status line when one is due."""
        self._look(trials)
        unfinished = set()
        for trial in trials:  # one pass: a step comes many times a second, over every trial
            status = trial.status
            if status not in _ENDED:
                unfinished.add(trial.trial_id)
            if status == "PAUSED":
                self._paused.add(trial.trial_id)
            elif status == "RUNNING":
                self._paused.discard(trial.trial_id)
        self._unfinished = unfinished
        self._draw(force=False)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Name the end of every trial the experiment's end stopped, and leave the final
        progress on the console."""
        self._look(trials)
        for trial in trials:
            if trial.trial_id not in self._ended:  # else it ended here, or before a resume
                end = self._cut_off_end(trial)
                self.ends[trial.trial_id] = end
                if end.kind != NEVER_STARTED:
                    self._event(f"trial {trial.trial_id} {end.words}: {self._trial_metric(trial)}")
        if self._screen is None or self.mode not in PROGRESS_MODES:
            return
        progress = self._progress(final=True)
        if self._screen.bar is not None:
            update_bar(self._screen.bar, progress, self.info.metric)
        else:
            self._screen.line(progress.status_line(self.info.metric, final=True))
        self._screen.bar = None
        self._exit.close()

    def never_created(self) -> int:
        """Trials the experiment ended before Ray Tune created them (they never started)."""
        return max(0, (self._total or 0) - len(self._trials))

    def trials_ended_before(self) -> dict[str, TrialEnd]:
        """The trials that had ended before this session (a resumed run), as Ray's state tells
        their ends (:func:`raytune_hpo.trial_ends.derive_end`)."""
        scheduler = traits_of(self.info.scheduler)
        ends = {}
        for trial in self._trials:
            if trial.trial_id in self.ends:
                continue
            epochs = int((trial.last_result or {}).get("training_iteration") or 0)
            error = self._error_end(trial) if trial.status == "ERROR" else None
            ends[trial.trial_id] = derive_end(
                trial.status,
                started=tune_loop.trial_started(trial),
                epochs=epochs,
                max_epochs=self.info.max_epochs,
                stopper=scheduler.early_stop_label,
                budget=self.info.time_budget_s is not None,
                error=error.error if error else None,
                log=error.log if error else None,
            )
        return ends

    # --- PBT and PB2 --------------------------------------------------------------------------

    def exploit(self, record: Mapping[str, Any]) -> None:
        """Say that PBT (or PB2) replaced a trial's state and hyperparameters by a donor's."""
        self._event(exploit_line(record, self.info.scheduler))

    # --- helpers ------------------------------------------------------------------------------

    def _look(self, trials: list[Trial]) -> None:
        """Keep Ray Tune's list of trials; the first time, count those that ended before."""
        self._trials = trials
        if not self._looked and trials:
            self._looked = True  # a resumed experiment's finished trials
            self._ended.update(t.trial_id for t in trials if t.status in _ENDED)

    def _end(self, trial: Trial, end: TrialEnd) -> None:
        """Record the end of a trial and say it."""
        self.ends[trial.trial_id] = end
        self.ended_here.add(trial.trial_id)
        self._event(f"trial {trial.trial_id} {end.words}: {self._trial_metric(trial)}")

    def _cut_off_end(self, trial: Trial) -> TrialEnd:
        """The end of a trial that had not ended when the experiment did.

        Ray Tune's own end of an experiment (the time budget, or every trial stopped) stops
        every unfinished trial inside its last step; Ctrl-C leaves the loop after a step and
        stops them then: those not finished at the end of the last step were interrupted.
        """
        epochs = int((trial.last_result or {}).get("training_iteration") or 0)
        max_epochs = self.info.max_epochs
        if trial.status == "ERROR":  # it failed to start
            return self._error_end(trial)
        if not tune_loop.trial_started(trial) and not epochs:
            return TrialEnd(NEVER_STARTED, 0, max_epochs)
        self.ended_here.add(trial.trial_id)
        if trial.trial_id in self._unfinished or self.info.time_budget_s is None:
            return TrialEnd(INTERRUPTED, epochs, max_epochs)
        return TrialEnd(PAUSED if trial.trial_id in self._paused else BUDGET, epochs, max_epochs)

    def _error_end(self, trial: Trial) -> TrialEnd:
        """The end of a trial that failed for good, with its exception's line and error file."""
        epochs = int((trial.last_result or {}).get("training_iteration") or 0)
        error_file = trial.error_file  # the driver's copy, synced into the trial folder
        headline = "no error file"
        text = storage.read_file_text(error_file) if error_file else None
        if text is not None:
            headline = _worker_death_line(text) or error_headline(text)
        where = f"{trial.path}/{Path(error_file).name}" if error_file and trial.path else None
        return TrialEnd(ERRORED, epochs, self.info.max_epochs, error=headline, log=where)

    def _says_starts(self) -> bool:
        """Whether trials' starts are printed: up to ``STARTS_UP_TO`` trials (an endless
        number counts as more), or with every line of the trials shown."""
        small = self._total is not None and self._total <= STARTS_UP_TO
        return small or self.mode == "show_output"

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
        """The failure line: how far the trial got, its exception, what happens next and the
        error file; a failure without retries left is the trial's end (it errored)."""
        end = self._error_end(trial)
        details: list[str] = []
        text = storage.read_file_text(trial.error_file) if trial.error_file else None
        if text is not None:
            details = error_details(text, FAILURE_LINES)
        what = after_failure(trial.num_failures, self.info.max_failures, retried=retried)
        if retried:
            how = end.words.replace("errored", "failed", 1)
        else:
            how = end.words
            self.ends[trial.trial_id] = end
            self.ended_here.add(trial.trial_id)
        self._event(
            f"trial {trial.trial_id} {how}: {end.error}; {what}"
            + (f"; log: {end.log}" if end.log else ""),
            error=True,
        )
        for line in details:
            self._failure_detail(line)

    def _metric_text(self, value: Any) -> str:
        return f"{self.info.metric} {format_number(value)}"

    def _trial_metric(self, trial: Trial) -> str:
        stats = trial.metric_analysis.get(self.info.metric)
        if not stats:
            return f"no {self.info.metric} reported"
        last, best = stats["last"], stats[self.info.mode]
        text = self._metric_text(last)
        return text if best == last else f"{text} (its best {format_number(best)})"

    def _name_output(self, trial: Trial) -> None:
        """Have the trial's worker mark its output as the trial's (before the trial runs)."""
        actor = tune_loop.trial_actor(trial)
        if self._output is None or actor is None:
            return
        try:
            ray.get(actor.__ray_call__.remote(name_output, trial.trial_id), timeout=10)
        except Exception:  # the actor died or does not answer: its lines keep Ray's prefix
            return

    def _progress(self, *, final: bool = False) -> Progress:
        """Counted from trial events: trials Ray stops at the end of a run count as not done.

        ``final``: also count those (their ends named by :meth:`on_experiment_end`), and the
        trials that were never created (the time budget or Ctrl-C ended the experiment first).
        """
        statuses = [t.status for t in self._trials]
        kinds = [end.kind for end in self.ends.values()] if final else []
        not_started = kinds.count(NEVER_STARTED)
        if final:
            not_started += max(0, (self._total or 0) - len(self._trials))  # never created
        errored = [t for t in self._trials if t.trial_id in self._ended and t.status == "ERROR"]
        candidates = (
            (t.trial_id, float(t.metric_analysis[self.info.metric][self.info.mode]))
            for t in self._trials
            if t.status != "ERROR"  # an errored trial is never the best
            and isinstance(
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
            cut_short=kinds.count(BUDGET),
            not_started=not_started,
            interrupted=kinds.count(INTERRUPTED),
            paused=kinds.count(PAUSED),
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
                update_bar(bar, self._progress(), self.info.metric)
        elif self._schedule.due(now):
            self._screen.line(self._progress().status_line(self.info.metric))


def _worker_death_line(error: str) -> str | None:
    """One line for an error text that says the trial's worker process died: the signal its
    log names (else Ray's exit detail) and the log's path, when the worker ran on this
    machine; None for any other error."""
    death = worker_death(error)
    if death is None:
        return None
    pid, ip, detail = death
    log = output.worker_log_file(int(pid)) if pid and pid.isdigit() else None
    cause = None
    if log is not None:
        with contextlib.suppress(OSError):
            cause = crash_cause(Path(log).read_text(errors="replace")[-20000:])
    return worker_death_line(pid, cause or detail, log, ip)


def _cluster_resources() -> dict[str, float]:
    try:
        return dict(ray.cluster_resources())
    except Exception:  # Ray Client without the call, or a cluster that does not answer
        return {}
