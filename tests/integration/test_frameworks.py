"""Unchanged framework scripts (Lightning, Hugging Face ``Trainer``, XGBoost) tuned with ASHA.

Each test runs one config of ``configs/frameworks/`` through the command line, made tiny with
``--set``: four trials of four epochs (rounds), two at a time, on a grid of learning rates whose
first two values learn and last two barely move. A third trial starts only when one of the first
two ends, after it recorded its epoch 1 at ASHA's first rung, so the two poor trials are always
stopped there, whatever the timing.

The frameworks are required (``make test`` installs them): a missing one fails its test.
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from raytune_hpo.analysis.results import Experiment, load_experiment
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs" / "frameworks"
CODE = ROOT / "experiments" / "frameworks"
EPOCHS = 4
RUNGS = (1, 2)
"""ASHA's milestones for grace period 1, reduction factor 2 and ``max_t`` of ``EPOCHS``."""
TRIALS = 4
LINES_PER_TRIAL = 6
"""Console lines a trial may cost (started, stopped or finished, progress), beside the
header and the final summary (``CONSOLE_ALLOWANCE``)."""
CONSOLE_ALLOWANCE = 25
COMMON = (
    "num_samples=1",
    f"max_epochs={EPOCHS}",
    "max_concurrent_trials=2",
    "seed=0",
)


@dataclass(frozen=True)
class Case:
    """One framework's config and its overrides for a tiny run.

    Attributes:
        config: The YAML file under ``configs/frameworks/``.
        metric: The experiment's metric.
        rate: The learning-rate hyperparameter, set to a grid of two good and two poor values.
        grid: Its values, good ones first.
        overrides: Constants that make the run tiny.
    """

    config: str
    metric: str
    rate: str
    grid: tuple[float, ...]
    overrides: tuple[str, ...]


CASES = {
    "lightning": Case(
        config="lightning_asha.yaml",
        metric="val_loss",
        rate="lr",
        grid=(0.01, 0.003, 1.0e-5, 1.0e-6),
        overrides=(
            "search_space.hidden_size=32",
            "search_space.dropout=0.0",
            "search_space.batch_size=64",
            f"search_space.max_epochs={EPOCHS}",
        ),
    ),
    "hf_trainer": Case(
        config="hf_trainer_asha.yaml",
        metric="eval_loss",
        rate="learning_rate",
        grid=(0.003, 0.003, 1.0e-6, 1.0e-6),
        overrides=(
            "search_space.per_device_train_batch_size=16",
            "search_space.weight_decay=0.0",
            f"search_space.num_train_epochs={EPOCHS}",
            "search_space.train_size=1000",
        ),
    ),
    "xgboost": Case(
        config="xgboost_asha.yaml",
        metric="val-logloss",
        rate="eta",
        grid=(0.3, 0.2, 0.001, 0.0005),
        overrides=(
            "search_space.max_depth=3",
            "search_space.min_child_weight=1.0",
            "search_space.subsample=1.0",
            f"search_space.num_boost_round={EPOCHS}",
        ),
    ),
}


def code_folder_entries() -> set[str]:
    """What the scripts' folder holds, less Python's byte-code cache."""
    return {entry.name for entry in CODE.iterdir() if entry.name != "__pycache__"}


def tune_framework(name: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``name``'s config through the command line, tiny; the result and experiment folder."""
    case = CASES[name]
    storage = tmp_path / "results"
    grid = ", ".join(f"{value:.1e}" for value in case.grid)  # 1.0e-05: a float to YAML
    overrides = (*COMMON, f"search_space.{case.rate}={{grid: [{grid}]}}", *case.overrides)
    args = ["run", str(CONFIGS / case.config), "--storage-path", str(storage), "--name", name]
    for override in overrides:
        args += ["--set", override]
    return run_cli(*args, timeout=240, cwd=tmp_path), storage / name


def trial_reports(experiment: Experiment, trial_id: str) -> pd.DataFrame:
    """A trial's reports in order."""
    reports = experiment.reports
    return reports[reports["trial_id"] == trial_id].sort_values("training_iteration")


def tensorboard_values(trial_dir: Path, tag: str) -> list[float]:
    """The values of ``tag`` in the event files below a trial folder, by step."""
    points: list[tuple[int, float]] = []
    for events in sorted(trial_dir.rglob("events.out.tfevents.*")):
        for event in EventFileLoader(str(events)).Load():
            for value in event.summary.value:
                if value.tag == tag:
                    number = (
                        value.tensor.float_val[0] if value.tensor.float_val else value.simple_value
                    )
                    points.append((event.step, float(number)))
    return [number for _, number in sorted(points)]


def printed_dicts(trial_dir: Path, key: str) -> list[float]:
    """The values of ``key`` in the Python dicts a trial printed (Hugging Face's log lines)."""
    values = []
    for line in (trial_dir / "stdout.log").read_text().splitlines():
        if line.startswith("{") and f"'{key}'" in line:
            values.append(float(ast.literal_eval(line)[key]))
    return values


def printed_rounds(trial_dir: Path, name: str) -> list[float]:
    """The values of ``name`` in XGBoost's per-round lines, ``[3]\\tval-logloss:0.21618``."""
    pattern = re.compile(rf"^\[\d+\].*\t{re.escape(name)}:([-+.\de]+)")
    lines = (trial_dir / "stdout.log").read_text().splitlines()
    return [float(match[1]) for line in lines if (match := pattern.match(line))]


OWN_RECORD = {
    "lightning": lambda trial_dir: tensorboard_values(trial_dir, "val_loss"),
    "hf_trainer": lambda trial_dir: printed_dicts(trial_dir, "eval_loss"),
    "xgboost": lambda trial_dir: printed_rounds(trial_dir, "val-logloss"),
}
"""Each framework's own per-epoch record of the metric, read from a trial folder."""


def check_asha_run(name: str, tmp_path: Path) -> Experiment:
    """Run ``name`` and check what every framework must give; the experiment, for more checks."""
    case = CASES[name]
    before = code_folder_entries()
    result, folder = tune_framework(name, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    experiment = load_experiment(folder)
    trials = experiment.trials
    assert len(trials) == TRIALS, trials
    assert (trials["status"] == "TERMINATED").all(), trials[["trial_id", "status"]]
    assert (trials["num_failures"] == 0).all() and trials["error_file"].isna().all(), trials

    epochs: dict[float, list[int]] = {}
    for trial in trials.itertuples():
        reports = trial_reports(experiment, trial.trial_id)
        ran = len(reports)
        assert reports["training_iteration"].tolist() == list(range(1, ran + 1)), trial
        # ASHA stops a trial only at a milestone; a trial it never stops reports every epoch.
        assert ran == EPOCHS or ran in RUNGS, (trial.trial_id, ran)
        # Every report is the epoch the framework recorded, in order, none skipped or repeated.
        own = OWN_RECORD[name](Path(trial.trial_dir))
        assert len(own) >= ran, (trial.trial_id, own, reports[case.metric].tolist())
        if ran == EPOCHS:
            assert len(own) == EPOCHS, (trial.trial_id, own)
        assert reports[case.metric].tolist() == pytest.approx(own[:ran], rel=1e-6)
        epochs.setdefault(trial.config[case.rate], []).append(ran)

    # A poor rate reaches the first rung after a good one recorded a better value there.
    for rate in case.grid[2:]:
        assert epochs[rate] == [RUNGS[0]] * case.grid.count(rate), epochs
    assert any(ran == EPOCHS for runs in epochs.values() for ran in runs), epochs

    console = result.stdout.splitlines()
    assert len(console) <= LINES_PER_TRIAL * TRIALS + CONSOLE_ALLOWANCE, result.stdout
    assert code_folder_entries() == before, "trials wrote into the scripts' folder"
    # A trial folder keeps what its command wrote, not links into the scripts' folder.
    links = [path for path in folder.rglob("*") if path.is_symlink()]
    assert not links, links
    return experiment


def test_lightning_script_reports_every_epoch_from_tensorboard(tmp_path: Path) -> None:
    experiment = check_asha_run("lightning", tmp_path)
    for trial_dir in experiment.trials["trial_dir"]:
        assert list(Path(trial_dir).rglob("lightning_logs/version_*/events.out.tfevents.*"))


def test_hf_trainer_script_reports_its_printed_evaluations(tmp_path: Path) -> None:
    check_asha_run("hf_trainer", tmp_path)


def test_xgboost_script_reports_rounds_and_keeps_each_model(tmp_path: Path) -> None:
    experiment = check_asha_run("xgboost", tmp_path)
    for trial in experiment.trials.itertuples():
        if len(trial_reports(experiment, trial.trial_id)) < EPOCHS:
            continue  # stopped by ASHA: its script was ended before it saved
        # A script that ran to its end saved its whole model in its trial's own folder.
        models = list(Path(trial.trial_dir).rglob("model.json"))
        assert len(models) == 1, (trial.trial_id, models)
        assert xgb.Booster(model_file=str(models[0])).num_boosted_rounds() == EPOCHS
