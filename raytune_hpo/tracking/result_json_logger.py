"""Ray's per-trial ``result.json`` logger, minus the rows it loses when a trial resumes.

Ray Tune 2.60 writes ``result.json`` into the driver's staging copy of a trial folder and syncs
that copy to the experiment folder now and then. Whenever a paused trial starts again (PBT
exploits and HyperBand pauses do this mid-run), its ``JsonLoggerCallback`` first copies the
experiment folder's ``result.json`` over the staging one: every report since the last sync is
lost. :class:`ResultJsonLogger` keeps the staging file when it exists and restores from the
experiment folder only when it does not (an experiment resumed in a new driver session).

A trial gets its ``result.json`` when it starts. A trial that never started (the time budget
ended the experiment first, or Ctrl-C stopped it) gets an empty one at the end: Ray's result
grid reads every trial's file and warns "Failed to fetch metrics" for each trial without one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.tune.logger import JsonLoggerCallback

from raytune_hpo import storage
from raytune_hpo.layout import RESULT_FILE
from raytune_hpo.ray_compat import tune_loop
from raytune_hpo.storage import ray_storage

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

# Experiments started before this module had its name hold the logger in their tuner.pkl under
# its old module; `resume` finds it there.
sys.modules.setdefault("raytune_hpo.result_log", sys.modules[__name__])


class ResultJsonLogger(JsonLoggerCallback):
    """``JsonLoggerCallback`` that never replaces a trial's local ``result.json``.

    Overrides Ray's private hook ``_restore_from_remote`` (listed in
    ``version.OVERRIDDEN_HOOKS``).
    """

    def _restore_from_remote(self, file_name: str, trial: Any) -> None:
        if storage.exists(Path(trial.local_path), file_name):
            return
        super()._restore_from_remote(file_name, trial)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Write an empty ``result.json`` into the folder of every trial that never started.

        Runs after Ray's last sync of the experiment folder, so it writes there directly
        (a local folder or a URI).
        """
        super().on_experiment_end(trials=trials, **info)
        for trial in trials:
            context = trial.storage  # trial.path is context.trial_fs_path
            if not tune_loop.trial_started(trial) and context is not None:
                ray_storage.create_empty(
                    context.storage_filesystem, context.trial_fs_path, RESULT_FILE
                )
