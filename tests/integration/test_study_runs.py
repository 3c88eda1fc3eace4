"""``raytune-hpo study`` end to end: 2 methods x 2 seeds of the user's code, interrupted by
Ctrl-C during its third run and continued by the same command, with W&B offline files.

The study runs as a user runs it, in a subprocess with its own Ray; Ctrl-C is a real SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from raytune_hpo.layout import COMPARISON_DIR
from tests.helpers.user_code import USER_MODULE
from tests.helpers.wandb_records import find_offline_runs, read_offline_run

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 6


def _write_configs(folder: Path, code: Path) -> list[Path]:
    """Random search and ASHA over the user's ``climb``: 2 trials of 6 steps of 0.4 s each."""
    base: dict[str, Any] = {
        "trainable": f"{code}:climb",
        "metric": "score",
        "mode": "max",
        "max_epochs": EPOCHS,
        "num_samples": 2,
        "search_space": {"lr": {"uniform": [0.1, 1.0]}, "seconds_per_step": 0.4},
    }
    schedulers = {"plain": {"name": "fifo"}, "early": {"name": "asha", "grace_period": 2}}
    paths = []
    for stem, scheduler in schedulers.items():
        path = folder / f"{stem}.yaml"
        path.write_text(yaml.safe_dump({**base, "name": stem, "scheduler": scheduler}))
        paths.append(path)
    return paths


def _study(configs: list[Path], storage: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "raytune_hpo.cli",
        "study",
        *map(str, configs),
        "--seeds",
        "2",
        "--budget-s",
        "120",
        "--name",
        "two_by_two",
        "--storage-path",
        str(storage),
        "--wandb",
    ]


def _wait_for_reports(folder: Path, process: subprocess.Popen[str], timeout_s: float) -> None:
    """Until Tune has recorded two reports, each with a checkpoint, of both trials in ``folder``.

    ``result.json`` is written by Tune's driver when it takes a report in, so its checkpoint is
    then part of the experiment state that Ctrl-C saves.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        logs = list(folder.glob("climb_*/result.json"))
        if len(logs) == 2 and all(len(log.read_text().splitlines()) >= 2 for log in logs):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"no two reports of each trial in {folder} within {timeout_s} s")


def _results(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.glob("*/result.json")}


def test_an_interrupted_study_continues_where_it_stopped(
    tmp_path: Path, user_code_dir: Path
) -> None:
    configs = _write_configs(tmp_path, user_code_dir / f"{USER_MODULE}.py")
    storage = tmp_path / "results"
    study = storage / "two_by_two"
    env = {**os.environ, "WANDB_MODE": "offline"}

    first = subprocess.Popen(
        _study(configs, storage), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        _wait_for_reports(study / "plain_seed1", first, timeout_s=240)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 130, out[-2000:] + err[-3000:]
    assert "[1/4] random seed 0: done in" in out
    assert "[2/4] asha seed 0: done in" in out
    assert "[3/4] random seed 1: running plain_seed1" in out
    hint = err.strip().splitlines()[-1]
    assert hint.startswith("raytune-hpo: study interrupted; the state of")
    assert "raytune-hpo study " in hint and "--overwrite" not in hint
    finished_before = _results(study / "plain_seed0")
    early_before = _results(study / "early_seed0")
    assert len(finished_before) == 2

    started = time.time()
    second = subprocess.run(
        _study(configs, storage), capture_output=True, text=True, cwd=tmp_path, env=env,
        timeout=400,
    )  # fmt: skip
    out = second.stdout
    assert second.returncode == 0, out[-2000:] + second.stderr[-3000:]
    assert "(2 finished earlier)" in out
    assert "[1/4] random seed 0: finished earlier, kept" in out
    assert "[2/4] asha seed 0: finished earlier, kept" in out
    assert "[3/4] random seed 1: resuming plain_seed1" in out
    assert "[4/4] asha seed 1: done in" in out
    assert out.strip().splitlines()[-1].startswith("best method: ")

    # The finished run was not recomputed; the interrupted one kept its earlier reports and
    # its trials went on from their checkpoints to the last epoch.
    assert _results(study / "plain_seed0") == finished_before
    assert _results(study / "early_seed0") == early_before
    comparison = study / COMPARISON_DIR
    reports = pd.read_csv(comparison / "reports.csv")
    resumed = reports[reports["experiment"] == "plain_seed1"]
    assert (resumed.groupby("trial_id")["epoch"].max() == EPOCHS).all()
    assert (resumed["timestamp"] < started).any()
    assert resumed["restored_from"].isin(resumed["trial_id"]).any()
    runs = pd.read_csv(comparison / "runs.csv")
    assert sorted(zip(runs["method"], runs["seed"], strict=True)) == [
        ("asha", 0),
        ("asha", 1),
        ("random", 0),
        ("random", 1),
    ]
    assert sorted(pd.read_csv(comparison / "methods.csv")["method"]) == ["asha", "random"]

    # W&B: each run's trials in the study's group with the method as job type, and one more
    # run holding the comparison's tables and plots.
    trial_run = read_offline_run(find_offline_runs(study / "early_seed0" / "wandb")[0])
    assert (trial_run.group, trial_run.job_type) == ("two_by_two", "asha")
    (comparison_run,) = [read_offline_run(p) for p in find_offline_runs(study / "wandb")]
    assert (comparison_run.group, comparison_run.job_type) == ("two_by_two", "comparison")
    logged = {key for row in comparison_run.history for key in row}
    assert {"methods", "runs", "anytime", "learning_curves"} <= logged
