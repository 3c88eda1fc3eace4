"""Index rows from cheap files: status, method, trials and best value per experiment."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml

from raytune_hpo.dashboard import index
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE
from raytune_hpo.storage.stamped import LocalStore


def make_experiment(folder: Path, minima: list[float]) -> Path:
    """An experiment folder with a state file in Ray's shape (only the fields read)."""
    folder.mkdir(parents=True)
    config = {"name": folder.name, "metric": "loss", "mode": "min",
              "searcher": {"name": "random"}, "scheduler": {"name": "fifo"}}  # fmt: skip
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config))
    trials = [
        [
            json.dumps({"trial_id": f"t_{i:05d}", "status": "RUNNING", "config": {"lr": 0.1}}),
            json.dumps({"start_time": 1.0, "metric_analysis": {"loss": {"min": v, "max": 9.0}}}),
        ]
        for i, v in enumerate(minima)
    ]
    state = {"trial_data": trials, "runner_data": "{}", "stats": "{}"}
    (folder / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps(state))
    return folder


def age(folder: Path, seconds: float) -> None:
    then = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (then, then))


def test_status_follows_best_json_and_recent_changes(tmp_path: Path) -> None:
    make_experiment(tmp_path / "running", [0.5, 0.25])
    stopped = make_experiment(tmp_path / "stopped", [0.4])
    age(stopped, index.RUNNING_WINDOW_S + 10)
    finished = make_experiment(tmp_path / "finished", [0.3])
    (finished / BEST_FILE).write_text(json.dumps({"trial_id": "t_00000", "loss": 0.3}))
    age(finished, 30)
    rows = {row["name"]: row for row in index.index_rows(LocalStore(tmp_path))}
    assert {n: r["status"] for n, r in rows.items()} == {
        "running": "running",
        "stopped": "interrupted",
        "finished": "finished",
    }
    assert rows["running"]["best"] == 0.25 and rows["running"]["trials"] == 2
    assert rows["finished"]["best"] == 0.3 and rows["finished"]["method"] == "random"
    names = [r["name"] for r in index.index_rows(LocalStore(tmp_path))]
    assert names == ["running", "finished", "stopped"]


def test_a_folder_with_a_broken_config_still_gets_a_row(tmp_path: Path) -> None:
    folder = make_experiment(tmp_path / "broken", [0.5])
    (folder / CONFIG_FILE).write_text(": not yaml : [")
    (row,) = index.index_rows(LocalStore(tmp_path))
    assert row["method"] == "?" and row["trials"] == 1
