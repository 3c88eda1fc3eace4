"""TensorBoard event files for every trial, with its hyperparameters, as Ray Tune writes them.

The toolkit switches Ray Tune's default loggers off (``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS``);
this brings back its TensorBoard one, ``TBXLoggerCallback``: each trial's folder gets an
``events.out.tfevents.*`` file with every numeric metric per report, and the trial's config as
hparams when it ends, so ``tensorboard --logdir <experiment folder>`` works. A config turns it off
with ``tensorboard: false``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ray.tune import Callback

if TYPE_CHECKING:
    from raytune_hpo.config import ExperimentConfig


def tensorboard_callbacks(cfg: ExperimentConfig) -> list[Callback]:
    """Ray Tune's TensorBoard logger unless ``cfg.tensorboard`` is false (on by default)."""
    if not cfg.tensorboard:
        return []
    from ray.tune.logger import TBXLoggerCallback

    return [TBXLoggerCallback()]
