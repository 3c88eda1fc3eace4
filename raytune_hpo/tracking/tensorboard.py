"""TensorBoard event files for every trial, with its hyperparameters, as Ray Tune writes them.

The toolkit switches Ray Tune's default loggers off (``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS``);
this brings back its TensorBoard one, ``TBXLoggerCallback``: each trial's folder gets an
``events.out.tfevents.*`` file with every numeric metric per report, and the trial's config as
hparams when it ends, so ``tensorboard --logdir <experiment folder>`` works. Each file is flushed
at most every 2 s while its trial runs (:mod:`raytune_hpo.ray_compat.tensorboard_files`), not at
every report as Ray does. A config turns it off with ``tensorboard: false``.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from ray.tune import Callback

from raytune_hpo.ray_compat import tensorboard_files

if TYPE_CHECKING:
    from raytune_hpo.config import ExperimentConfig


def tensorboard_callbacks(cfg: ExperimentConfig) -> list[Callback]:
    """Ray Tune's TensorBoard logger unless ``cfg.tensorboard`` is false (on by default)."""
    if not cfg.tensorboard:
        return []
    import_tensorboardx_without_torch()
    return [tensorboard_files.tensorboard_logger()]


def import_tensorboardx_without_torch() -> None:
    """Import tensorboardX's writer without torch, unless torch is loaded already.

    The writer imports torch when it can, only to accept torch tensors as values; the reports
    it writes here are numbers. Importing torch would hold some 450 MB in the driver of a run
    that never needs it (``sleep``, a command), so ``import torch`` fails while it loads.
    """
    if "torch" in sys.modules or "tensorboardX.writer" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes "import torch" fail
    try:
        importlib.import_module("tensorboardX.writer")
    finally:
        del sys.modules["torch"]
