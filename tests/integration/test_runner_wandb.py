"""``run_experiment`` with W&B on (offline) and off: the same results, and the runs grouped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import run_experiment
from tests.helpers.lenet import run_lenet
from tests.helpers.user_code import USER_MODULE
from tests.helpers.wandb_records import find_offline_runs, read_offline_run

pytestmark = pytest.mark.integration


def test_wandb_on_changes_no_result(
    tiny_lenet_config: dict[str, Any], ray_session: None, tmp_path: Path
) -> None:
    # FIFO: ASHA's stops depend on which trial reports first, with or without W&B.
    raw = {**tiny_lenet_config, "num_samples": 1, "max_epochs": 2, "seed": 3}
    off = run_lenet({**raw, "name": "wandb_off"})
    wandb_section = {"enabled": True, "mode": "offline", "group": "study", "tags": ["t"]}
    on = run_lenet({**raw, "name": "wandb_on", "wandb": wandb_section})
    pd.testing.assert_frame_equal(on, off)

    runs = [read_offline_run(p) for p in find_offline_runs(tmp_path / "results/wandb_on/wandb")]
    (trial_run,) = [r for r in runs if r.name != "wandb_on-incumbent"]
    (incumbent_run,) = [r for r in runs if r.name == "wandb_on-incumbent"]
    best = [
        row["best_validation_error"]
        for row in incumbent_run.history
        if "best_validation_error" in row
    ]
    assert best == sorted(best, reverse=True) and best[-1] == off["validation_error"].min()
    for run in runs:
        assert (run.group, run.job_type) == ("study", "random")
        assert run.config["seed"] == 3 and run.config["dataset"] == "digits"
        assert run.config["scheduler"] == "fifo" and run.config["experiment"] == "wandb_on"
    epochs = [row["training_iteration"] for row in trial_run.history if "validation_error" in row]
    assert epochs == [1, 2]
    assert trial_run.config["learning_rate"] == on["config/learning_rate"].iloc[0]


def test_user_code_logs_one_run_per_trial_and_the_incumbent(
    user_code_dir: Path, ray_session: None, tmp_path: Path
) -> None:
    raw = {
        "name": "wandb_user",
        "trainable": f"{user_code_dir / USER_MODULE}.py:climb",
        "metric": "score",
        "mode": "max",
        "max_epochs": 3,
        "num_samples": 1,
        "search_space": {"lr": {"grid": [1.0, 2.0]}, "seconds_per_step": 0.01},
        "searcher": {"name": "grid"},
        "resources_per_trial": {"cpu": 0.5},
        "storage_path": str(tmp_path / "results"),
        "wandb": {"enabled": True, "mode": "offline"},
    }
    run_experiment(validate_config(raw))

    runs = [read_offline_run(p) for p in find_offline_runs(tmp_path / "results/wandb_user/wandb")]
    trial_runs = [r for r in runs if r.name != "wandb_user-incumbent"]
    (incumbent_run,) = [r for r in runs if r.name == "wandb_user-incumbent"]
    assert sorted(r.config["lr"] for r in trial_runs) == [1.0, 2.0]
    for run in runs:
        assert (run.group, run.job_type) == ("wandb_user", "grid")
        assert run.config["trainable"] == raw["trainable"]
    for run in trial_runs:
        scores = [row["score"] for row in run.history if "score" in row]
        assert scores == [run.config["lr"] * step for step in (1, 2, 3)]
    best = [row["best_score"] for row in incumbent_run.history if "best_score" in row]
    assert best[-1] == 6.0
