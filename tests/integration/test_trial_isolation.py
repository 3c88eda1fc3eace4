"""Each trial in its own files, user code from any folder, and runs that fail fail loudly.

Real subprocesses for the command line and the commands, a real Ray: the session's shared one
for Tuner-level runs, the command line's own where the console and exit code are the subject.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ray import tune

from raytune_hpo.adapters.command.command_trainable import train_command
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.adapters.command.workdir import WORK_FOLDER
from tests.helpers.running import run_cli

pytestmark = pytest.mark.integration

WRITER = r"""
import argparse, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
args = parser.parse_args()
scale = float(Path("data/scale.txt").read_text())  # a relative read of the code folder
for epoch in range(1, 3):
    Path("model.txt").write_text(f"lr={args.lr} epoch={epoch}")  # the same relative file
    Path("lightning_logs").mkdir(exist_ok=True)
    print(f"epoch={epoch} loss={scale * args.lr / epoch}", flush=True)
"""


def test_trials_writing_the_same_relative_file_each_keep_their_own(
    ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    code = tmp_path / "code"
    (code / "data").mkdir(parents=True)
    (code / "data" / "scale.txt").write_text("2.0")
    (code / "lightning_logs").mkdir()  # left by a run by hand: not shared with the trials
    (code / "train.py").write_text(WRITER)
    spec = CommandSpec(command=[sys.executable, "train.py", "${args}"], workdir=str(code))
    tuner = tune.Tuner(
        tune.with_resources(
            tune.with_parameters(train_command, spec=spec, metric="loss"), {"cpu": 0.5}
        ),
        param_space={"lr": tune.grid_search([0.1, 0.2, 0.3])},
        tune_config=tune.TuneConfig(metric="loss", mode="min", reuse_actors=True),
        run_config=tune.RunConfig(name="exp", storage_path=str(tmp_path / "results"), verbose=0),
    )
    results = tuner.fit()
    assert not results.errors, results.errors
    written = {}
    for result in results:
        assert result.metrics["loss"] == pytest.approx(2.0 * result.config["lr"] / 2)
        work = Path(result.path, WORK_FOLDER)
        written[result.config["lr"]] = (work / "model.txt").read_text()
        assert (work / "lightning_logs").is_dir() and not (work / "lightning_logs").is_symlink()
        assert not (work / "data").exists() and not (work / "train.py").exists()  # links gone
    assert written == {lr: f"lr={lr} epoch=2" for lr in (0.1, 0.2, 0.3)}
    assert not (code / "model.txt").exists()
    assert sorted(p.name for p in code.iterdir()) == ["data", "lightning_logs", "train.py"]


NEIGHBOUR = "def score(x):\n    return (x - 2) ** 2\n"
FUNCTION = """
from ray import tune
from scoring import score


def train_fn(config):
    for step in range(3):
        tune.report({"loss": score(config["x"]) + 1 / (step + 1)})
"""


def _experiment_file(
    tmp_path: Path, name: str, trainable: Any, metric: str, **changes: Any
) -> Path:
    """A YAML file of a small experiment (3 epochs, 2 trials unless ``changes`` say otherwise)."""
    config = {
        "name": name,
        "trainable": trainable,
        "metric": metric,
        "mode": "min",
        "max_epochs": 3,
        "num_samples": 2,
        "search_space": {"x": {"uniform": [0, 4]}},
        "resources_per_trial": {"cpu": 1},
        "storage_path": str(tmp_path / "results"),
        **changes,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _function_experiment(tmp_path: Path, code: Path, name: str) -> Path:
    return _experiment_file(tmp_path, name, f"{code.name}/tune_fn.py:train_fn", "loss")


def test_a_file_trainable_imports_its_neighbour_from_any_folder(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "scoring.py").write_text(NEIGHBOUR)
    (code / "tune_fn.py").write_text(FUNCTION)
    config = _function_experiment(tmp_path, code, "neighbour")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checked = run_cli("validate", str(config), cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    run = run_cli("run", str(config), cwd=elsewhere)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "ModuleNotFoundError" not in run.stdout + run.stderr
    assert "best trial " in run.stdout


def test_validate_names_a_module_a_worker_cannot_import_in_one_line(tmp_path: Path) -> None:
    code, library = tmp_path / "code", tmp_path / "library"
    code.mkdir()
    library.mkdir()
    (library / "scoring.py").write_text(NEIGHBOUR)  # found only through the file's own sys.path
    (code / "tune_fn.py").write_text(
        f"import sys\nsys.path.insert(0, {str(library)!r})\n" + FUNCTION
    )
    config = _function_experiment(tmp_path, code, "unreachable")
    checked = run_cli("validate", str(config), cwd=tmp_path)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    lines = checked.stderr.strip().splitlines()
    assert len(lines) == 1, checked.stderr
    assert str(config) in lines[0] and "trainable" in lines[0]
    assert "a Ray worker could not load it" in lines[0] and "'scoring'" in lines[0]


SILENT = r"""
import sys, time
print("loading data", flush=True)
for step in range(3):
    print(f"step={step} train_loss={1 / (step + 1)}", flush=True)
    time.sleep(0.1)
print("\x1b[32m 100%|##########| 3/3 [00:00<00:00, 9.1it/s]\x1b[0m", file=sys.stderr)
"""


def test_a_command_that_never_reports_its_metric_fails_fast_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SILENT)
    command = {"command": "python train.py ${args}"}
    path = _experiment_file(tmp_path, "silent", command, "val_loss", num_samples=12)
    started = time.monotonic()
    run = run_cli("run", str(path), cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("raytune-hpo: error:")]
    assert len(errors) == 1, run.stderr
    assert "the first 3 trials failed before their first report" in errors[0]
    assert "'val_loss'" in errors[0] and "train_loss" in errors[0]  # wanted, and what was seen
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "= None" not in output and "best trial" not in output
    assert "\x1b[" not in output and "it/s" not in output  # no progress-bar fragments
    assert "loading data" not in run.stdout  # the trials' output stays in their files
    ran = list((tmp_path / "results" / "silent").glob("train_command_*/stdout.log"))
    assert 3 <= len(ran) < 12, elapsed  # stopped before it ran every trial
    assert Path(errors[0].rpartition("(log: ")[2].rstrip(")")).is_file(), errors[0]
