"""Stand-ins for the Ray trials that PBT's history callback reads, without a Ray run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pyarrow import fs

TAGS = {"a_0": "0_lr=0.5000", "a_1": "1_lr=3.0000"}
"""Trial id -> the tag the trial started with."""


def stand_in_trial(
    trial_id: str, tag: str, folder: Path, lr: float, experiment: Path | None = None
) -> SimpleNamespace:
    """What the callback reads of a Ray ``Trial`` whose driver folder is ``folder``.

    Args:
        trial_id: The trial's id.
        tag: Its experiment tag, as Ray's ``pbt_global.txt`` names it.
        folder: The driver's folder of the experiment (Ray's staging folder).
        lr: The trial's current ``lr``.
        experiment: The experiment folder Ray syncs ``folder`` to (``folder/experiment`` when
            not given); a real local one, read through pyarrow as Ray's ``StorageContext``
            reads it.
    """
    return SimpleNamespace(
        trial_id=trial_id,
        experiment_tag=tag,
        local_experiment_path=str(folder),
        last_result={"config": {"lr": lr}, "training_iteration": 3},
        storage=SimpleNamespace(
            storage_filesystem=fs.LocalFileSystem(),
            experiment_fs_path=str(experiment or folder / "experiment"),
        ),
    )
