"""Resource checks, fractional GPUs, retries from checkpoints and resuming a killed driver.

Everything is real: Ray instances, `raytune-hpo` subprocesses, SIGKILL. GPUs are logical
(`ray.init(num_gpus=2)` on a machine without one): Ray assigns them and sets
CUDA_VISIBLE_DEVICES exactly as for physical GPUs, while torch trains on the CPU.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import ConfigError, validate_config
from raytune_hpo.experiment.runner import run_experiment
from raytune_hpo.layout import CONFIG_FILE
from tests.helpers.netns_cluster import stop_sessions
from tests.helpers.placement import max_overlap, newest_state, raw_epochs, trial_runs
from tests.helpers.user_code import USER_MODULE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "raytune_hpo.cli"]

# A driver with 2 logical GPUs and 8 logical CPUs, so that GPUs bound the concurrency.
_FRACTIONAL_DRIVER = """
import sys
import ray
import yaml
from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import run_experiment

ray.init(num_cpus=8, num_gpus=2, include_dashboard=False, logging_level="WARNING")
run_experiment(validate_config(yaml.safe_load(open(sys.argv[1]))))
"""


def _write_config(raw: dict[str, Any], folder: Path) -> Path:
    path = folder / f"{raw['name']}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _cli_env() -> dict[str, str]:
    """The test's environment for a `raytune-hpo` subprocess that starts its own Ray."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return env | {"RAY_USAGE_STATS_ENABLED": "0", "TUNE_GLOBAL_CHECKPOINT_S": "0.5"}


@pytest.mark.parametrize("request_", [{"cpu": 64}, {"cpu": 1, "gpu": 1}])
def test_impossible_request_fails_before_any_trial_starts(
    request_: dict[str, float], tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    cfg = validate_config({**tiny_lenet_config, "resources_per_trial": request_})
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"^resources_per_trial: one trial asks for"):
        run_experiment(cfg)
    assert time.monotonic() - start < 10
    assert not (Path(cfg.storage_path) / cfg.name).exists()


def test_uneven_gpu_share_is_logged_before_the_check(
    tiny_lenet_config: dict[str, Any], ray_session: None, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = validate_config({**tiny_lenet_config, "resources_per_trial": {"cpu": 1, "gpu": 0.3}})
    with caplog.at_level(logging.WARNING, logger="raytune_hpo.cluster"):
        with pytest.raises(ConfigError, match="gpu=0.3, more than any node"):
            run_experiment(cfg)
    assert "resources_per_trial.gpu=0.3: Ray splits a GPU by count, not by memory" in caplog.text


def test_impossible_request_exits_2_within_seconds(
    tiny_lenet_config: dict[str, Any], tmp_path: Path
) -> None:
    raw = {**tiny_lenet_config, "name": "too_big", "resources_per_trial": {"cpu": 1, "gpu": 4}}
    start = time.monotonic()
    done = subprocess.run(
        [*CLI, "run", str(_write_config(raw, tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=_cli_env(),
    )
    elapsed = time.monotonic() - start

    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("raytune-hpo: error:")]
    assert len(errors) == 1, done.stderr[-2000:]
    assert "resources_per_trial: one trial asks for cpu=1, gpu=4, more than any node" in errors[0]
    assert "Traceback" not in done.stderr
    assert elapsed < 60, f"took {elapsed:.0f} s"
    assert not (tmp_path / "results" / "too_big" / CONFIG_FILE).exists()


def test_unreachable_address_and_foreign_folder_exit_2_within_seconds(
    tiny_lenet_config: dict[str, Any], tmp_path: Path, closed_port: int
) -> None:
    config = _write_config({**tiny_lenet_config, "name": "nowhere"}, tmp_path)
    for args, expected in (
        (
            ["run", str(config), "--address", f"127.0.0.1:{closed_port}"],
            f"--address: no Ray cluster answers at 127.0.0.1:{closed_port}",
        ),
        (["resume", str(tmp_path)], f"{tmp_path}: no raytune_hpo.yaml"),
    ):
        start = time.monotonic()
        done = subprocess.run(
            [*CLI, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=_cli_env()
        )
        assert done.returncode == 2, done.stderr[-2000:]
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"raytune-hpo: error: {expected}"), lines
        assert time.monotonic() - start < 30


def test_four_trials_share_two_gpus_at_half_a_gpu_each(
    tiny_lenet_config: dict[str, Any], tmp_path: Path
) -> None:
    raw = {
        **tiny_lenet_config,
        "name": "half_gpus",
        "num_samples": 5,
        "max_epochs": 3,
        "dataset": {**tiny_lenet_config["dataset"], "train_size": 600},
        "resources_per_trial": {"cpu": 1, "gpu": 0.5},
    }
    done = subprocess.run(
        [sys.executable, "-c", _FRACTIONAL_DRIVER, str(_write_config(raw, tmp_path))],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=_cli_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    experiment = load_experiment(tmp_path / "results" / "half_gpus")
    runs = trial_runs(experiment)

    assert len(runs) == 5
    assert set(experiment.trials["status"]) == {"TERMINATED"}
    for gpu_ids in runs["gpu_ids"]:
        assert len(gpu_ids) == 1 and gpu_ids <= {"0", "1"}, gpu_ids
    gpu = runs["gpu_ids"].map(lambda ids: next(iter(ids)))
    assert max_overlap(runs) == 4, runs[["trial_id", "start", "end", "gpu_ids"]]
    for gpu_id in ("0", "1"):
        assert max_overlap(runs, gpu == gpu_id) <= 2


def test_injected_failure_retries_from_the_last_checkpoint(
    tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    raw = {
        **tiny_lenet_config,
        "name": "injected_failure",
        "num_samples": 2,
        "trainable_options": {"activation": "relu", "fail_at_epoch": 2},
        "failure": {"max_failures": 1},
    }
    outcome = run_experiment(validate_config(raw))
    experiment = load_experiment(outcome.path)

    assert set(experiment.trials["status"]) == {"TERMINATED"}
    assert list(experiment.trials["num_failures"]) == [1, 1]
    for trial_dir in experiment.trials["trial_dir"]:
        # Epoch 1 was saved before the failure at epoch 2: the retry starts at epoch 2.
        assert raw_epochs(trial_dir) == [1, 2, 3]
        assert (Path(trial_dir) / "injected_failure_epoch_2").exists()
    assert outcome.best is not None and outcome.best["test"] is not None


def _await_kill_point(
    path: Path, proc: subprocess.Popen[str], epochs: int, timeout: float
) -> dict[str, Any]:
    """Polls the experiment state until a trial has finished and another is mid-way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        state = newest_state(path) or {}
        finished = [t for t in state.values() if t["status"] == "TERMINATED"]
        midway = [t for t in state.values() if t["status"] == "RUNNING" and 0 < t["epoch"] < epochs]
        if finished and midway:
            return state
        time.sleep(0.1)
    raise AssertionError(f"no kill point within {timeout:.0f} s; driver exit {proc.poll()}")


def _killable_user_code(user_code_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """The user's own function (by file path) and evaluate hook, a few tenths of a second a step."""
    code = user_code_dir / f"{USER_MODULE}.py"
    return {
        "trainable": f"{code}:climb",
        "evaluate": f"{code}:evaluate",
        "metric": "score",
        "mode": "max",
        "search_space": {"lr": {"uniform": [0.1, 1.0]}, "seconds_per_step": 0.4},
        "storage_path": str(tmp_path / "results"),
    }


@pytest.mark.parametrize("code", ["lenet", "user_code"])
def test_sigkilled_run_resumes_without_rerunning_finished_work(
    tiny_lenet_config: dict[str, Any], user_code_dir: Path, tmp_path: Path, code: str
) -> None:
    trainable = tiny_lenet_config
    if code == "user_code":
        trainable = _killable_user_code(user_code_dir, tmp_path)
    raw = {
        **trainable,
        "name": "killed",
        "num_samples": 4,
        "max_epochs": 5,
        "max_concurrent_trials": 2,
        **(
            {"dataset": {**tiny_lenet_config["dataset"], "train_size": 600}}
            if code == "lenet"
            else {}
        ),
    }
    path = tmp_path / "results" / "killed"
    run = subprocess.Popen(
        [*CLI, "run", str(_write_config(raw, tmp_path))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_cli_env(),
        start_new_session=True,
    )
    try:
        at_kill = _await_kill_point(path, run, raw["max_epochs"], timeout=150)
        os.kill(run.pid, signal.SIGKILL)  # the driver, as when its machine dies ...
    finally:
        stop_sessions([run], signal.SIGKILL, grace=0.0)  # ... with the Ray it started

    # The finished trial's last checkpoint is read back from the state: the check below can bite.
    assert any(t["saved"] == raw["max_epochs"] for t in at_kill.values()), at_kill

    resumed = subprocess.run(
        [*CLI, "resume", str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=_cli_env(),
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    experiment = load_experiment(path)
    trials = experiment.trials

    assert len(trials) == 4 and trials["trial_id"].is_unique
    assert set(at_kill) <= set(trials["trial_id"])
    assert set(trials["status"]) == {"TERMINATED"}
    for trial in trials.itertuples(index=False):
        epochs = raw_epochs(trial.trial_dir)
        assert set(epochs) == set(range(1, 6)), (trial.trial_id, epochs)
        saved = at_kill.get(trial.trial_id, {"saved": 0})["saved"]
        # Every epoch up to the checkpoint recorded before the kill ran exactly once.
        for epoch in range(1, saved + 1):
            assert epochs.count(epoch) == 1, (trial.trial_id, saved, epochs)
    assert experiment.best is not None and experiment.best["test"] is not None
    assert "best config:" in resumed.stdout
