"""The index's ends: errored and early-stopped counts per experiment and study, ``failed`` for a
run whose errored trials made it exit 1, a study's runs out of those planned, and a study's
methods without a result left unranked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from raytune_hpo.dashboard.index import index_rows
from raytune_hpo.dashboard.study_page import ranked
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE, STUDY_FILE, TRIAL_ENDS_FILE
from raytune_hpo.storage.stamped import LocalStore
from raytune_hpo.trial_ends import ERRORED, FINISHED, RunEnds, TrialEnd

STATE = "experiment_state-2026-01-01_00-00-00.json"


def experiment(folder: Path, statuses: list[tuple[str, int]], **config: Any) -> Path:
    """An experiment of ASHA over 4 epochs whose trials have these Ray statuses and last
    epochs, in Ray's state file (only the fields read)."""
    folder.mkdir(parents=True)
    settings = {"name": folder.name, "metric": "loss", "mode": "min", "max_epochs": 4,
                "searcher": {"name": "random"}, "scheduler": {"name": "asha"},
                **config}  # fmt: skip
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(settings))
    trials = [
        [
            json.dumps({"trial_id": f"t_{i:05d}", "status": status, "config": {"lr": 0.1}}),
            json.dumps({"start_time": 1.0, "metric_analysis": {
                "loss": {"min": 0.5, "max": 0.9, "last": 0.5},
                "training_iteration": {"min": 1, "max": epochs, "last": epochs}}}),
        ]
        for i, (status, epochs) in enumerate(statuses)
    ]  # fmt: skip
    state = {"trial_data": trials, "runner_data": "{}", "stats": "{}"}
    (folder / STATE).write_text(json.dumps(state))
    return folder


def record_ends(folder: Path, ends: dict[str, TrialEnd], complete: bool = True) -> None:
    run = RunEnds(ends, complete=complete, state_file=STATE)
    (folder / TRIAL_ENDS_FILE).write_text(run.to_text())


def rows(root: Path) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in index_rows(LocalStore(root))}


def test_a_run_whose_errors_made_it_exit_1_is_failed_not_finished(tmp_path: Path) -> None:
    ends = {f"t_{i:05d}": TrialEnd(ERRORED if i % 2 else FINISHED, 4, 4) for i in range(14)}
    for name, tolerated in (("strict", 0), ("tolerant", 7)):
        folder = experiment(tmp_path / name, [("TERMINATED", 4)] * 14, max_failed_trials=tolerated)
        record_ends(folder, ends)
    (tmp_path / "strict" / BEST_FILE).write_text(json.dumps({"trial_id": "t_00000", "loss": 0.5}))
    found = rows(tmp_path)
    assert found["strict"]["status"] == "failed"
    assert found["strict"]["counts"] == [("finished", 7), ("errored", 7)]
    assert found["tolerant"]["status"] == "finished"  # max_failed_trials: 7 tolerates them
    assert found["tolerant"]["counts"] == [("finished", 7), ("errored", 7)]
    record_ends(tmp_path / "strict", ends, complete=False)
    assert rows(tmp_path)["strict"]["status"] == "interrupted"


def test_runs_that_recorded_no_ends_are_counted_from_rays_state(tmp_path: Path) -> None:
    older = experiment(tmp_path / "older", [("TERMINATED", 4), ("TERMINATED", 1), ("ERROR", 2)])
    (older / BEST_FILE).write_text(json.dumps({"trial_id": "t_00000", "loss": 0.5}))
    experiment(tmp_path / "all_errored", [("ERROR", 1), ("ERROR", 2)])
    (tmp_path / "all_errored" / BEST_FILE).write_text("{}")
    experiment(tmp_path / "live", [("RUNNING", 2), ("TERMINATED", 1), ("PENDING", 0)])
    found = rows(tmp_path)
    assert found["older"]["counts"] == [("finished", 1), ("stopped early", 1), ("errored", 1)]
    assert found["older"]["status"] == "failed"  # max_failed_trials 0: it exited 1
    assert found["all_errored"]["status"] == "failed"
    assert found["live"]["status"] == "running"
    assert found["live"]["counts"] == [("stopped early", 1), ("pending", 1), ("running", 1)]


def test_a_study_counts_its_runs_out_of_those_planned_and_their_ends(tmp_path: Path) -> None:
    study = tmp_path / "study"
    for run, statuses in (("random_seed0", ["TERMINATED", "ERROR"]), ("asha_seed0", ["ERROR"])):
        experiment(study / run, [(status, 4) for status in statuses])
    settings = {"configs": ["random.yaml", "asha.yaml"], "seeds": 2}
    (study / STUDY_FILE).write_text(json.dumps({"settings": settings, "finished": {}}))
    row = rows(tmp_path)["study"]
    assert (row["runs"], row["planned"]) == (2, 4)
    assert row["counts"] == [("finished", 1), ("errored", 2)]


def test_methods_without_a_result_are_not_ranked() -> None:
    methods = [
        {"rank": 1, "method": "asha", "best": 0.2, "mean": 0.3},
        {"rank": 2, "method": "pbt", "best": None, "mean": None},
    ]
    assert [row["rank"] for row in ranked(methods)] == [1, None]
