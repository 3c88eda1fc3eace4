"""During a run: a diverging trial, a trial that raises, and Ctrl-C followed by ``resume``.

The first two run real experiments in the session's Ray instance; the last sends Ctrl-C to the
real ``raytune-hpo run`` command in its own process group, as a terminal does, and resumes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.analysis.results import Experiment, load_experiment, summary_table
from raytune_hpo.config import validate_config
from raytune_hpo.errors import EXIT_INTERRUPTED
from raytune_hpo.experiment.runner import run_experiment
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SANE_LR, DIVERGING_LR = 0.05, 1.0e4
"""Learning rates of SGD with momentum 0.9 on digits: one trains, one blows up in epoch 1."""


def _grid_run(tiny: dict[str, Any], name: str, **changes: Any) -> Experiment:
    """Run the tiny LeNet config over a grid of one sane and one diverging learning rate."""
    raw = {
        **tiny,
        "name": name,
        "searcher": {"name": "grid"},
        "num_samples": 1,
        "max_epochs": 2,
        "search_space": {
            "learning_rate": {"grid": [SANE_LR, DIVERGING_LR]},
            "batch_size": 64,
            "momentum": 0.9,
        },
        **changes,
    }
    return load_experiment(run_experiment(validate_config(raw)).path)


def _row(table: Any, learning_rate: float) -> Any:
    return table[table["learning_rate"] == learning_rate].iloc[0]


def test_diverging_trial_is_marked_and_the_others_finish(
    tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    experiment = _grid_run(tiny_lenet_config, "diverging")
    table = summary_table(experiment)

    assert set(table["status"]) == {"TERMINATED"}
    blown = _row(table, DIVERGING_LR)
    assert bool(blown["diverged"]) is True
    assert blown["epochs"] == 1
    assert blown["last_validation_error"] == 1.0  # the worst value of the metric
    sane = _row(table, SANE_LR)
    assert bool(sane["diverged"]) is False
    assert sane["epochs"] == 2
    assert sane["best_validation_error"] < 1.0
    assert experiment.best is not None
    assert experiment.best["config"]["learning_rate"] == SANE_LR
    assert 0.0 <= experiment.best["test"]["test_error"] <= 1.0


def test_erroring_trial_is_listed_with_its_log_and_is_never_best(
    tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    """With no retries, the sane trial raises at epoch 2 and errors: the best is the other."""
    experiment = _grid_run(
        tiny_lenet_config,
        "erroring",
        trainable_options={"activation": "relu", "fail_at_epoch": 2},
        failure={"max_failures": 0},
    )
    table = summary_table(experiment)

    failed = _row(table, SANE_LR)
    assert failed["status"] == "ERROR"
    assert failed["epochs"] == 1
    log = Path(failed["error_file"])
    assert log.is_file()
    assert "injected failure at epoch 2" in log.read_text()
    assert failed["end"] == "errored at epoch 2"
    assert failed["error"].startswith("RuntimeError: injected failure at epoch 2")
    assert _row(table, DIVERGING_LR)["status"] == "TERMINATED"
    assert _row(table, DIVERGING_LR)["end"] == "diverged at epoch 1 of 2"
    # An errored trial is never best, though it scored better: the one that ended without an
    # error is, and best.json is written.
    best = json.loads((experiment.path / BEST_FILE).read_text())
    assert failed["best_validation_error"] < best["validation_error"]
    assert best["config"]["learning_rate"] == DIVERGING_LR
    assert best["end"] == "diverged at epoch 1 of 2"


def _cli(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "raytune_hpo.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        **kwargs,
    )


def _wait_for_reports(folder: Path, process: subprocess.Popen[str], timeout: float) -> None:
    """Wait until some trial of ``folder`` has reported an epoch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if any(f.stat().st_size for f in folder.glob("*/result.json")):
            return
        time.sleep(0.2)
    pytest.fail(f"no trial of {folder} reported within {timeout} s")


def _trial_ids(folder: Path) -> list[str]:
    """The trial ids in the newest Ray Tune state file of ``folder``."""
    return list(load_experiment(folder).trials["trial_id"])


def test_ctrl_c_saves_state_and_resume_accounts_for_every_trial_once(
    tiny_lenet_config: dict[str, Any], ray_session: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C to a real ``raytune-hpo run``; then ``resume`` in-process on the session's Ray."""
    raw = {**tiny_lenet_config, "name": "interrupted", "num_samples": 3, "max_epochs": 3}
    config_file = Path(raw["storage_path"]) / "interrupted.yaml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(yaml.safe_dump(raw))
    folder = Path(raw["storage_path"]) / "interrupted"

    run = _cli("run", str(config_file), start_new_session=True)
    _wait_for_reports(folder, run, timeout=120)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = run.communicate(timeout=120)

    assert run.returncode == EXIT_INTERRUPTED, stderr[-3000:]
    assert "Traceback" not in stderr
    ours = [line for line in stderr.splitlines() if line.startswith("raytune-hpo: interrupted")]
    assert len(ours) == 1, stderr[-3000:]
    assert f"continue it with: raytune-hpo resume {folder}" in ours[0]
    assert (folder / CONFIG_FILE).is_file()
    assert list(folder.glob("experiment_state-*.json"))
    assert not (folder / BEST_FILE).exists()  # nothing final about a stopped run
    before = load_experiment(folder)
    assert len(before.trials) == raw["num_samples"]
    assert set(before.trials["status"]) - {"TERMINATED"}, "Ctrl-C came after the end"
    assert before.ends is not None and not before.ends.complete  # the ends so far, recorded
    assert "interrupted" in before.ends.tally() or "never started" in before.ends.tally()

    assert cli.main(["resume", str(folder)]) == 0
    assert "best config:" in capsys.readouterr().out

    after = load_experiment(folder)
    ids = _trial_ids(folder)
    assert len(ids) == len(set(ids)) == raw["num_samples"]
    assert set(ids) == set(before.trials["trial_id"])
    assert set(after.trials["status"]) == {"TERMINATED"}
    for trial_id, reports in after.reports.groupby("trial_id"):
        epochs = sorted(reports["training_iteration"])
        assert epochs == list(range(1, raw["max_epochs"] + 1)), trial_id
    assert (folder / BEST_FILE).is_file()
    assert after.ends is not None and after.ends.complete  # the resumed session's, every trial
    assert after.ends.tally() == f"{raw['num_samples']} finished"


WORKER_HOOK_PROBE = """
import sys
import ray
from raytune_hpo import cluster

cluster.connect(None)

@ray.remote
def skips_worker_exit():
    return getattr(sys.unraisablehook, "_skips_worker_exit", False)

print(ray.get(skips_worker_exit.remote()))
ray.shutdown()
"""


def test_workers_of_a_local_instance_stop_without_a_traceback() -> None:
    """Every worker the toolkit's local Ray starts quiets Ray's SIGTERM before any trial runs.

    A subprocess, because this test session already holds a Ray instance of its own.
    """
    probe = subprocess.run(
        [sys.executable, "-c", WORKER_HOOK_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert probe.stdout.strip().splitlines()[-1] == "True", probe.stdout
