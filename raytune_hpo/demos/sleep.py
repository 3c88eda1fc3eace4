"""``sleep`` trainable: no computation, a fixed time per epoch and a synthetic learning curve.

It measures what the tuning machinery itself costs (scheduling, reports, logging): run any
config with ``--set trainable=sleep --set trainable_options={}`` and compare the wall-clock time
with ``num_samples * max_epochs * seconds_per_epoch / parallel trials``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ray import tune

from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.options import SleepOptions
from raytune_hpo.demos.trial_settings import TrialSettings, stamped


def synthetic_error(config: dict[str, Any], epoch: int) -> float:
    """The curve ``exp(-learning_rate * epoch)``: higher rates and later epochs score better."""
    return math.exp(-float(config.get("learning_rate", 0.1)) * epoch)


def synthetic_cost(config: dict[str, Any]) -> float:
    """The learning rate itself: a cost that grows as :func:`synthetic_error` falls, so that
    the two trade off as the objectives of a many-objective run."""
    return float(config.get("learning_rate", 0.1))


def train_sleep(config: dict[str, Any], *, data: DatasetArrays, settings: TrialSettings) -> None:
    """Sleep ``seconds_per_epoch`` per epoch and report the synthetic curve and cost; no
    checkpoints.

    Args:
        config: The trial's hyperparameters; only ``learning_rate`` (default 0.1) is read.
        data: Unused; accepted so that the runner treats every trainable alike.
        settings: Experiment-level settings (epochs, options).
    """
    options = SleepOptions.model_validate(dict(settings.options))
    for epoch in range(1, settings.max_epochs + 1):
        time.sleep(options.seconds_per_epoch)
        error = synthetic_error(config, epoch)
        tune.report(
            stamped({"validation_error": error, "cost": synthetic_cost(config), "epoch": epoch})
        )


def evaluate_sleep(
    directory: Path, config: dict[str, Any], data: DatasetArrays, settings: TrialSettings
) -> dict[str, float]:
    """The synthetic curve at the last epoch, as the test error."""
    return {"test_error": synthetic_error(config, settings.max_epochs)}
