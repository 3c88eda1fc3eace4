"""The JSON the experiment and trial pages draw, on a synthetic folder in Ray's file format: a
PBT experiment of three trials (one exploited, one paused and resumed, one errored command
trial whose error file holds Ray's coloured traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from raytune_hpo.dashboard.app import create_app
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.dashboard.parallel_axes import log_ticks
from raytune_hpo.dashboard.trial_page import trial_data
from raytune_hpo.layout import (
    COMMAND_FILE,
    CONFIG_FILE,
    ERROR_FILE,
    PBT_HISTORY_FILE,
    RESULT_FILE,
    STDERR_LOG,
    STDOUT_LOG,
)
from raytune_hpo.storage.stamped import LocalStore

TRACEBACK = (
    "Failure # 1 (occurred at 2026-01-01_00-00-09)\n"
    "\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=1, ip=192.0.2.2)\n"
    '  File "train.py", line 9, in main\n'
    "    raise RuntimeError(f'loss exploded at epoch {epoch}: lr={lr:.3f}')\n"
    "RuntimeError: loss exploded at epoch 3: lr=0.373\n"
)


def report(trial: str, epoch: int, lr: float, loss: float, **more: Any) -> dict[str, Any]:
    since_restore = more.pop("since_restore", epoch)
    return {"trial_id": trial, "training_iteration": epoch, "loss": loss, "accuracy": 1 - loss,
            "epoch": epoch, "timestamp": 1000 + 10 * epoch, "time_total_s": float(epoch),
            "iterations_since_restore": since_restore, "config": {"lr": lr, "width": 64,
            "act": "relu"}, **more}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "pbt"
    folder.mkdir()
    config = {
        "name": "pbt", "metric": "loss", "mode": "min", "max_epochs": 4,
        "searcher": {"name": "random"},
        "scheduler": {"name": "pbt", "hyperparam_mutations": {"lr": {"loguniform": [0.001, 1]}}},
        "search_space": {"lr": {"loguniform": [0.001, 1.0]}, "width": 64, "act": "relu"},
    }  # fmt: skip
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config))
    reports = {
        "t_00000": [report("t_00000", e, 0.01, 1 / e, checkpoint_dir_name=f"checkpoint_{e:06d}")
                    for e in (1, 2, 3, 4)],
        "t_00001": [report("t_00001", 1, 0.5, 0.9), report("t_00001", 2, 0.5, 0.8),
                    report("t_00001", 3, 0.03, 0.4, since_restore=1),
                    report("t_00001", 4, 0.03, 0.3, since_restore=2)],
        "t_00002": [report("t_00002", 1, 0.373, 2.0), report("t_00002", 2, 0.373, 5.0)],
    }  # fmt: skip
    trial_data_rows = []
    for trial, rows in reports.items():
        trial_folder = folder / f"trial_{trial}"
        trial_folder.mkdir()
        (trial_folder / RESULT_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
        errored = trial == "t_00002"
        trial_data_rows.append([
            json.dumps({"trial_id": trial, "status": "ERROR" if errored else "TERMINATED",
                        "config": rows[-1]["config"], "relative_logdir": trial_folder.name}),
            json.dumps({"start_time": 1000.0, "error_filename": ERROR_FILE if errored else None}),
        ])  # fmt: skip
    (folder / "trial_t_00000" / "checkpoint_000004").mkdir()  # Ray kept the last one only
    failed = folder / "trial_t_00002"
    (failed / ERROR_FILE).write_text(TRACEBACK)
    (failed / COMMAND_FILE).write_text("#!/bin/sh\ncd /code\nexec python train.py --lr=0.373\n")
    (failed / STDOUT_LOG).write_text("epoch=1 loss=2.0\n\x1b[32mepoch=2 loss=5.0\x1b[0m\n")
    (failed / STDERR_LOG).write_text("42%|████      | 42/100 [00:01<00:01]\nwarning: unstable\n")
    state = {"trial_data": trial_data_rows, "runner_data": "{}", "stats": "{}"}
    (folder / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps(state))
    exploit = {"time": 1025.0, "trial_id": "t_00001", "donor_id": "t_00000",
               "training_iteration": 2, "donor_iteration": 2, "old": {"lr": 0.5},
               "donor": {"lr": 0.01}, "new": {"lr": 0.03}}  # fmt: skip
    (folder / PBT_HISTORY_FILE).write_text(json.dumps(exploit) + "\n")
    return tmp_path


def test_the_error_column_holds_the_exceptions_own_line_without_escapes(root: Path) -> None:
    page = experiment_data(LocalStore(root), "pbt")
    rows = {row["trial_id"]: row for row in page["trial_rows"]}
    failed = rows["t_00002"]
    assert failed["status"] == "errored" and failed["end"] == "errored at epoch 3"
    assert failed["error"] == "RuntimeError: loss exploded at epoch 3: lr=0.373"
    assert "\x1b" not in failed["traceback"] and "[36m" not in failed["traceback"]
    assert failed["traceback"].splitlines()[1].startswith("ray::ImplicitFunc.train()")
    assert rows["t_00000"]["error"] is None and rows["t_00000"]["traceback"] is None
    assert page["counts"] == [("finished", 2), ("errored", 1)]


def test_curves_mark_restarts_and_exploits_with_their_donor(root: Path) -> None:
    page = experiment_data(LocalStore(root), "pbt")
    curves = {c["trial"]: c for c in page["curves"]}
    exploited = curves["t_00001"]
    assert exploited["epoch"] == [1, 2, 3, 4] and exploited["value"] == [0.9, 0.8, 0.4, 0.3]
    assert exploited["elapsed_s"] == [10.0, 20.0, 30.0, 40.0]  # from the first trial's start
    assert exploited["restarts"] == [2]  # the wall-clock curve breaks before epoch 3
    (exploit,) = exploited["exploits"]
    assert exploit["index"] == 2 and exploit["change"] == {"lr": [0.5, 0.03]}
    assert exploit["donor_id"] == "t_00000" and exploit["donor_iteration"] == 2
    assert curves["t_00000"]["restarts"] == [] and curves["t_00000"]["exploits"] == []


def test_parallel_coordinates_log_scale_left_out_constants_and_errored_apart(root: Path) -> None:
    axes = experiment_data(LocalStore(root), "pbt")["parcoords"]
    labels = [d["label"] for d in axes["dimensions"]]
    assert labels == ["lr (log)", "loss"]  # width and act never change
    lr = axes["dimensions"][0]
    assert lr["values"] == pytest.approx([-2, -1.5229, -0.4283], abs=1e-4)
    assert lr["ticktext"] == ["0.01", "0.02", "0.05", "0.1", "0.2"]
    assert axes["trials"] == ["t_00000", "t_00001", "t_00002"]
    assert axes["errored"] == [False, False, True]


def test_log_ticks_are_round_numbers_written_in_full() -> None:
    assert log_ticks(0.0009, 1.2) == pytest.approx([0.001, 0.01, 0.1, 1.0])
    assert log_ticks(0.1, 0.9) == pytest.approx([0.1, 0.2, 0.5])
    assert log_ticks(0.3, 0.4) == [0.3, 0.4]
    assert log_ticks(0.34, 0.83) == [0.34, 0.5, 0.83]


def test_a_trial_page_has_every_metric_its_lineage_command_output_and_checkpoints(
    root: Path,
) -> None:
    store = LocalStore(root)
    donor = trial_data(store, "pbt", "t_00000")
    assert donor is not None
    assert [c["metric"] for c in donor["curves"]] == ["loss", "accuracy"]  # epoch repeats
    assert [r["trial_id"] for r in donor["donated"]] == ["t_00001"] and donor["received"] == []
    assert donor["checkpoints"] == [{"name": "checkpoint_000004", "epoch": 4, "value": 0.25}]
    assert donor["command"] is None and donor["stdout"] is None
    assert (donor["previous"], donor["next"]) == (None, "t_00001")
    failed = trial_data(store, "pbt", "t_00002")
    assert failed is not None
    assert failed["command"]["line"] == "python train.py --lr=0.373"
    assert failed["stdout"] == ["epoch=1 loss=2.0", "epoch=2 loss=5.0"]
    assert failed["stderr"] == ["warning: unstable"]  # no progress bars
    assert failed["error"] == "RuntimeError: loss exploded at epoch 3: lr=0.373"
    assert trial_data(store, "pbt", "t_99999") is None


def test_trial_pages_are_served_for_known_trials_only(root: Path) -> None:
    client = TestClient(create_app(root))
    assert client.get("/experiments/pbt/trials/t_00001").status_code == 200
    assert client.get("/api/experiments/pbt/trials/t_00001").json()["trial_id"] == "t_00001"
    for path in (
        "/experiments/pbt/trials/t_99999",
        "/api/experiments/pbt/trials/t_99999",
        "/api/experiments/pbt/trials/%2e%2e",
        "/api/experiments/nope/trials/t_00001",
        "/experiments/pbt/trials/trial_t_00001",
    ):
        assert client.get(path).status_code == 404, path
    for script in ("experiment.js", "trial.js", "dashboard.js"):
        assert client.get(f"/static/{script}").status_code == 200
