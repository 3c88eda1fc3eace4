"""PBT and PB2 whose exploits never lose their donor's checkpoint, whatever ``num_to_keep`` says.

Ray's PBT records a top trial's checkpoint at the trial's perturbation and restores an exploiting
trial from it later, at that trial's own perturbation and once it is started again. Meanwhile the
donor goes on reporting, and its ``checkpoint.num_to_keep`` deletes the recorded checkpoint:
Ray then fails the exploiting trial ("Could not recover from checkpoint as it does not exist on
storage anymore"). Here each exploit copies the donor's checkpoint into the exploiting trial's own
folder (hard links where the storage is local: a checkpoint's files never change) and registers
the copy as that trial's checkpoint, so the restore reads a checkpoint only its own trial may
delete. The copy's report is the donor checkpoint's own (``training_iteration`` included), so
the restored trial counts on from the report its state was taken at. Where the recorded
checkpoint is gone already, the donor's latest (which Ray never deletes) is cloned instead.
PBT's save of a top trial registers the trial's latest checkpoint a second time, which Ray's
``num_to_keep`` would then delete under it: :func:`raytune_hpo.ray_compat.
register_checkpoints_once` keeps one entry per checkpoint.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from ray.tune.schedulers import PopulationBasedTraining
from ray.tune.schedulers.pb2 import PB2

from raytune_hpo.layout import EXPLOIT_CHECKPOINT_PREFIX
from raytune_hpo.ray_compat import checkpoints
from raytune_hpo.storage import ray_storage

logger = logging.getLogger(__name__)

FEW_CHECKPOINTS_WARNING = r"Using `CheckpointConfig.num_to_keep <= 2` with PBT"
"""The start of Ray's warning that few kept checkpoints break exploits: not so here."""


class DonorKeeping(PopulationBasedTraining):
    """Exploits that restore from a copy of the donor's checkpoint that the exploiting trial
    owns (see the module docstring); mixed into Ray's PBT and PB2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checkpoints.register_checkpoints_once()

    def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=FEW_CHECKPOINTS_WARNING)
            super().on_trial_add(tune_controller, trial)

    def _exploit(self, tune_controller: Any, trial: Any, trial_to_clone: Any) -> None:
        donor = self._trial_state[trial_to_clone]
        source = checkpoints.kept_checkpoint_result(trial_to_clone, donor.last_checkpoint)
        if source is None:
            logger.info("[pbt]: no checkpoint of trial %s left; no exploit", trial_to_clone)
            return
        super()._exploit(tune_controller, trial, trial_to_clone)
        copy = _copy_checkpoint(source.checkpoint, trial, self._num_perturbations)
        checkpoints.register_exploited_checkpoint(trial, copy, source.metrics)


class DonorKeepingPBT(DonorKeeping):
    """Ray's ``PopulationBasedTraining`` that keeps its donors' checkpoints."""


class DonorKeepingPB2(DonorKeeping, PB2):
    """Ray's ``PB2`` (its explore step a GP bandit over ``hyperparam_bounds``) that keeps its
    donors' checkpoints, and whose bandit draws from a generator of its own, seeded by ``seed``
    (Ray's draws from NumPy's global one).
    """

    def __init__(self, *args: Any, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._random = np.random.RandomState(seed)

    def _get_new_config(self, trial: Any, trial_to_clone: Any) -> Any:
        with numpy_global_random(self._random):
            return super()._get_new_config(trial, trial_to_clone)


@contextlib.contextmanager
def numpy_global_random(generator: np.random.RandomState) -> Iterator[None]:
    """NumPy's global generator (the one ``np.random.uniform`` and scikit-learn's unseeded
    estimators draw from) in ``generator``'s state for the block; ``generator`` then holds the
    state the block left, and the global one is back as it was."""
    saved = np.random.get_state()
    np.random.set_state(generator.get_state())
    try:
        yield
    finally:
        generator.set_state(np.random.get_state())
        np.random.set_state(saved)


def _copy_checkpoint(checkpoint: Any, trial: Any, number: int) -> Any:
    """A copy of ``checkpoint`` in ``trial``'s folder of the experiment's storage."""
    from ray.tune import Checkpoint

    storage = trial.storage
    filesystem = storage.storage_filesystem
    target = f"{storage.trial_fs_path}/{EXPLOIT_CHECKPOINT_PREFIX}{number:06d}"
    ray_storage.copy_folder(checkpoint.filesystem, checkpoint.path, filesystem, target)
    return Checkpoint(path=target, filesystem=filesystem)
