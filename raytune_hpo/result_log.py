"""Ray's per-trial ``result.json`` logger, minus the rows it loses when a trial resumes.

Ray Tune 2.60 writes ``result.json`` into the driver's staging copy of a trial folder and syncs
that copy to the experiment folder now and then. Whenever a paused trial starts again (PBT
exploits and HyperBand pauses do this mid-run), its ``JsonLoggerCallback`` first copies the
experiment folder's ``result.json`` over the staging one: every report since the last sync is
lost. :class:`ResultJsonLogger` keeps the staging file when it exists and restores from the
experiment folder only when it does not (an experiment resumed in a new driver session).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune.logger import JsonLoggerCallback


class ResultJsonLogger(JsonLoggerCallback):
    """``JsonLoggerCallback`` that never replaces a trial's local ``result.json``."""

    def _restore_from_remote(self, file_name: str, trial: Any) -> None:
        if Path(trial.local_path, file_name).exists():
            return
        super()._restore_from_remote(file_name, trial)
