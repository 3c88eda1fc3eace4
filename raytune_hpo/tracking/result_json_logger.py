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

from pyarrow import fs
from ray.tune.logger import JsonLoggerCallback
from ray.tune.result import EXPR_RESULT_FILE

from raytune_hpo.ray_compat import tune_loop

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
        if Path(trial.local_path, file_name).exists():
            return
        super()._restore_from_remote(file_name, trial)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Write an empty ``result.json`` into the folder of every trial that never started.

        Runs after Ray's last sync of the experiment folder, so it writes there directly
        (a local folder or a URI).
        """
        super().on_experiment_end(trials=trials, **info)
        for trial in trials:
            storage = trial.storage  # trial.path is storage.trial_fs_path
            if not tune_loop.trial_started(trial) and storage is not None:
                _create_empty(storage.storage_filesystem, storage.trial_fs_path, EXPR_RESULT_FILE)


def _create_empty(filesystem: fs.FileSystem, folder: str, name: str) -> None:
    """Create ``folder/name`` as an empty file unless it exists."""
    path = f"{folder}/{name}"
    if filesystem.get_file_info(path).type != fs.FileType.NotFound:
        return
    filesystem.create_dir(folder, recursive=True)
    with filesystem.open_output_stream(path):
        pass
