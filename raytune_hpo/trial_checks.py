"""Checks on what trials report, for code the toolkit did not write.

:class:`MetricCheck` ends the experiment at the first report that lacks the experiment's
metric, with one line naming the metric and the keys the trial did report (Ray's own check
raises a traceback that prints the whole result). :class:`PbtCheckpointWatch` warns once when a
PBT population reaches its first perturbation without checkpoints, which PBT needs to exploit
(otherwise exploited trials silently start from scratch). :func:`stop_criteria` ends a trial
after ``max_epochs`` reports or once its metric is not finite.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from ray.tune import Callback
from ray.tune.experiment import Trial
from ray.tune.stopper import Stopper

STRICT_CHECK_SWITCH = "TUNE_DISABLE_STRICT_METRIC_CHECKING"
"""Turns Ray's own check off; :class:`MetricCheck` takes its place."""
RAY_RESULT_KEYS = frozenset(
    {
        "timestamp",
        "checkpoint_dir_name",
        "done",
        "training_iteration",
        "trial_id",
        "date",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "hostname",
        "node_ip",
        "config",
        "time_since_restore",
        "iterations_since_restore",
        "experiment_tag",
        "should_checkpoint",
    }
)
"""Keys Ray adds to every result; what is left is what the trial reported."""


class MissingMetric(RuntimeError):
    """A trial reported without the experiment's metric; ``str()`` is one line."""

    def __init__(self, trial_id: str, metric: str, reported: list[str]) -> None:
        keys = ", ".join(reported) if reported else "nothing but Ray's own fields"
        super().__init__(
            f"trial {trial_id} reported no {metric!r} (the experiment's metric); it reported: "
            f"{keys}. Report it (e.g. tune.report({{{metric!r}: value}}) or print "
            f"'{metric}=VALUE'), or set metric to one of those keys"
        )
        self.trial_id = trial_id
        self.metric = metric
        self.reported = reported


class MetricCheck(Callback):
    """Raises :class:`MissingMetric` at the first result without ``metric``."""

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        if self.metric not in result:
            reported = sorted(k for k in result if k not in RAY_RESULT_KEYS)
            raise MissingMetric(trial.trial_id, self.metric, reported)


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
    """Ends a trial at its ``max_epochs``-th iteration, or once its metric is NaN or infinite.

    Reads ``training_iteration`` itself: Ray's ``MaximumIterationStopper`` counts the results
    it sees, which overshoots once PBT restarts a trial from a donor's earlier checkpoint.
    Built-in trainables stop diverged training themselves; this covers the user's code.
    """

    def __init__(self, metric: str, max_epochs: int) -> None:
        self.metric = metric
        self.max_epochs = max_epochs

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get("training_iteration", 0) >= self.max_epochs:
            return True
        value = result.get(self.metric)
        return isinstance(value, int | float) and not math.isfinite(value)

    def stop_all(self) -> bool:
        return False


def stop_criteria(metric: str, max_epochs: int) -> Stopper:
    """When a trial ends besides its scheduler: ``max_epochs`` reached, or a diverged metric."""
    return TrialEnd(metric, max_epochs)


def trial_check_callbacks(metric: str, scheduler: Any) -> list[Callback]:
    """The checks of an experiment: the metric always, checkpoints under PBT."""
    callbacks: list[Callback] = [MetricCheck(metric)]
    if scheduler.name == "pbt":
        callbacks.append(PbtCheckpointWatch(scheduler.perturbation_interval))
    return callbacks
