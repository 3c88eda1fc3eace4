"""Trials an experiment ended before they ran, counted and shown on a synthetic folder.

The folder holds what Ray Tune 2.60 leaves when a time budget ends an experiment: trials that
ran have a start time, trials still waiting are TERMINATED without one, and trials it never
created are missing from the state file altogether (``num_samples`` says how many there were).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from raytune_hpo.analysis.compare import load_comparison
from raytune_hpo.analysis.results import (
    NOT_STARTED,
    load_experiment,
    not_started,
    planned_trials,
    summary_table,
)
from raytune_hpo.config import validate_config
from raytune_hpo.console.progress import Progress

# trial id -> (status, start time, validation errors reported)
STATE = {
    "t0": ("TERMINATED", 100.0, [0.5, 0.3]),
    "t1": ("TERMINATED", 101.0, []),  # started, stopped by the budget before its first report
    "t2": ("TERMINATED", None, []),  # waited for a worker until the budget ended
    "t3": ("ERROR", None, []),  # failed to start: an error, not "not started"
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A random-search experiment of 6 trials whose budget ended after Ray created 4."""
    raw = {"name": "budget", "num_samples": 6, "time_budget_s": 5, "search_space": {"lr": 0.1}}
    path = tmp_path / "budget"
    path.mkdir()
    (path / "raytune_hpo.yaml").write_text(yaml.safe_dump(validate_config(raw).model_dump()))
    state = []
    for trial_id, (status, start, values) in STATE.items():
        (path / trial_id).mkdir()
        rows = [
            {
                "trial_id": trial_id,
                "training_iteration": epoch,
                "validation_error": value,
                "report_time": 100.0 + epoch,
                "time_this_iter_s": 1.0,
                "time_total_s": float(epoch),
                "config": {"lr": 0.1},
            }
            for epoch, value in enumerate(values, 1)
        ]
        (path / trial_id / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
        trial = {"trial_id": trial_id, "status": status, "relative_logdir": trial_id}
        trial["config"] = {"lr": 0.1, "opaque": {"_type": "CLOUDPICKLE_FALLBACK", "value": "80"}}
        state.append([json.dumps(trial), json.dumps({"start_time": start})])
    (path / "experiment_state-2026-12-01_00-00-00.json").write_text(
        json.dumps({"trial_data": state})
    )
    return path


def test_a_trial_that_never_ran_is_not_started_not_terminated(folder: Path) -> None:
    experiment = load_experiment(folder)
    statuses = experiment.trials.set_index("trial_id")["status"].to_dict()
    assert statuses == {"t0": "TERMINATED", "t1": "TERMINATED", "t2": NOT_STARTED, "t3": "ERROR"}
    table = summary_table(experiment)
    assert table["trial_id"].tolist() == ["t0", "t1", "t2", "t3"]  # without reports: last
    assert table["epochs"].tolist() == [2, 0, 0, 0]
    assert table["lr"].tolist() == [0.1] * 4  # from the reports, else from Ray's state
    assert "opaque" not in table  # a value Ray could only pickle


def test_not_started_counts_the_trials_ray_never_created(folder: Path) -> None:
    experiment = load_experiment(folder)
    assert planned_trials(experiment.config) == 6
    assert not_started(experiment) == 1 + 2  # t2, and 2 of 6 never created
    runs = load_comparison([folder]).runs
    assert runs.loc[0, ["trials_started", "trials_not_started", "trials_finished"]].tolist() == [
        2,
        3,
        2,
    ]


def test_a_grid_multiplies_the_planned_trials() -> None:
    space = {"lr": {"grid": [0.1, 0.2, 0.3]}, "momentum": {"grid": [0.0, 0.9]}, "wd": 0.0}
    assert planned_trials({"num_samples": 2, "search_space": space}) == 12


def test_the_last_status_line_says_what_the_end_cut_off() -> None:
    end = Progress(
        done=3,
        total=20,
        running=0,
        errored=0,
        best=("t0", 0.5691),
        elapsed_s=41,
        budget_s=40,
        cut_short=2,
        not_started=15,
    )
    assert end.status_line("validation_error", final=True) == (
        "[0:41] 3/20 trials done, 2 stopped by the time budget, 15 never started, "
        "best validation_error 0.5691 (trial t0)"
    )
    assert end.postfix("loss") == (
        "3/20 trials done, best loss 0.5691 (trial t0), 0 running, "
        "2 stopped by the time budget, 15 never started"
    )
