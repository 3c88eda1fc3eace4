"""Checks on what trials report, for code the toolkit did not write.

:class:`FailFast` ends the experiment when its first trials all fail before reporting
(:mod:`raytune_hpo.experiment.ends_record` fails a run whose trials errored).
:class:`MetricCheck` ends the experiment at the first report that lacks the experiment's
metric (any of its objectives or constrained metrics), with one line naming the metric and the
keys the trial did report, those it may have meant first ("did you mean"; Ray's own check raises
a traceback that prints the whole result).
:class:`PbtCheckpointWatch` warns once when a PBT population reaches its first perturbation
without checkpoints, which PBT needs to exploit (otherwise exploited trials silently start from
scratch). :func:`stop_criteria` ends a trial after ``max_epochs`` reports or once its metric is
not finite.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ray.tune import Callback
from ray.tune.experiment import Trial
from ray.tune.stopper import Stopper

from raytune_hpo import storage
from raytune_hpo.adapters.command.metric_names import close_names, names_ending_with
from raytune_hpo.errors import EXIT_TRIALS_FAILED, RaytuneHpoError, UserError
from raytune_hpo.layout import RAY_RESULT_KEYS
from raytune_hpo.output_lines import error_headline
from raytune_hpo.registry import Perturbation

STRICT_CHECK_SWITCH = "TUNE_DISABLE_STRICT_METRIC_CHECKING"
"""Turns Ray's own check off; :class:`MetricCheck` takes its place."""


class MissingMetric(UserError, RuntimeError):
    """A trial reported without the experiment's metric; ``str()`` is one line.

    It names the keys the metric may have meant: several keys that end with it in whole
    folders (a command's TensorBoard tags ``logs/train/epoch_loss`` and
    ``logs/validation/epoch_loss`` for ``epoch_loss``), else keys close to it (``val_loss``
    for ``val_los``, "did you mean"), else every key reported.
    """

    def __init__(
        self, trial_id: str, metric: str, reported: list[str], key: str = "metric"
    ) -> None:
        keys = ", ".join(reported) if reported else "nothing but Ray's own fields"
        role = "the experiment's metric" if key == "metric" else "a constrained metric"
        head = f"trial {trial_id} reported no {metric!r} ({role})"
        named = names_ending_with(metric, reported)
        meant = close_names(metric, reported)
        if len(named) > 1:
            message = (
                f"{head}, but {len(named)} keys that end with it: {', '.join(named)}; set "
                f"{key} to the one meant"
            )
        elif named or meant:
            spelled = " or ".join(repr(name) for name in named or meant)
            message = (
                f"{head}; did you mean {spelled}? It reported: {keys}. Set {key} to the key meant"
            )
        else:
            message = (
                f"{head}; it reported: {keys}. Report it (e.g. tune.report({{{metric!r}: "
                f"value}}) or print '{metric}=VALUE'), or set {key} to one of those keys"
            )
        super().__init__(message)
        self.trial_id = trial_id
        self.metric = metric
        self.reported = reported
        self.key = key


class MetricCheck(Callback):
    """Raises :class:`MissingMetric` at the first result without one of the ``objectives`` or
    the ``constrained`` metrics (each trial's last report must hold them all)."""

    def __init__(self, objectives: Sequence[str], constrained: Sequence[str] = ()) -> None:
        self.watched = {name: "metric" for name in objectives}
        for name in constrained:
            self.watched.setdefault(name, "constraints")

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        for metric, key in self.watched.items():
            if metric not in result:
                reported = sorted(k for k in result if k not in RAY_RESULT_KEYS)
                raise MissingMetric(trial.trial_id, metric, reported, key)


FAIL_FAST_TRIALS = 3
"""The first trials to end that, all failed before their first report, end the experiment."""


class TrialsFailed(RaytuneHpoError, RuntimeError):
    """The experiment's trials failed: more errored than ``max_failed_trials`` allows, every
    one of them, or the first ones before reporting.

    ``str()`` is one line: how many failed, and the first failure's error.

    Attributes:
        outcome: The run's ``ExperimentOutcome`` (its folder, results and best trial, all
            written), for code that calls ``raytune_hpo.run`` and catches this.
    """

    exit_code = EXIT_TRIALS_FAILED
    outcome: Any = None


def failure_reason(trial_id: str, error: str, where: str | None) -> str:
    """``trial ID: <its exception line> (error file)``, from the text of its error."""
    return f"trial {trial_id}: {error_headline(error)}" + (f" (log: {where})" if where else "")


class FailFast(Callback):
    """Sets :attr:`reason` when the first trials to end all failed before reporting.

    Ray Tune's ``fail_fast`` ends an experiment at its first failure; this waits for the
    first ``count`` trials (fewer when the experiment has fewer): one trial's bad luck does not
    end an experiment, but code that cannot report does, before every trial trains in full.
    :class:`TrialEnd` then stops the experiment as a time budget would (state saved, results
    written), and the run ends with :class:`TrialsFailed` with the reason.
    """

    def __init__(self, count: int = FAIL_FAST_TRIALS) -> None:
        self.count = count
        self.reason: str | None = None
        self._failed: list[str] = []
        self._watching = True

    def setup(
        self,
        stop: Stopper | None = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        if total_num_samples:
            self.count = min(self.count, total_num_samples)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._watching = False  # a trial ended well: the code can work

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        if not self._watching:
            return
        if (trial.last_result or {}).get("training_iteration"):
            self._watching = False  # it reported: the failure is not the code's start
            return
        error = (storage.read_file_text(trial.error_file) if trial.error_file else None) or ""
        where = f"{trial.path}/{Path(trial.error_file).name}" if trial.error_file else None
        self._failed.append(failure_reason(trial.trial_id, error, where))
        if len(self._failed) >= self.count:
            self._watching = False
            self.reason = (
                f"the first {len(self._failed)} trials failed before their first report, so "
                f"the experiment stopped; the first: {self._failed[0]}"
            )


class PbtCheckpointWatch(Callback):
    """Warns once if a trial gets past PBT's first perturbation without a checkpoint.

    Checked at the first report after the perturbation interval: Ray registers a checkpoint
    only after the callbacks have seen the report that carried it.
    """

    def __init__(self, perturbation_interval: int) -> None:
        self.perturbation_interval = perturbation_interval
        self.warned = False

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        if self.warned or result.get("training_iteration", 0) <= self.perturbation_interval:
            return
        if trial.checkpoint is None and not result.get("should_checkpoint"):
            self.warned = True
            print(
                f"raytune-hpo: warning: trial {trial.trial_id} got past PBT's first perturbation "
                f"(iteration {self.perturbation_interval}) without a checkpoint: exploited trials "
                "will start from scratch instead of from their donor. Report checkpoints "
                "(tune.report(metrics, checkpoint=...)), or write state into "
                "$RAYTUNE_HPO_CHECKPOINT_DIR from a command",
                file=sys.stderr,
                flush=True,
            )


class TrialEnd(Stopper):
    """Ends a trial at its ``max_epochs``-th iteration, or once its metric is NaN or infinite;
    ends the experiment once its :class:`FailFast` has a reason.

    Reads ``training_iteration`` itself: Ray's ``MaximumIterationStopper`` counts the results
    it sees, which overshoots once PBT restarts a trial from a donor's earlier checkpoint.
    Built-in trainables stop diverged training themselves; this covers the user's code.
    """

    def __init__(self, metric: str, max_epochs: int, fail_fast: FailFast | None = None) -> None:
        self.metric = metric
        self.max_epochs = max_epochs
        self.fail_fast = fail_fast

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get("training_iteration", 0) >= self.max_epochs:
            return True
        value = result.get(self.metric)
        return isinstance(value, int | float) and not math.isfinite(value)

    def stop_all(self) -> bool:
        return self.fail_fast is not None and self.fail_fast.reason is not None


def stop_criteria(metric: str, max_epochs: int, fail_fast: FailFast | None = None) -> Stopper:
    """When a trial ends besides its scheduler: ``max_epochs`` reached, or a diverged metric;
    and the whole experiment once ``fail_fast`` has a reason."""
    return TrialEnd(metric, max_epochs, fail_fast)


def trial_check_callbacks(
    metric: str | Sequence[str],
    perturbation: Perturbation | None,
    fail_fast: FailFast,
    constrained: Sequence[str] = (),
) -> list[Callback]:
    """The checks of an experiment: the metrics (one name, or every objective; and the
    ``constrained`` ones) and ``fail_fast`` always, checkpoints under a scheduler that perturbs
    trials (PBT, PB2)."""
    objectives = [metric] if isinstance(metric, str) else list(metric)
    callbacks: list[Callback] = [MetricCheck(objectives, constrained), fail_fast]
    if perturbation is not None:
        callbacks.append(PbtCheckpointWatch(perturbation.interval))
    return callbacks
