"""Trials that start over from scratch: one warning line per run, on the driver.

Ray Tune continues a trial from its latest checkpoint whenever the trial's process is replaced:
a scheduler's pause (PBT and PB2 pause trials to let the rest of the population run, HyperBand
at each rung), a retry after a failure, ``raytune-hpo resume``. A trial without a checkpoint
starts from its beginning instead: its reports count from 1 again, it trains every epoch again,
and PBT's exploits find no state to copy. A command that never writes
``$RAYTUNE_HPO_CHECKPOINT_DIR`` is such a trial, for every pause.

:class:`ScratchRestarts` sees the restart on the driver (the trials run in several Ray workers;
the driver sees them all): a report of iteration 1 from a trial that had reported before. It
prints one warning line per run, at the first restart, with what the trainable must do to keep
its state; :func:`~raytune_hpo.analysis.restart_counts.count_restarts` counts them afterwards
for the summary, from the reports Ray keeps (``result.json``).
"""

from __future__ import annotations

import sys
from typing import Any

from ray.tune import Callback
from ray.tune.experiment import Trial

from raytune_hpo.adapters.command.spec import CHECKPOINT_DIR_ENV, CommandSpec
from raytune_hpo.config import ExperimentConfig
from raytune_hpo.output_lines import TRIAL_WARNING_PREFIX

STATE_CONTRACT = "the state contract: docs/pages/your-code.md#the-state-contract"
"""Where the docs say how a command keeps its state."""


def keep_state_hint(cfg: ExperimentConfig) -> str:
    """How ``cfg``'s trainable keeps its state across restarts, for the warning."""
    if isinstance(cfg.trainable, CommandSpec):
        return (
            f"A command keeps its state by writing it into ${CHECKPOINT_DIR_ENV} before it "
            f"prints each report and loading it from there when it starts ({STATE_CONTRACT})"
        )
    if cfg.builtin is not None:
        return (
            f"It saves every checkpoint.frequency epochs ({cfg.checkpoint.frequency}): "
            "save every epoch (checkpoint.frequency: 1)"
        )
    return (
        "A function keeps its state by reporting a checkpoint, tune.report(metrics, "
        "checkpoint=...), and loading tune.get_checkpoint() when it starts"
    )


def restart_message(trial_id: str, epochs: int, hint: str) -> str:
    """The warning for the first trial of a run that started over from scratch."""
    return (
        f"{TRIAL_WARNING_PREFIX}trial {trial_id} started over from scratch after {epochs} "
        f"epoch{'s' if epochs != 1 else ''}: it had no checkpoint to continue from when it was "
        "paused, retried or resumed, so it trains those epochs again (under PBT and PB2 at "
        f"every pause, and no exploit can copy its state). {hint}. Shown once; the summary "
        "counts the restarts"
    )


class ScratchRestarts(Callback):
    """Warns once per run when a trial starts over from scratch.

    Args:
        hint: How the trainable keeps its state (:func:`keep_state_hint`).
    """

    def __init__(self, hint: str) -> None:
        self.hint = hint
        self.warned = False

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        # Ray Tune hands callbacks a result before it becomes the trial's last_result.
        before = (trial.last_result or {}).get("training_iteration") or 0
        if self.warned or result.get("training_iteration") != 1 or before < 1:
            return
        self.warned = True
        print(restart_message(trial.trial_id, int(before), self.hint), file=sys.stderr, flush=True)


def restart_callbacks(cfg: ExperimentConfig) -> list[Callback]:
    """The callbacks that watch ``cfg``'s trials for restarts from scratch."""
    return [ScratchRestarts(keep_state_hint(cfg))]
