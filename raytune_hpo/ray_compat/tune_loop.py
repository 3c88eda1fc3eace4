"""Private Ray Tune used in its loop: the callbacks' usage tag, reported checkpoints registered
from reports, started trial actors kept, the experiment state's save check, a finished trial's
metric windows, a tuner's run config, a trial's actor, the stop handler.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

import collections
import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.tune import RunConfig
    from ray.tune.experiment import Trial


CHECKPOINT_DIR_KEY = "checkpoint_dir_name"
"""The key of a function trainable's report that names the folder its checkpoint was written to
in the trial's folder (``ray.train.constants.CHECKPOINT_DIR_NAME``), None without one."""


INTEGRATION_CALLBACKS = (
    "WandbLoggerCallback",
    "MLflowLoggerCallback",
    "CometLoggerCallback",
    "AimLoggerCallback",
)
"""The class names of Ray's logger integrations that Ray Tune's usage tag counts by name."""


def count_callbacks_by_name() -> None:
    """Ray Tune's usage tag of the run's callbacks, counted without importing W&B.

    ``ray.tune.run`` records which callbacks a run has (``ray.air._internal.usage.
    tag_callbacks``); its ``_count_callbacks`` imports Ray's W&B, MLflow, Comet and Aim
    integrations only to read their class names, and Ray's W&B integration imports ``wandb``,
    a heavy import before the first trial starts, in every run with W&B off. This
    replaces ``_count_callbacks`` with one that counts the same names (:data:`INTEGRATION_CALLBACKS`
    and Ray Tune's default callbacks), so the tag stays as Ray records it; Ray's own stays at
    its ``rays_own``.
    """
    from ray.air._internal import usage

    rays_own = getattr(usage._count_callbacks, "rays_own", usage._count_callbacks)

    def count(callbacks: Sequence[Any] | None) -> dict[str, int]:
        from ray.tune import Callback
        from ray.tune.logger import LoggerCallback
        from ray.tune.utils.callback import DEFAULT_CALLBACK_CLASSES

        named = {*INTEGRATION_CALLBACKS, *(cls.__name__ for cls in DEFAULT_CALLBACK_CLASSES)}
        counts: dict[str, int] = collections.defaultdict(int)
        for callback in callbacks or []:
            if not isinstance(callback, Callback):
                continue
            name = type(callback).__name__
            if name in named:
                counts[name] += 1
            elif isinstance(callback, LoggerCallback):
                counts["CustomLoggerCallback"] += 1
            else:
                counts["CustomCallback"] += 1
        return counts

    count.rays_own = rays_own  # type: ignore[attr-defined]
    usage._count_callbacks = count


def started_actors_kept() -> None:
    """A pending trial whose own actor Ray is already creating keeps it, instead of taking a
    cached actor (``reuse_actors``) and having its own stopped.

    Ray Tune's ``TuneController._maybe_reuse_cached_actor`` hands a finished trial's cached
    actor to a pending trial and removes the actor it had requested, even where that request's
    resources were granted and Ray is starting a worker process for it. Once one trial slot
    holds such a starting actor (as when the first trials take Ray's prestarted workers and end
    before the others' workers are up), the scheduler's next trial is that slot's trial at
    every trial end: its starting worker is stopped, the slot is granted to the next pending
    trial, whose worker is stopped in turn. One slot of every trials-at-once stays empty for
    the whole run and a worker process starts about every 2 s (1,000 sleep trials of 1 s at 8
    at once: 1.26x bare Ray's wall time, 4x its CPU; BENCHMARKS.md). Here such a trial keeps
    its own actor; the cached one goes to another pending trial in the same step (Ray Tune
    offers it to every pending trial of the same resources) or is stopped once none is left.
    Relies on the controller's ``_trial_to_actor``, ``_resetting_trials`` and
    ``_actor_manager.is_actor_started`` (True once the actor is created, before it is ready);
    Ray's own method stays at its ``rays_own``.
    """
    from ray.tune.execution.tune_controller import TuneController

    original = TuneController._maybe_reuse_cached_actor
    rays_own = getattr(original, "rays_own", original)

    def maybe_reuse_cached_actor(self: Any, trial: Trial) -> bool:
        own_actor = self._trial_to_actor.get(trial)
        if (
            own_actor is not None
            and trial not in self._resetting_trials
            and self._actor_manager.is_actor_started(own_actor)
        ):
            return False
        return bool(rays_own(self, trial))

    maybe_reuse_cached_actor.rays_own = rays_own  # type: ignore[attr-defined]
    TuneController._maybe_reuse_cached_actor = maybe_reuse_cached_actor  # type: ignore[method-assign]


def experiment_state_checks_clock_first() -> None:
    """At each step of Ray Tune's loop, the check whether the experiment's state is due to be
    saved looks at the clock first.

    ``TuneController.checkpoint`` runs at every step (once per result at high report rates) and
    calls ``_ExperimentCheckpointManager.sync_up_experiment_state``, which builds the driver's
    staging path (several ``pathlib`` joins and a look at Ray's session folder) before it checks
    whether the checkpoint period has passed; it nearly never has. Here a call that is not
    forced returns at once while the period has not passed; every other call is Ray's own, so
    the state is saved exactly when Ray would save it. Relies on the manager's
    ``_should_force_sync_up``, ``_last_save_time`` and ``_checkpoint_period`` (``time.
    monotonic()`` seconds); Ray's own method stays at its ``rays_own``.
    """
    from ray.tune.execution.experiment_state import _ExperimentCheckpointManager

    original = _ExperimentCheckpointManager.sync_up_experiment_state
    rays_own = getattr(original, "rays_own", original)

    def sync_up_experiment_state(
        self: Any, save_fn: Callable[[], None], force: bool = False, wait: bool = False
    ) -> None:
        due = time.monotonic() - self._last_save_time >= self._checkpoint_period
        if force or self._should_force_sync_up or due:
            rays_own(self, save_fn, force=force, wait=wait)

    sync_up_experiment_state.rays_own = rays_own  # type: ignore[attr-defined]
    _ExperimentCheckpointManager.sync_up_experiment_state = sync_up_experiment_state  # type: ignore[method-assign]


def drop_metric_windows(trial: Trial) -> None:
    """Forget the last few values of each metric that Ray Tune keeps for a trial, once it will
    report no more.

    For every numeric key of a trial's results, its ``_TrainingRunMetadata.metric_n_steps``
    holds the last 5 and the last 10 values in two ``deque`` objects, only to update the
    ``last-5-avg`` and ``last-10-avg`` of its ``metric_analysis`` at the next result. For a
    trial that ended they are the largest thing its ``Trial`` keeps in the driver (about 15 kB
    with a dozen numeric keys, and again in the cached JSON of the experiment state, where
    each ``deque`` is pickled). ``metric_analysis`` (min, max, last and the averages) stays.
    Relies on ``Trial.run_metadata.metric_n_steps``; assigning it drops the run metadata's
    cached JSON (its ``__setattr__``).
    """
    trial.run_metadata.metric_n_steps = {}


@contextlib.contextmanager
def checkpoints_registered_from_reports() -> Iterator[None]:
    """While open, a function trainable's reported checkpoint is registered from its report.

    For each report with a checkpoint, Ray Tune's loop asks the trial's actor to ``save`` and
    holds the trial until that answer comes back; a function trainable's ``save`` only returns
    the checkpoint it reported, which its session has already written to the trial's folder.
    That second call holds the trial for one more round trip per report. Here
    ``TuneController._checkpoint_trial_if_needed`` builds the same ``_TrainingResult`` on the
    driver from the report (the checkpoint at ``checkpoint_dir_name`` in the trial's folder, the
    report's metrics) and hands it to ``TuneController._on_saving_result`` at once, so the
    trial goes on as soon as its report is processed. Open it only around runs whose trainable
    is a function reporting plain ``ray.tune.Checkpoint`` objects (the built-in trainables and
    command trials) and whose scheduler neither pauses trials nor saves them itself (not PBT
    nor HyperBand). Other saves (a pause, PBT's) still go to the actor.
    """
    from ray.train._internal.session import _TrainingResult
    from ray.tune import Checkpoint
    from ray.tune.execution.tune_controller import TuneController

    rays_own = TuneController._checkpoint_trial_if_needed

    def checkpoint_if_needed(self: Any, trial: Trial, force: bool = False) -> None:
        directory = trial.last_result.get(CHECKPOINT_DIR_KEY)
        storage = trial.storage
        if not (force and directory and storage and trial.temporary_state.ray_actor):
            rays_own(self, trial, force)
            return
        checkpoint = Checkpoint(
            path=f"{storage.trial_fs_path}/{directory}", filesystem=storage.storage_filesystem
        )
        self._on_saving_result(trial, _TrainingResult(checkpoint, dict(trial.last_result)))

    TuneController._checkpoint_trial_if_needed = checkpoint_if_needed  # type: ignore[method-assign]
    try:
        yield
    finally:
        TuneController._checkpoint_trial_if_needed = rays_own  # type: ignore[method-assign]


def tuner_run_config(tuner: Any) -> RunConfig | None:
    """The ``RunConfig`` a tuner (also one from ``Tuner.restore``) runs with; None for Ray
    Client's tuner.

    Relies on ``Tuner._local_tuner`` (a ``TunerInternal``) and its ``get_run_config()``, which
    returns the object the tuner runs with (changes to it take effect).
    """
    local = getattr(tuner, "_local_tuner", None)
    return None if local is None else local.get_run_config()


def trial_started(trial: Trial) -> bool:
    """Whether Ray Tune ever started ``trial``: relies on ``trial.run_metadata.start_time``."""
    return trial.run_metadata.start_time is not None


def trial_actor(trial: Trial) -> Any | None:
    """The Ray actor that runs ``trial`` now, if any: relies on ``trial.temporary_state``."""
    return trial.temporary_state.ray_actor


def tune_stop_handler(before: Any) -> Callable[..., Any] | None:
    """Ray Tune's graceful-stop handler, installed while ``Tuner.fit`` runs; None before it.

    Relies on Ray Tune's loop installing a SIGUSR1 handler that saves the experiment state and
    leaves the loop (``ray.tune.tune.run``).

    Args:
        before: The SIGUSR1 handler before ``Tuner.fit`` started.
    """
    handler = signal.getsignal(signal.SIGUSR1)
    return handler if handler is not before and callable(handler) else None
