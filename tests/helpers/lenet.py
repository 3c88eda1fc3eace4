"""A tiny LeNet experiment run in this process, read back as a frame that compares exactly."""

from __future__ import annotations

from typing import Any

import pandas as pd

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import run_experiment


def run_lenet(raw: dict[str, Any]) -> pd.DataFrame:
    """Run the raw LeNet config ``raw``; its reports: config, epoch and metrics, in a fixed order.

    Two runs that differ only in what does not touch training (W&B on or off, W&B failing)
    give frames that ``pd.testing.assert_frame_equal`` finds equal.
    """
    path = run_experiment(validate_config(raw)).path
    reports = load_experiment(path).reports
    columns = [
        "config/learning_rate",
        "config/batch_size",
        "training_iteration",
        "validation_error",
        "validation_loss",
    ]
    return reports[columns].sort_values(columns[:3]).reset_index(drop=True)
