"""What a command trial leaves for the person who runs it, on a real Ray with real scripts.

- A command that fails names its last stderr line in its error's first line (issue 30, 7).
- A command that never writes ``$RAYTUNE_HPO_CHECKPOINT_DIR`` gets no checkpoint warning, even
  when it runs ahead of the reading; one that writes it does; reports that one read of
  TensorBoard files finds together go without one (9).
- Each trial's ``command.sh`` runs its command again by hand, with the same arguments (12).
- A PBT run of a script that keeps no state warns once that its trials start over, and the
  summary counts the restarts (10).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ray import tune

from raytune_hpo.adapters.command.command_trainable import train_command
from raytune_hpo.adapters.command.reporting import STDOUT_LOG
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.analysis.restart_counts import count_restarts
from raytune_hpo.config import validate_config
from raytune_hpo.console.summary import print_summary
from raytune_hpo.experiment.runner import run_experiment
from raytune_hpo.layout import COMMAND_FILE
from raytune_hpo.output_lines import TRIAL_WARNING_PREFIX

pytestmark = pytest.mark.integration

SCRIPT = r"""
import argparse, json, os, sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--mode", required=True)
parser.add_argument("--lr", type=float, required=True)
args = parser.parse_args()
if args.mode == "fail":
    print("epoch=1 loss=1.0", flush=True)
    parser.error(f"argument --lr: {args.lr} is too high")  # argparse: exit code 2
if args.mode == "state":
    state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"])
    (state / "tmp").write_text(json.dumps({"epoch": 4}))
    (state / "tmp").replace(state / "state.json")
# Every report at once: the reading finds the next ones already printed (it ran ahead).
sys.stdout.write("".join(f"epoch={e} loss={args.lr / e}\n" for e in range(1, 5)))
"""
SKIPPED = "has no checkpoint: the command had printed its next report"


def test_errors_warnings_and_the_command_left_in_each_trial_folder(
    ray_session: None, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = CommandSpec(command="python train.py ${args}", workdir=str(tmp_path))
    tuner = tune.Tuner(
        tune.with_resources(
            tune.with_parameters(train_command, spec=spec, metric="loss"), {"cpu": 0.5}
        ),
        param_space={"mode": tune.grid_search(["plain", "state", "fail"]), "lr": 0.5},
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(
            storage_path=str(tmp_path / "results"),
            verbose=0,
            log_to_file=True,  # the worker's stderr, where a trial's warnings go, in its folder
            sync_config=tune.SyncConfig(sync_artifacts=True),
        ),
    )
    results = {result.config["mode"]: result for result in tuner.fit()}

    # 7: the error's first line says why the command failed.
    failed = results["fail"]
    (first,) = [line for line in str(failed.error).splitlines() if "CommandError: " in line]
    assert first.endswith(
        "CommandError: command exited with code 2: train.py: error: argument --lr: 0.5 is too "
        "high (command: python train.py ${args})"
    ), first

    # 9: a warning only where the command wrote a state the report could not take.
    def warnings(mode: str) -> list[str]:
        stderr = Path(results[mode].path, "stderr").read_text()
        return [line for line in stderr.splitlines() if line.startswith(TRIAL_WARNING_PREFIX)]

    assert results["plain"].error is None and results["state"].error is None
    assert warnings("plain") == []
    (warning,) = warnings("state")
    assert SKIPPED in warning and "report 1 " in warning

    # 12: command.sh runs each trial's command again, by hand, from any folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for mode in ("plain", "state", "fail"):
        result = results[mode]
        rerun = subprocess.run(
            ["sh", str(Path(result.path, COMMAND_FILE))],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rerun.stdout == Path(result.path, STDOUT_LOG).read_text(), mode
        assert rerun.returncode == (2 if mode == "fail" else 0), rerun.stderr
    assert first.endswith(rerun.stderr.splitlines()[-1] + " (command: python train.py ${args})")


TENSORBOARD = r"""
import json, os
from pathlib import Path
from tensorboardX import SummaryWriter

state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"])
writer = SummaryWriter("logs")
for epoch in range(1, 5):  # faster than the reads of the event files: one read finds them all
    writer.add_scalar("loss", 1 / epoch, epoch)
    writer.flush()
    (state / "tmp").write_text(json.dumps({"epoch": epoch}))
    (state / "tmp").replace(state / "state.json")
writer.close()
"""


def test_tensorboard_reports_one_read_finds_together_go_without_a_warning(
    ray_session: None, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(TENSORBOARD)
    spec = CommandSpec(
        command="python train.py", workdir=str(tmp_path), metrics={"format": "tensorboard"}
    )
    (result,) = tune.Tuner(
        tune.with_resources(
            tune.with_parameters(train_command, spec=spec, metric="loss"), {"cpu": 0.5}
        ),
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(
            storage_path=str(tmp_path / "results"),
            verbose=0,
            log_to_file=True,
            sync_config=tune.SyncConfig(sync_artifacts=True),
        ),
    ).fit()
    assert result.error is None and result.metrics["training_iteration"] == 4
    assert TRIAL_WARNING_PREFIX not in Path(result.path, "stderr").read_text()
    # The last report of the read carries the state, as the script wrote it last.
    assert json.loads(Path(result.checkpoint.path, "state.json").read_text()) == {"epoch": 4}


NO_STATE = r"""
import argparse, time
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
args = parser.parse_args()
for epoch in range(1, 4):
    time.sleep(0.05)
    print(f"epoch={epoch} loss={abs(args.lr - 0.5) + 1 / epoch}", flush=True)
"""


def test_pbt_of_a_script_without_state_warns_once_and_the_summary_counts_restarts(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Three trials of one CPU on two: the third waits, so PBT pauses a trial at its first
    # perturbation (iteration 2) to let it run; without a checkpoint, that trial starts over.
    (tmp_path / "train.py").write_text(NO_STATE)
    raw: dict[str, Any] = {
        "name": "no_state_pbt",
        "trainable": {"command": "python train.py ${args}", "workdir": str(tmp_path)},
        "metric": "loss",
        "mode": "min",
        "max_epochs": 3,
        "num_samples": 3,
        "seed": 0,
        "search_space": {"lr": {"uniform": [0.1, 0.9]}},
        "scheduler": {
            "name": "pbt",
            "perturbation_interval": 2,
            "hyperparam_mutations": {"lr": {"uniform": [0.1, 0.9]}},
        },
        "resources_per_trial": {"cpu": 1},
        "storage_path": str(tmp_path / "results"),
    }
    outcome = run_experiment(validate_config(raw))
    said = capsys.readouterr()
    restarts = [
        line for line in said.err.splitlines() if line.startswith(TRIAL_WARNING_PREFIX + "trial")
    ]
    restarts = [line for line in restarts if "started over from scratch" in line]
    assert len(restarts) == 1, said.err
    assert "$RAYTUNE_HPO_CHECKPOINT_DIR" in restarts[0] and "state contract" in restarts[0]

    counts = count_restarts(outcome.path)
    assert counts and all(count >= 1 for count in counts.values())
    for trial in Path(outcome.path).glob("*/result.json"):  # the reports Ray kept
        reports = [json.loads(line) for line in trial.read_text().splitlines() if line]
        starts = sum(report["training_iteration"] == 1 for report in reports)
        assert counts.get(reports[0]["trial_id"], 0) == starts - 1
    print_summary(outcome.path)
    total = sum(counts.values())
    assert f"restarts from scratch (no checkpoint to continue from): {total} in " in (
        capsys.readouterr().out
    )
